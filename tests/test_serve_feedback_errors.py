"""A database that is locked or unreachable answers 503 with Retry-After; store errors never quote the text."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from narrascope.dataset import feedback_store
from narrascope.dataset.feedback_store import (
    FeedbackRecord,
    FeedbackStore,
    FeedbackStoreError,
    FeedbackStoreUnavailable,
    describe_database_error,
)
from narrascope.serve.app import create_app
from narrascope.serve.testing import free_port, isolated_settings

SENTENCE = "The Ministry of Defense called the reports fake."


@pytest.fixture()
def quick_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock wait of 0.2 s instead of 5 s, so the locked path is fast to test."""
    monkeypatch.setattr(feedback_store, "LOCK_TIMEOUT_S", 0.2)


@pytest.fixture()
def db_dir(tmp_path: Path) -> Path:
    return tmp_path / "db"


@pytest.fixture()
def client(tiny_model_dir: Path, db_dir: Path, quick_locks: None) -> Iterator[TestClient]:
    with TestClient(create_app(isolated_settings(tiny_model_dir, db_dir)), base_url="http://127.0.0.1") as test_client:
        yield test_client


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another writer holding the database, as a long export or a stuck worker would."""
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    return blocker


def assert_unavailable(response: object) -> None:
    assert getattr(response, "status_code", None) == 503, getattr(response, "text", response)
    assert response.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    assert "feedback database is unavailable" in response.json()["detail"]  # type: ignore[attr-defined]


def test_locked_database_is_503_and_the_next_try_succeeds(client: TestClient, db_dir: Path) -> None:
    db = db_dir / "feedback.sqlite"
    blocker = hold_write_lock(db)
    try:
        assert_unavailable(client.post("/v1/feedback", json={"text": SENTENCE, "labels": []}))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    retried = client.post("/v1/feedback", json={"text": SENTENCE, "labels": []})
    assert retried.status_code == 201
    assert FeedbackStore(f"sqlite:///{db}", create=False).count() == 1  # the refused try left nothing behind


def test_vanished_database_is_503(client: TestClient, db_dir: Path) -> None:
    """The file's folder replaced by a file (an unmounted volume, say): no connection can be opened."""
    client.app.state.service.store.engine.dispose()  # type: ignore[attr-defined]
    shutil.rmtree(db_dir)
    db_dir.write_text("not a folder")
    assert_unavailable(client.post("/v1/feedback", json={"text": SENTENCE, "labels": []}))


class FakeDriverError(Exception):
    """Shaped like psycopg's errors: a SQLSTATE, a primary message, and a DETAIL that quotes the row."""

    sqlstate = "08006"

    def __init__(self, primary: str, row_text: str) -> None:
        super().__init__(f"{primary}\nDETAIL:  Failing row contains (1, {row_text}).")
        self.diag = type("Diag", (), {"message_primary": primary})()


def test_descriptions_never_quote_parameters_or_rows() -> None:
    secret = f"secret-{uuid.uuid4().hex}"
    statement = "INSERT INTO feedback (text) VALUES (%(text)s)"
    lost = sa_exc.OperationalError(statement, {"text": secret}, FakeDriverError("server closed the connection", secret))
    assert secret in str(lost)  # what SQLAlchemy itself would have logged
    described = describe_database_error(lost)
    assert described.startswith("OperationalError (") and described.endswith(" 08006): server closed the connection")
    check = sa_exc.IntegrityError(statement, {"text": secret}, FakeDriverError("violates check constraint", secret))
    assert secret not in describe_database_error(check) and "08006" in describe_database_error(check)


def test_unreachable_server_at_startup_names_the_url_without_its_password() -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql+psycopg://narrascope:hunter2@127.0.0.1:{free_port()}/feedback"
    with pytest.raises(FeedbackStoreUnavailable) as raised:
        FeedbackStore(url)
    message = str(raised.value)
    assert "unavailable while creating the table" in message and "127.0.0.1" in message
    assert "hunter2" not in message and "***" in message


def test_other_database_errors_are_store_errors_without_the_text(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite"
    store = FeedbackStore(f"sqlite:///{db}")
    connection = sqlite3.connect(db)
    connection.execute("CREATE TRIGGER refuse BEFORE INSERT ON feedback BEGIN SELECT RAISE(ABORT, 'refused'); END")
    connection.commit()
    connection.close()
    secret = f"secret-{uuid.uuid4().hex}"
    with pytest.raises(FeedbackStoreError) as raised:
        store.add(FeedbackRecord(kind="sentence", text=secret, labels=[]))
    assert not isinstance(raised.value, FeedbackStoreUnavailable)
    assert "IntegrityError (sqlite3 SQLITE_CONSTRAINT_TRIGGER)" in str(raised.value)
    assert raised.value.__suppress_context__  # the SQLAlchemy error is not printed in tracebacks
    assert secret not in str(raised.value.__context__)  # and even it hides the parameters
    store.close()
