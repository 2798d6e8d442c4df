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


# Every numeric field of the request; a new one must be added here to be covered by the bounds test below.
NUMERIC_FIELDS = ("start", "end")


@pytest.mark.parametrize("field", NUMERIC_FIELDS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1e23, "Input should be a valid integer"),  # used to reach the database and overflow: a 500
        (12.0, "Input should be a valid integer"),  # a float is not an offset, even a whole one
        (True, "Input should be a valid integer"),  # nor is a boolean
        ("12", "Input should be a valid integer"),
        (-1, "greater than or equal to 0"),
        (10**7, "less than or equal to 1000000"),  # the documented ceiling
        (10**30, "less than or equal to 1000000"),
    ],
)
def test_numeric_fields_are_bounded(
    client: TestClient, store_dir: Path, field: str, value: object, message: str
) -> None:
    body = {"text": SENTENCE, "labels": [], "start": 0, "end": 48} | {field: value}
    response = client.post("/v1/feedback", json=body)
    assert response.status_code == 422, response.text
    assert any(item["msg"].startswith(f"{field}: ") and message in item["msg"] for item in response.json()["detail"])
    assert rows_in(store_dir / "feedback.sqlite") == []


@pytest.mark.parametrize("field", NUMERIC_FIELDS)
def test_offsets_stay_within_the_configured_document_limit(tiny_model_dir: Path, tmp_path: Path, field: str) -> None:
    settings = isolated_settings(tiny_model_dir, tmp_path, max_document_chars=1000)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        body = {"text": SENTENCE, "labels": [], "start": 0, "end": 1000} | {field: 1001}
        if field == "start":
            body["end"] = 1002
        response = test_client.post("/v1/feedback", json=body)
        assert response.status_code == 422
        assert f"{field}: Input should be less than or equal to 1000" in response.text
        accepted = test_client.post("/v1/feedback", json={"text": SENTENCE, "labels": [], "start": 952, "end": 1000})
        assert accepted.status_code == 201
