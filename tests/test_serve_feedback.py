"""Feedback is durable once acknowledged, validated against the model's labels, and exports as dataset rows."""

from __future__ import annotations

import argparse
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.dataset.feedback import ExportValidationError, export_feedback, feedback_rows
from narrascope.dataset.feedback_store import FeedbackRecord, FeedbackStore
from narrascope.serve.app import create_app
from narrascope.serve.cli import register
from narrascope.serve.testing import isolated_settings

SENTENCE = "The Ministry of Defense called the reports fake."


@pytest.fixture()
def store_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture()
def client(tiny_model_dir: Path, store_dir: Path) -> Iterator[TestClient]:
    with TestClient(
        create_app(isolated_settings(tiny_model_dir, store_dir)), base_url="http://127.0.0.1"
    ) as test_client:
        yield test_client


def rows_in(db: Path) -> list[sqlite3.Row]:
    """Read through a separate connection, as a crash-recovered process would."""
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM feedback ORDER BY id").fetchall()
    finally:
        connection.close()


def test_ack_means_committed(client: TestClient, store_dir: Path) -> None:
    body = {
        "kind": "sentence",
        "text": SENTENCE,
        "labels": ["reassurance"],
        "predicted": ["war_preparation"],
        "lang": "en",
        "document_id": "page",
        "start": 10,
        "end": 58,
        "note": "a rebuttal, not a claim",
    }
    response = client.post("/v1/feedback", json=body, headers={"X-Request-ID": "fb-1"})
    assert response.status_code == 201
    ack = response.json()
    assert ack["status"] == "stored"
    rows = rows_in(store_dir / "feedback.sqlite")  # checked before anything else happens
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == ack["id"] and row["text"] == SENTENCE and json.loads(row["labels"]) == ["reassurance"]
    assert json.loads(row["predicted"]) == ["war_preparation"] and row["note"] == "a rebuttal, not a claim"
    assert (row["start"], row["end"], row["document_id"]) == (10, 58, "page")
    assert row["model_name"] == "tiny-random" and row["request_id"] == "fb-1"
    assert 'narrascope_feedback_total{kind="sentence"} 1.0' in client.get("/metrics").text


def test_sqlite_store_is_wal_with_full_sync(store_dir: Path) -> None:
    store = FeedbackStore(f"sqlite:///{store_dir / 'fb.sqlite'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def test_empty_label_list_means_no_narrative(client: TestClient) -> None:
    response = client.post("/v1/feedback", json={"text": SENTENCE, "labels": []})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": SENTENCE, "labels": ["nope"]}, "labels[0]: unknown label 'nope'"),
        ({"text": SENTENCE, "labels": [], "predicted": ["x1"]}, "predicted[0]: unknown label 'x1'"),
        ({"text": "  ", "labels": []}, "text: text is empty or whitespace-only"),
        ({"text": SENTENCE, "labels": [], "start": 3}, "give both start and end"),
        ({"text": SENTENCE, "labels": [], "start": 5, "end": 2}, "end must be greater than start"),
        ({"text": SENTENCE, "labels": ["reassurance", "reassurance"]}, "labels: labels repeat an id"),
        ({"text": SENTENCE, "labels": [], "kind": "paragraph"}, "kind:"),
        ({"text": SENTENCE}, "labels: Field required"),
    ],
)
def test_bad_feedback_is_422_and_not_stored(client: TestClient, store_dir: Path, body: dict, message: str) -> None:
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == 422
    assert any(message in item["msg"] for item in response.json()["detail"]), response.json()
    assert rows_in(store_dir / "feedback.sqlite") == []


def add(store: FeedbackStore, text: str, labels: list[str], **extra: object) -> int:
    return store.add(FeedbackRecord(kind=str(extra.pop("kind", "sentence")), text=text, labels=labels, **extra)).id  # type: ignore[arg-type]


