"""Feedback is durable once acknowledged and validated against the model's labels (its export to dataset rows is
tested with the dataset layer, in test_dataset_feedback.py and test_dataset_cli.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.dataset.feedback_store import FeedbackStore
from narrascope.serve.app import create_app
from narrascope.serve.testing import isolated_settings
from tests.datafactory import FEEDBACK_SENTENCE as SENTENCE


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
