"""Durable storage of moderators' corrections.

Feedback is the only place where submitted text is kept, and a correction a moderator was told was saved
must survive a crash: the service acknowledges only after the transaction committed, and the SQLite
default runs in WAL mode with ``synchronous=FULL`` so a commit is on disk when it returns. Any SQLAlchemy
URL works for deployments that prefer a server database (several machines share one PostgreSQL:
``postgresql+psycopg://...``). Calls are synchronous; the service runs them in a thread so a disk flush never
blocks the event loop.

Submitted texts are the one thing that must never reach a log, and SQLAlchemy's exceptions quote the
statement's parameters (the text) in their message. So the engine hides parameters, and every database
error leaves this module as a :class:`FeedbackStoreError` whose message names the error's class and code
only; :class:`FeedbackStoreUnavailable` marks the ones a retry can cure (locked, unreachable), which the
service answers with 503 instead of 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text, create_engine, event, func, inspect, select
from sqlalchemy import exc as sa_exc
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


# How long a write waits for another writer's lock (SQLite) or for a server to accept the connection before
# the store gives up with FeedbackStoreUnavailable; a module setting so tests can shorten it.
LOCK_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5

# Errors that say the database cannot be used right now (locked, down, connection lost, pool exhausted),
# not that this row is wrong: retrying later can succeed.
_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


class FeedbackStoreError(RuntimeError):
    """A database error, described without the statement or its parameters (they hold the submitted text)."""


class FeedbackStoreUnavailable(FeedbackStoreError):
    """The database is locked or unreachable; nothing was acknowledged and a retry later can succeed."""


def describe_database_error(exc: BaseException) -> str:
    """``OperationalError (sqlite3 SQLITE_BUSY): database is locked``: class, code, and for availability
    errors the driver's first line, which names the cause (locked, refused) but not the data. Nothing else:
    PostgreSQL's DETAIL line quotes the failing row, and SQLAlchemy's message quotes the parameters."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None)
    origin = type(orig).__module__.split(".")[0]
    out = f"{type(exc).__name__} ({origin} {code})" if code else f"{type(exc).__name__} ({origin})"
    if isinstance(exc, _UNAVAILABLE):
        diag = getattr(orig, "diag", None)
        primary = getattr(diag, "message_primary", None) or (str(orig).strip().splitlines() or [""])[0]
        out += f": {primary[:200]}"
    return out


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={int(LOCK_TIMEOUT_S * 1000)}")  # several workers may write at once
    cursor.close()


def _engine_options(backend: str) -> dict[str, Any]:
    """Bounded waits: a locked SQLite file or an unreachable server must end in an error, not a hung request."""
    if backend == "sqlite":
        return {"connect_args": {"timeout": LOCK_TIMEOUT_S}}
    options: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "postgresql":
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    return options


class FeedbackStore:
    """Append-only feedback table behind any SQLAlchemy URL."""

    def __init__(self, url: str, create: bool = True) -> None:
        """Open (and by default create) the store; ``create=False`` is for readers such as the export."""
        parsed = make_url(url)
        self.url = url
        self.safe_url = parsed.render_as_string(hide_password=True)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            if not create and not path.is_file():
                raise FileNotFoundError(f"no feedback store at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: no SQLAlchemy message or log line, here or in a caller's traceback, quotes the text.
        self.engine: Engine = create_engine(url, hide_parameters=True, **_engine_options(parsed.get_backend_name()))
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        with self._translated("creating the table"):
            self._create_schema()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """The one place database errors become domain errors; the original is dropped (``from None``)
        because its message and its chain carry the statement's parameters."""
        try:
            yield
        except _UNAVAILABLE as exc:
            reason = describe_database_error(exc)
            raise FeedbackStoreUnavailable(
                f"feedback store {self.safe_url} unavailable while {action}: {reason}"
            ) from None
        except sa_exc.SQLAlchemyError as exc:
            reason = describe_database_error(exc)
            raise FeedbackStoreError(f"feedback store {self.safe_url} failed while {action}: {reason}") from None

    def _create_schema(self) -> None:
        """Create the table unless it exists. Workers or machines starting together can all see no table and
        race to create it; the losers' CREATE fails, which is fine once the table is there."""
        try:
            Base.metadata.create_all(self.engine)
        except (sa_exc.IntegrityError, sa_exc.ProgrammingError, sa_exc.OperationalError):
            if not inspect(self.engine).has_table(FeedbackRow.__tablename__):
                raise

    def add(self, record: FeedbackRecord) -> StoredFeedback:
        """Insert and commit; returns only once the row is durable."""
        row = FeedbackRow(created_at=datetime.now(UTC), **record.__dict__)
        with self._translated("storing feedback"), self._sessions.begin() as session:
            session.add(row)
            session.flush()
            stored_id = row.id
        return StoredFeedback(stored_id, row.created_at, record)

    def iter_all(self) -> Iterator[StoredFeedback]:
        """Every stored correction, oldest first."""
        with self._translated("reading feedback"), Session(self.engine) as session:
            for row in session.scalars(select(FeedbackRow).order_by(FeedbackRow.id)):
                yield StoredFeedback(row.id, row.created_at, _record(row))

    def count(self) -> int:
        with self._translated("counting feedback"), Session(self.engine) as session:
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
