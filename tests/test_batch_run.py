"""The local engine end to end: same results as ``score_documents``, every format, errors, resume, the CLI."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from narrascope.batch.cli import register
from narrascope.batch.records import FieldMap
from narrascope.batch.run import ScoreSettings, score_feed
from narrascope.batch.writers import read_output
from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.documents import Document, ScoringOptions, score_documents
from narrascope.training.tiny import SAMPLE_SENTENCES

SENTENCES = [
    *SAMPLE_SENTENCES,
    "Eight brigades are being massed along the border with Russia, anonymous channels claim.",
    "Foreigners will be allowed to enlist in the new units, one post insisted.",
]
SCORE_KEYS = ("id", "language", "labels", "scores", "risk", "evidence", "n_sentences")


def make_articles(count: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {"id": f"art-{i:04d}", "text": " ".join(rng.sample(SENTENCES, rng.randint(1, 5))), "outlet": f"o{i % 3}"}
        for i in range(count)
    ]


def write_jsonl(path: Path, rows: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows] + list(extra_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def settings(input_path: Path | str, output_path: Path | str, **overrides: Any) -> ScoreSettings:
    return ScoreSettings(input=str(input_path), output=str(output_path), progress=False, **overrides)


def core(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in SCORE_KEYS}


def direct(classifier: NarrativeClassifier, articles: list[dict[str, Any]], batch_size: int) -> list[dict[str, Any]]:
    """What the service path gives for the same documents, batched the same way."""
    options = ScoringOptions(include_sentences=False, evidence_per_label=3)
    docs = [Document(a["id"], a["text"]) for a in articles]
    out: list[dict[str, Any]] = []
    for start in range(0, len(docs), batch_size):
        out.extend(r.to_dict() for r in score_documents(classifier, docs[start : start + batch_size], options))
    return out


@pytest.fixture(scope="module")
def articles() -> list[dict[str, Any]]:
    return make_articles(23)


def test_output_equals_score_documents(
    tmp_path: Path, tiny_classifier: NarrativeClassifier, articles: list[dict[str, Any]]
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", articles)
    summary = score_feed(settings(source, tmp_path / "out.jsonl", batch_size=5), tiny_classifier)
    rows = read_output(str(tmp_path / "out.jsonl"))
    assert [core(r) for r in rows] == [core(r) for r in direct(tiny_classifier, articles, 5)]
    # Cross-document batching does not change results beyond float noise: same labels in one big call.
    assert [r["labels"] for r in rows] == [r["labels"] for r in direct(tiny_classifier, articles, 1000)]
    first = rows[0]
    assert list(first)[:2] == ["id", "outlet"] and first["outlet"] == "o0"
    assert first["model"] == {"name": tiny_classifier.info.name, "version": tiny_classifier.info.version}
    for row, article in zip(rows, articles, strict=True):
        for items in row["evidence"].values():
            for item in items:
                assert article["text"][item["start"] : item["end"]] == item["text"]
    assert (summary.scored, summary.failed, summary.skipped, summary.duplicates) == (23, 0, 0, 0)
    assert summary.sentences == sum(r["n_sentences"] for r in rows)
    assert summary.docs_per_second > 0 and summary.sentences_per_second > 0
    assert not (tmp_path / "out.jsonl.errors.jsonl").exists()


def _write_inputs(folder: Path, articles: list[dict[str, Any]]) -> dict[str, Path]:
    paths = {"jsonl": write_jsonl(folder / "in.jsonl", articles)}
    with (folder / "in.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "outlet"])
        writer.writeheader()
        writer.writerows(articles)
    paths["csv"] = folder / "in.csv"
    pq.write_table(pa.Table.from_pylist(articles), folder / "in.parquet")
    paths["parquet"] = folder / "in.parquet"
    pages = folder / "pages"
    pages.mkdir()
    for article in articles:
        (pages / f"{article['id']}.txt").write_text(article["text"], encoding="utf-8")
    paths["text"] = pages
    return paths


def test_every_input_format_scores_the_same(
    tmp_path: Path, tiny_classifier: NarrativeClassifier, articles: list[dict[str, Any]]
) -> None:
    expected = {r["id"]: core(r) for r in direct(tiny_classifier, articles, 8)}
    for fmt, path in _write_inputs(tmp_path, articles).items():
        out = tmp_path / f"from-{fmt}.jsonl"
        score_feed(settings(path, out, batch_size=8), tiny_classifier)
        rows = read_output(str(out))
        if fmt == "text":
            for row in rows:
                row["id"] = row["id"].removesuffix(".txt")
        assert {r["id"]: core(r) for r in rows} == expected, fmt
        if fmt != "text":
            assert all(r["outlet"] for r in rows)


def test_feeds_and_stdin(
    tmp_path: Path,
    tiny_classifier: NarrativeClassifier,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    articles: list[dict[str, Any]],
) -> None:
    items = "".join(
        f"<item><title>Title {i}</title><guid>urn:{a['id']}</guid><description>{a['text']}</description></item>"
        for i, a in enumerate(articles[:4])
    )
    feed = tmp_path / "wire.rss"
    feed.write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>', encoding="utf-8"
    )
    score_feed(settings(feed, tmp_path / "feed.jsonl"), tiny_classifier)
    rows = read_output(str(tmp_path / "feed.jsonl"))
    texts = [f"Title {i}\n\n{a['text']}" for i, a in enumerate(articles[:4])]
    feed_docs = [{"id": f"urn:{a['id']}", "text": t} for a, t in zip(articles, texts, strict=False)]
    want = direct(tiny_classifier, feed_docs, 64)
    assert [core(r) for r in rows] == [core(r) for r in want]
    assert rows[0]["title"] == "Title 0" and rows[0]["feed"] == "W"

    stdin = io.BytesIO("\n".join(json.dumps(a) for a in articles[:3]).encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin))
    summary = score_feed(settings("-", "-"), tiny_classifier)
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in printed] == [a["id"] for a in articles[:3]] and summary.scored == 3


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_every_output_format(
    tmp_path: Path, tiny_classifier: NarrativeClassifier, articles: list[dict[str, Any]], fmt: str
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", articles)
    out = tmp_path / f"out.{fmt}"
    score_feed(settings(source, out, batch_size=6), tiny_classifier)
    rows = read_output(str(out))
    assert [core(r) for r in rows] == [core(r) for r in direct(tiny_classifier, articles, 6)]
    assert all(r["outlet"] == a["outlet"] for r, a in zip(rows, articles, strict=True))


def test_bad_records_go_to_the_error_file(
    tmp_path: Path, tiny_classifier: NarrativeClassifier, articles: list[dict[str, Any]]
) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl",
        articles[:5],
        ('{"id": "broken", "text": "unterminated', '{"id": "no-text"}', json.dumps(articles[0])),
    )
    summary = score_feed(settings(source, tmp_path / "out.jsonl", batch_size=2), tiny_classifier)
    assert (summary.scored, summary.failed, summary.duplicates) == (5, 2, 1)
    assert [r["id"] for r in read_output(str(tmp_path / "out.jsonl"))] == [a["id"] for a in articles[:5]]
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert errors[0] == {"id": None, "location": f"{source}:6", "reason": errors[0]["reason"]} and errors[0][
        "reason"
    ].startswith("malformed JSON line")
    assert errors[1]["id"] == "no-text" and errors[1]["reason"].startswith("no text")
    assert errors[2]["id"] == articles[0]["id"] and errors[2]["reason"].startswith("duplicate id")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_resume_after_a_partial_run(
    tmp_path: Path, tiny_classifier: NarrativeClassifier, articles: list[dict[str, Any]], fmt: str
) -> None:
    # The killed run stops on a batch boundary (8 = 2 x 4), so the resumed batches hold the same documents as a
    # fresh run's: padding differs with batch composition, and the tiny random model's near-tied evidence scores
    # would otherwise reorder on float noise that says nothing about resume.
    full = write_jsonl(tmp_path / "full.jsonl", articles)
    part = write_jsonl(tmp_path / "part.jsonl", articles[:8])
    out = tmp_path / f"out.{fmt}"
    score_feed(settings(part, out, batch_size=4), tiny_classifier)
    with pytest.raises(FileExistsError):
        score_feed(settings(full, out, batch_size=4), tiny_classifier)
    summary = score_feed(settings(full, out, batch_size=4, resume=True), tiny_classifier)
    assert (summary.skipped, summary.scored) == (8, 15)
    rows = read_output(str(out))
    assert sorted(r["id"] for r in rows) == sorted(a["id"] for a in articles)  # all present, none twice
    fresh = tmp_path / f"fresh.{fmt}"
    score_feed(settings(full, fresh, batch_size=4), tiny_classifier)
    by_id = {r["id"]: core(r) for r in read_output(str(fresh))}
    assert {r["id"]: core(r) for r in rows} == by_id


def test_a_job_that_fails_before_its_first_row_can_simply_be_rerun(
    tmp_path: Path, tiny_classifier: NarrativeClassifier
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,body\na,Some text.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with pytest.raises(ValueError, match="no 'text' column"):
        score_feed(settings(source, out), tiny_classifier)
    summary = score_feed(settings(source, out, fields=FieldMap("id", "body")), tiny_classifier)
    assert summary.scored == 1 and [r["id"] for r in read_output(str(out))] == ["a"]


def test_force_overwrites(tmp_path: Path, tiny_classifier: NarrativeClassifier, articles: list[dict[str, Any]]) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", articles[:3])
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old"}\n', encoding="utf-8")
    score_feed(settings(source, out, force=True), tiny_classifier)
    assert [r["id"] for r in read_output(str(out))] == [a["id"] for a in articles[:3]]


def test_settings_validate() -> None:
    with pytest.raises(ValueError, match="batch size must be at least 1, got 0"):
        ScoreSettings(input="a.jsonl", output="b.jsonl", batch_size=0)
    with pytest.raises(ValueError, match="--format"):
        ScoreSettings(input="a.jsonl", output="b.unknown")
    with pytest.raises(ValueError, match="unknown output format 'xml'; choose one of jsonl, csv, parquet"):
        ScoreSettings(input="a.jsonl", output="b.jsonl", output_format="xml")
    with pytest.raises(ValueError, match="unknown input format 'xls'"):
        ScoreSettings(input="a.jsonl", output="b.jsonl", input_format="xls")
    with pytest.raises(ValueError, match="different fields"):
        FieldMap("text", "text")
    assert ScoreSettings(input="a.jsonl", output="o.parquet").errors_path == "o.parquet.errors.jsonl"
    assert ScoreSettings(input="a.jsonl", output="-").errors_path is None


def score_argv(source: Path, out: Path, model: Path, *extra: str) -> list[str]:
    """``narrascope score`` arguments with one torch thread, so tests do not fight over the cores."""
    return ["score", "--input", str(source), "--output", str(out), "--model", str(model), "--threads", "1", *extra]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_cli(
    tmp_path: Path, tiny_model_dir: Path, articles: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", articles[:4])
    out = tmp_path / "scores.csv"
    argv = score_argv(source, out, tiny_model_dir, "--no-progress", "--summary-json", str(tmp_path / "summary.json"))
    args = _parse(argv)
    assert args.handler(args) == 0
    assert "scored 4 documents" in capsys.readouterr().err
    assert json.loads((tmp_path / "summary.json").read_text())["scored"] == 4
    assert len(read_output(str(out))) == 4
    again = _parse(argv)
    with pytest.raises(FileExistsError, match="--force"):
        again.handler(again)
    forced = _parse([*argv, "--force"])
    assert forced.handler(forced) == 0
    with pytest.raises(SystemExit):
        _parse([*argv, "--force", "--resume"])
    nothing = write_jsonl(tmp_path / "bad.jsonl", [], ("not json",))
    failing = _parse(
        [
            "score",
            "--input",
            str(nothing),
            "--output",
            str(tmp_path / "o.jsonl"),
            "--model",
            str(tiny_model_dir),
            "--no-progress",
        ]
    )
    assert failing.handler(failing) == 1


def test_cli_is_wired_into_narrascope() -> None:
    from narrascope.cli import build_parser

    args = build_parser().parse_args(["score", "--input", "a.jsonl", "--output", "b.jsonl"])
    assert args.handler.__name__ == "cmd_score" and args.engine == "local"


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", make_articles(1))
    with pytest.raises(FileNotFoundError, match="--model"):
        score_feed(settings(source, tmp_path / "o.jsonl", model=tmp_path / "nothing"))


_RUNNER = """
import argparse, sys
from narrascope.batch.cli import register
parser = argparse.ArgumentParser()
register(parser.add_subparsers())
args = parser.parse_args(sys.argv[1:])
sys.exit(args.handler(args))
"""


def test_resume_after_a_killed_process(
    tmp_path: Path, tiny_model_dir: Path, tiny_classifier: NarrativeClassifier
) -> None:
    articles = make_articles(600, seed=1)
    source = write_jsonl(tmp_path / "in.jsonl", articles)
    out = tmp_path / "out.jsonl"
    command = [
        sys.executable,
        "-c",
        _RUNNER,
        *score_argv(source, out, tiny_model_dir, "--batch-size", "1", "--no-progress"),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 5:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    written = out.read_bytes().count(b"\n")
    assert 5 <= written < len(articles), "the job was not killed part-way (it finished or never wrote)"
    summary = score_feed(settings(source, out, batch_size=32, resume=True), tiny_classifier)
    rows = read_output(str(out))
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == len(articles)
    assert summary.skipped >= 5 and summary.skipped + summary.scored == len(articles)
    expected = {r["id"]: core(r) for r in direct(tiny_classifier, articles, 32)}
    assert {r["id"]: r["labels"] for r in rows} == {k: v["labels"] for k, v in expected.items()}
