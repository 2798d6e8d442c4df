"""``narrascope data ...`` end to end through the top-level ``main``, as a user runs it: the exit code, what is
printed, and what is (or is not) written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrascope import paths
from narrascope.cli import build_parser, main
from narrascope.dataset import cli
from narrascope.dataset.check import validate_rows
from narrascope.dataset.feedback_store import FeedbackStore
from narrascope.dataset.rows import load_sentences
from tests.datafactory import add_feedback, write_dataset

UNKNOWN_LANGUAGE_TEXT = "Some words in a language the dataset does not have."


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``narrascope ARGV``; an error exit is a code, not an exception."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ids_in(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_data_feedback_writes_valid_rows(
    filled_store: FeedbackStore, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "rows" / "feedback.jsonl"
    code, out, err = run(["data", "feedback", str(output), "--db", filled_store.url], capsys)
    assert (code, err) == (0, "")
    assert ids_in(output) == ["feedback-2", "feedback-3", "feedback-4", "feedback-6"]
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert validate_rows(rows, str(output)) == []
    assert f"wrote 4 feedback rows to {output}" in out
    assert "left out: feedback 5: document with 2 sentences" in out


def test_existing_output_is_kept_without_force(
    filled_store: FeedbackStore, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "feedback.jsonl"
    output.write_text("keep me\n", encoding="utf-8")
    code, _, err = run(["data", "feedback", str(output), "--db", filled_store.url], capsys)
    assert code == 2 and f"{output} exists; pass --force" in err
    assert output.read_text(encoding="utf-8") == "keep me\n"
    code, _, _ = run(["data", "feedback", str(output), "--db", filled_store.url, "--force"], capsys)
    assert code == 0 and len(ids_in(output)) == 4


def test_an_invalid_row_is_named_and_nothing_is_written(
    filled_store: FeedbackStore, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    add_feedback(filled_store, UNKNOWN_LANGUAGE_TEXT, [], lang="pl")
    output = tmp_path / "feedback.jsonl"
    code, out, err = run(["data", "feedback", str(output), "--db", filled_store.url], capsys)
    assert code == 2 and not output.exists()
    assert f"{output}:5 (feedback-7): bad language code 'pl'" in err, err
    # --force only allows overwriting; it does not let invalid rows through.
    output.write_text("keep me\n", encoding="utf-8")
    code, _, err = run(["data", "feedback", str(output), "--db", filled_store.url, "--force"], capsys)
    assert code == 2 and "(feedback-7)" in err and output.read_text(encoding="utf-8") == "keep me\n"


def test_skip_invalid_drops_and_names_the_bad_row(
    filled_store: FeedbackStore, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    add_feedback(filled_store, UNKNOWN_LANGUAGE_TEXT, [], lang="pl")
    output = tmp_path / "feedback.jsonl"
    code, out, err = run(["data", "feedback", str(output), "--db", filled_store.url, "--skip-invalid"], capsys)
    assert (code, err) == (0, "")
    assert "dropped feedback-7: bad language code 'pl'" in out
    assert ids_in(output) == ["feedback-2", "feedback-3", "feedback-4", "feedback-6"]


def test_a_missing_store_is_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "none.sqlite"
    code, _, err = run(["data", "feedback", str(tmp_path / "x.jsonl"), "--db", f"sqlite:///{missing}"], capsys)
    assert code == 2 and f"no feedback store at {missing}" in err
    assert not missing.exists() and not (tmp_path / "x.jsonl").exists()


def test_without_db_the_shared_default_store_is_read(
    filled_store: FeedbackStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv(paths.ENV_FEEDBACK_URL, filled_store.url)
    output = tmp_path / "from-env.jsonl"
    assert run(["data", "feedback", str(output)], capsys)[0] == 0 and len(ids_in(output)) == 4
    monkeypatch.delenv(paths.ENV_FEEDBACK_URL)
    monkeypatch.setenv(paths.ENV_HOME, str(tmp_path / "home"))
    code, _, err = run(["data", "feedback", str(tmp_path / "y.jsonl")], capsys)
    assert code == 2 and f"no feedback store at {tmp_path / 'home' / 'feedback.sqlite'}" in err


def test_data_commands_are_wired_and_feedback_export_is_gone() -> None:
    parser = build_parser()
    for argv, handler in (
        (["data", "check"], cli.cmd_data_check),
        (["data", "split"], cli.cmd_data_split),
        (["data", "import", "x.json", "--format", "doccano", "--output", "y.jsonl"], cli.cmd_data_import),
        (["data", "export", "--format", "doccano", "--output", "y.jsonl"], cli.cmd_data_export),
        (["data", "labelstudio-config"], cli.cmd_labelstudio_config),
        (["data", "feedback", "out.jsonl", "--force", "--skip-invalid"], cli.cmd_data_feedback),
    ):
        assert parser.parse_args(argv).handler is handler
    with pytest.raises(SystemExit):
        parser.parse_args(["feedback", "export", "out.jsonl"])


def test_export_import_and_check_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data_dir = write_dataset(tmp_path / "data")
    exported = tmp_path / "export.json"
    argv = ["data", "export", "--format", "labelstudio", "--split", "dev", "--lang", "kk"]
    argv += ["--data", str(data_dir), "--output", str(exported)]
    assert run(argv, capsys)[0] == 0
    code, _, err = run(argv, capsys)
    assert code == 2 and f"{exported} exists" in err
    imported = tmp_path / "kk.jsonl"
    code, out, _ = run(["data", "import", str(exported), "--format", "labelstudio", "--output", str(imported)], capsys)
    assert code == 0 and f"into {imported}" in out
    originals = [row.to_json() for row in load_sentences(data_dir) if row.split == "dev" and row.lang == "kk"]
    assert [json.loads(line) for line in imported.read_text(encoding="utf-8").splitlines()] == originals
    # The full rules fail on a toy dataset, and the check says so, file by file, with a non-zero exit.
    code, out, _ = run(["data", "check", "--data", str(data_dir)], capsys)
    assert code == 1 and "problem(s)" in out and f"{data_dir}: 96 sentences, need at least" in out


def test_check_prints_row_problems_as_file_line_reason(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data_dir = write_dataset(tmp_path / "data")
    path = data_dir / "sentences" / "ru.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"id": "broken"'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = run(["data", "check", "--data", str(data_dir)], capsys)
    assert code == 1 and f"\n{path}:3: invalid JSON" in out
