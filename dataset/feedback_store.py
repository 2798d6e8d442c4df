"""Durable storage of moderators' corrections.

Feedback is the only place where submitted text is kept, and a correction a moderator was told was saved
must survive a crash: the service acknowledges only after the transaction committed, and the SQLite
default runs in WAL mode with ``synchronous=FULL`` so a commit is on disk when it returns. Any SQLAlchemy
URL works for deployments that prefer a server database. Calls are synchronous; the service runs them in a
thread so a disk flush never blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    lang: Mapped[str | None] = mapped_column(String(16))
    labels: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    predicted: Mapped[list[str] | None] = mapped_column(JSON)
    document_id: Mapped[str | None] = mapped_column(String(256))
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    model_name: Mapped[str | None] = mapped_column(String(256))
    model_version: Mapped[str | None] = mapped_column(String(128))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class FeedbackRecord:
    """One correction, as the API received it plus who and which model it corrects."""

    kind: str
    text: str
    labels: list[str]
    lang: str | None = None
    predicted: list[str] | None = None
    document_id: str | None = None
    start: int | None = None
    end: int | None = None
    note: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    submitted_by: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class StoredFeedback:
    id: int
    created_at: datetime
    record: FeedbackRecord


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")  # several workers may write at once
    cursor.close()


class FeedbackStore:
    """Append-only feedback table behind any SQLAlchemy URL."""

    def __init__(self, url: str, create: bool = True) -> None:
        """Open (and by default create) the store; ``create=False`` is for readers such as the export."""
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            if not create and not path.is_file():
                raise FileNotFoundError(f"no feedback store at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, pool_pre_ping=not self.is_sqlite)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def add(self, record: FeedbackRecord) -> StoredFeedback:
        """Insert and commit; returns only once the row is durable."""
        row = FeedbackRow(created_at=datetime.now(UTC), **record.__dict__)
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            stored_id = row.id
        return StoredFeedback(stored_id, row.created_at, record)

    def iter_all(self) -> Iterator[StoredFeedback]:
        """Every stored correction, oldest first."""
        with Session(self.engine) as session:
            for row in session.scalars(select(FeedbackRow).order_by(FeedbackRow.id)):
                yield StoredFeedback(row.id, row.created_at, _record(row))

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(FeedbackRow)) or 0)

    def close(self) -> None:
        self.engine.dispose()


def _record(row: FeedbackRow) -> FeedbackRecord:
    return FeedbackRecord(
        kind=row.kind,
        text=row.text,
        labels=list(row.labels),
        lang=row.lang,
        predicted=list(row.predicted) if row.predicted is not None else None,
        document_id=row.document_id,
        start=row.start,
        end=row.end,
        note=row.note,
        model_name=row.model_name,
        model_version=row.model_version,
        submitted_by=row.submitted_by,
        request_id=row.request_id,
    )