@pytest.fixture()
def filled_store(tmp_path: Path) -> Iterator[FeedbackStore]:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'export.sqlite'}")
    add(store, SENTENCE, ["war_preparation"], lang="en")
    add(store, "Казахстан не готовится к войне.", ["reassurance"], predicted=["war_preparation"])
    # Differs only in spacing and punctuation, which the data check's near-duplicate rule ignores: supersedes #1.
    add(store, "  " + SENTENCE.replace(".", "!") + " ", ["reassurance"], lang="en", note="second look")
    add(store, "Аумақтық қорғаныс туралы заң.", [], predicted=["war_preparation"], document_id="doc-7")
    add(store, "One sentence here. And another one there.", ["reassurance"], kind="document", lang="en")
    add(store, "A single-sentence document.", [], kind="document", lang="en")
    yield store
    store.close()


def test_rows_follow_the_dataset_contract(filled_store: FeedbackStore) -> None:
    rows, skipped = feedback_rows(filled_store.iter_all())
    assert [row["id"] for row in rows] == ["feedback-2", "feedback-3", "feedback-4", "feedback-6"]
    by_id = {row["id"]: row for row in rows}
    assert by_id["feedback-3"]["text"] == SENTENCE.replace(".", "!") and by_id["feedback-3"]["labels"] == [
        "reassurance"
    ]
    assert by_id["feedback-3"]["note"] == "second look"
    assert by_id["feedback-2"]["lang"] == "ru"  # detected when the moderator did not say
    assert by_id["feedback-4"]["lang"] == "kk" and by_id["feedback-4"]["hard_negative"] is True
    assert by_id["feedback-4"]["group"].startswith("feedback-doc-")
    for row in rows:
        assert (row["register"], row["source"], row["split"]) == ("moderator_feedback", "feedback", "train")
        assert {"id", "text", "lang", "labels", "group"} <= set(row)
    assert any("superseded" in reason and "feedback-1" in reason for reason in skipped)
    assert any("feedback 5: document with 2 sentences" in reason for reason in skipped)


def test_export_writes_rows_that_pass_the_data_check(filled_store: FeedbackStore, tmp_path: Path) -> None:
    from narrascope.dataset.check import validate_rows

    output = tmp_path / "out" / "feedback.jsonl"
    report = export_feedback(filled_store, output)
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert report.written == len(lines) == 4 and report.problems == []
    assert validate_rows(lines, str(output)) == []
    with pytest.raises(FileExistsError, match="--force"):
        export_feedback(filled_store, output)
    assert export_feedback(filled_store, output, force=True).written == 4


def test_export_refuses_invalid_rows_unless_told_to_skip(filled_store: FeedbackStore, tmp_path: Path) -> None:
    add(filled_store, "Some words in a language the dataset does not have.", [], lang="de")
    output = tmp_path / "feedback.jsonl"
    with pytest.raises(ExportValidationError, match=r"feedback.jsonl:5: bad language code 'de'"):
        export_feedback(filled_store, output)
    assert not output.exists()
    report = export_feedback(filled_store, output, skip_invalid=True)
    assert report.written == 4 and any("'de'" in problem for problem in report.problems)
    assert all(json.loads(line)["lang"] != "de" for line in output.read_text().splitlines())


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="narrascope")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_cli_export(filled_store: FeedbackStore, tmp_path: Path) -> None:
    output = tmp_path / "cli.jsonl"
    assert run_cli(["feedback", "export", str(output), "--db", filled_store.url]) == 0
    assert len(output.read_text().splitlines()) == 4
    with pytest.raises(FileExistsError):
        run_cli(["feedback", "export", str(output), "--db", filled_store.url])
    assert run_cli(["feedback", "export", str(output), "--db", filled_store.url, "--force"]) == 0


def test_cli_export_without_a_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no feedback store"):
        run_cli(["feedback", "export", str(tmp_path / "x.jsonl"), "--db", f"sqlite:///{tmp_path / 'none.sqlite'}"])
