"""No submitted text reaches any log line, on any path: a marker text goes through every error the service can
answer (422, 413, 400, bad JSON, 503 locked database, 500 failing database) and through the successful
paths, while every log record of every logger (uvicorn's and SQLAlchemy's included, at DEBUG) is captured
and formatted by the service's JSON formatter; the marker must appear in none of them."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from narrascope.dataset import feedback_store
from narrascope.serve.logs import JsonFormatter
from narrascope.serve.testing import isolated_settings, running_server

# Made at run time so it is never a source line that a traceback could quote.
MARKER = f"LEAKCHECK{uuid.uuid4().hex}"
LOGGERS = ("sqlalchemy", "uvicorn", "uvicorn.error", "uvicorn.access", "narrascope", "fastapi", "starlette")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture()
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Root at DEBUG, and the libraries that set their own levels (SQLAlchemy sets WARN) opened up too."""
    root = logging.getLogger()
    saved = [(root, root.level, root.propagate)]
    saved += [
        (logging.getLogger(name), logging.getLogger(name).level, logging.getLogger(name).propagate) for name in LOGGERS
    ]
    handler = Capture()
    root.addHandler(handler)
    for logger, _level, _propagate in saved:
        logger.setLevel(logging.DEBUG)
        logger.propagate = True
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        for logger, level, propagate in saved:
            logger.setLevel(level)
            logger.propagate = propagate


def exception_chain(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception, its causes and contexts (suppressed ones too) and the driver errors they wrap."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [current.__cause__, current.__context__, getattr(current, "orig", None)]


def body(payload: dict[str, object]) -> bytes:
    return json.dumps(payload).encode()


FEEDBACK_ERRORS = [
    ("unknown label", body({"text": MARKER, "labels": ["nope"]}), "application/json", {422}),
    ("offset out of range", body({"text": MARKER, "labels": [], "start": 0, "end": 1e23}), "application/json", {422}),
    ("unknown field", body({"text": MARKER, "labels": [], MARKER: MARKER}), "application/json", {422}),
    ("over the configured length", body({"text": MARKER * 40, "labels": []}), "application/json", {422}),
    ("over the body limit", body({"text": MARKER * 200, "labels": []}), "application/json", {413}),
    ("bad JSON", b'{"text": "' + MARKER.encode() + b'", "labels": [', "application/json", {422}),
    ("not UTF-8", b'{"text": "' + MARKER.encode() + b'\xff", "labels": []}', "application/json", {400}),
    ("not JSON", body({"text": MARKER, "labels": []}), "text/plain", {415, 422}),
]
SCORE_ERRORS = [
    ("unknown option", body({"documents": [{"text": MARKER}], "options": {MARKER: 1}}), {422}),
    ("over the configured length", body({"documents": [{"text": MARKER * 40}]}), {422}),
    ("over the body limit", body({"documents": [{"text": MARKER * 200}]}), {413}),
    ("bad JSON", b'{"documents": [{"text": "' + MARKER.encode() + b'"', {422}),
    ("bad language", body({"documents": [{"text": MARKER, "lang": MARKER}]}), {422}),
]


def exercise_every_path(base: str, db: Path) -> dict[str, int]:
    """Sends the marker down each path; returns what each answered, so the test can tell they all ran."""
    answered: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=30) as client:

        def post(name: str, path: str, content: bytes, content_type: str = "application/json") -> None:
            answered[name] = client.post(path, content=content, headers={"content-type": content_type}).status_code

        post("score ok", "/v1/score", body({"documents": [{"text": f"{MARKER} says the army is fine."}]}))
        post("feedback ok", "/v1/feedback", body({"text": MARKER, "labels": []}))
        for name, content, content_type, _ in FEEDBACK_ERRORS:
            post(f"feedback {name}", "/v1/feedback", content, content_type)
        for name, content, _ in SCORE_ERRORS:
            post(f"score {name}", "/v1/score", content)
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database past the lock timeout
        try:
            post("feedback locked", "/v1/feedback", body({"text": MARKER, "labels": []}))
        finally:
            blocker.execute("ROLLBACK")
        # A database that refuses the row (as a constraint or a full disk would): an error the store cannot map.
        blocker.execute("CREATE TRIGGER refuse BEFORE INSERT ON feedback BEGIN SELECT RAISE(ABORT, 'refused'); END")
        blocker.close()
        post("feedback store failure", "/v1/feedback", body({"text": MARKER, "labels": []}))
    return answered


def test_no_submitted_text_in_any_log_record(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every_log_record: list[logging.LogRecord]
) -> None:
    monkeypatch.setattr(feedback_store, "LOCK_TIMEOUT_S", 0.2)
    settings = isolated_settings(tiny_model_dir, tmp_path, max_body_bytes=4096, max_document_chars=1000)
    with running_server(settings, access_log=True) as base:
        answered = exercise_every_path(base, tmp_path / "feedback.sqlite")

    expected = {"score ok": {200}, "feedback ok": {201}, "feedback locked": {503}, "feedback store failure": {500}}
    expected |= {f"feedback {name}": statuses for name, _, _, statuses in FEEDBACK_ERRORS}
    expected |= {f"score {name}": statuses for name, _, statuses in SCORE_ERRORS}
    assert {name: answered[name] in statuses for name, statuses in expected.items()} == dict.fromkeys(expected, True), (
        answered
    )

    records = list(every_log_record)
    names = {record.name for record in records}
    # The capture saw what it must have seen, so "no marker" is not the absence of logs.
    assert {"uvicorn.access", "narrascope.access", "narrascope.serve.errors"} <= names
    assert any(name.startswith("sqlalchemy.engine") for name in names)
    assert any(record.exc_info and record.levelno == logging.ERROR for record in records)  # the 500's traceback
    formatter = JsonFormatter()
    for record in records:
        assert MARKER not in formatter.format(record), record.name
        assert MARKER not in repr(vars(record)), record.name
        for exc in exception_chain(record.exc_info[1] if record.exc_info else None):
            assert MARKER not in f"{exc!s} {exc!r}", (record.name, type(exc))
