"""A batch job proves it can write its output and error file before it loads the model, and a failed job
leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrascope.batch import run
from narrascope.batch.preflight import UnwritableTargetError, check_creatable
from narrascope.batch.run import ScoreSettings, score_feed


def feed(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    rows = [{"id": "a", "text": "Kazakhstan is not preparing for war."}, {"id": "b", "text": ""}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture()
def model_never_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record any attempt to load the model: a refused job must not have got that far."""
    loads: list[str] = []

    def refuse(settings: ScoreSettings) -> None:
        loads.append(str(settings.model))
        raise AssertionError("the model was loaded before the targets were checked")

    monkeypatch.setattr(run, "load_classifier", refuse)
    return loads


def test_errors_file_in_a_missing_folder_fails_before_the_model_loads(
    tmp_path: Path, tiny_model_dir: Path, model_never_loads: list[str]
) -> None:
    errors = tmp_path / "nowhere" / "bad.jsonl"
    out = tmp_path / "out.jsonl"
    job = ScoreSettings(input=str(feed(tmp_path)), output=str(out), errors=str(errors), model=tiny_model_dir)
    with pytest.raises(FileNotFoundError, match=r"--errors file .*nowhere/bad\.jsonl: the folder .*nowhere"):
        score_feed(job)
    assert model_never_loads == [] and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize("name", ["out.jsonl", "out.csv", "out.parquet"])
def test_output_in_a_missing_folder_is_named_before_the_model_loads(
    tmp_path: Path, tiny_model_dir: Path, model_never_loads: list[str], name: str
) -> None:
    out = tmp_path / "missing" / name
    job = ScoreSettings(input=str(feed(tmp_path)), output=str(out), model=tiny_model_dir)
    with pytest.raises(FileNotFoundError, match=rf"^output .*missing/{name}: the folder"):
        score_feed(job)
    assert model_never_loads == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize("name", ["out.jsonl", "out.csv", "out.parquet"])
def test_a_job_that_fails_after_the_checks_leaves_nothing_behind(tmp_path: Path, name: str) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    job = ScoreSettings(input=str(feed(tmp_path)), output=str(tmp_path / name), model=broken)
    with pytest.raises(Exception):  # noqa: B017 - whatever the loader raises, the point is what is left
        score_feed(job)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken-model", "in.jsonl"]


def test_errors_file_may_not_be_the_output(tmp_path: Path, tiny_model_dir: Path) -> None:
    out = tmp_path / "out.jsonl"
    job = ScoreSettings(input=str(feed(tmp_path)), output=str(out), errors=str(out), model=tiny_model_dir)
    with pytest.raises(UnwritableTargetError, match="is the output file"):
        score_feed(job)


def test_targets_under_a_file_or_of_the_wrong_kind_are_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UnwritableTargetError, match=r"output .*a-file/out\.jsonl: .*a-file is not a folder"):
        check_creatable(str(blocker / "out.jsonl"), "output")
    with pytest.raises(UnwritableTargetError, match="is a folder; expected a file"):
        check_creatable(str(tmp_path), "output")
    with pytest.raises(UnwritableTargetError, match="is a file; expected a folder"):
        check_creatable(str(blocker), "output", folder_output=True)
    check_creatable(str(tmp_path / "parts.parquet"), "output", folder_output=True)
    check_creatable("-", "output")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # probes are removed


@pytest.mark.parametrize("name", ["out.jsonl", "out.csv", "out.parquet"])
def test_a_job_that_fails_before_its_first_row_creates_no_output(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the forward pass failed")

    monkeypatch.setattr(run, "score_records", crash)
    job = ScoreSettings(input=str(feed(tmp_path)), output=str(tmp_path / name), model=tiny_model_dir, progress=False)
    with pytest.raises(RuntimeError, match="forward pass failed"):
        score_feed(job)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", f"{name}.errors.jsonl"]  # the bad record
