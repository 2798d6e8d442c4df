"""Read scored outputs (JSONL, CSV, Parquet file or folder) back as :class:`ScoredDoc` for analysis.

A report is only as honest as its denominators, so nothing is dropped quietly: a row that is not a scored row
becomes a :class:`Problem` naming its file and line, a document without a usable date or outlet is kept and
counted (``date_problem``/``source is None``), and the report states both counts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from narrascope.batch.columns import INT_COLUMNS, NESTED_COLUMNS
from narrascope.batch.writers import CSV_EXTRA_COLUMN

# Where a document's date and outlet are looked for, in order: batch scoring passes input fields through under
# their own names (RSS/Atom entries carry ``published`` and ``source``), so these cover every input format.
DATE_FIELDS = ("date", "published", "published_at", "updated", "input_date")
SOURCE_FIELDS = ("source", "outlet", "site", "feed", "input_source")
STORY_FIELD = "story"


@dataclass(frozen=True)
class Problem:
    """A row that could not be read as a scored document, and where it is."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(frozen=True)
class ScoredDoc:
    """What the report needs of one scored row; ``extra`` keeps every other field for the output tables."""

    id: str
    location: str
    language: str
    labels: tuple[str, ...]
    pushed: tuple[str, ...]
    rebutted: tuple[str, ...]
    risk: str
    evidence: Mapping[str, list[dict[str, Any]]]
    date: datetime | None = None
    date_problem: str | None = None
    source: str | None = None
    link: str | None = None
    title: str | None = None
    story: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def parse_date(value: Any) -> datetime | None:
    """ISO 8601 (JSONL/CSV/Parquet) or RFC 822 (RSS ``pubDate``) as naive UTC; ``None`` when unreadable."""
    if isinstance(value, datetime):
        moment = value
    elif hasattr(value, "isoformat") and hasattr(value, "year"):  # a date without time
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _first(row: Mapping[str, Any], names: tuple[str, ...]) -> tuple[str | None, Any]:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return name, value
    return None, None


def _source(row: Mapping[str, Any], fields: tuple[str, ...]) -> str | None:
    _, value = _first(row, fields)
    if isinstance(value, str) and value.strip():
        return value.strip()
    link = row.get("link")
    if isinstance(link, str) and link:
        host = urlsplit(link).hostname
        return host.removeprefix("www.") if host else None
    return None


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of label ids, got {value!r}"[:200])
    return tuple(value)


def to_doc(
    row: Mapping[str, Any],
    location: str,
    date_fields: tuple[str, ...] = DATE_FIELDS,
    source_fields: tuple[str, ...] = SOURCE_FIELDS,
) -> ScoredDoc:
    """One scored row; raises ``ValueError`` saying which field is wrong."""
    doc_id = row.get("id")
    if not isinstance(doc_id, str | int) or isinstance(doc_id, bool) or str(doc_id) == "":
        raise ValueError(f"no 'id' (got {doc_id!r}); is this the output of `narrascope score`?"[:200])
    risk = row.get("risk")
    if not isinstance(risk, Mapping):
        raise ValueError(f"document {doc_id}: no 'risk' object; is this the output of `narrascope score`?")
    evidence = row.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        raise ValueError(f"document {doc_id}: 'evidence' must be an object of label -> sentences")
    date_name, raw_date = _first(row, date_fields)
    date = parse_date(raw_date)
    problem = None
    if date_name is None:
        problem = "no date field"
    elif date is None:
        problem = f"unreadable {date_name} {raw_date!r}"[:120]
    story = row.get(STORY_FIELD)
    known = {"id", "language", "labels", "risk", "evidence", "scores", "n_sentences", "model", STORY_FIELD}
    return ScoredDoc(
        id=str(doc_id),
        location=location,
        language=str(row.get("language") or "und"),
        labels=_strings(row.get("labels", []), f"document {doc_id}: 'labels'"),
        pushed=_strings(risk.get("claims_pushed", []), f"document {doc_id}: 'risk.claims_pushed'"),
        rebutted=_strings(risk.get("claims_rebutted", []), f"document {doc_id}: 'risk.claims_rebutted'"),
        risk=str(risk.get("level", "none")),
        evidence={str(k): list(v or []) for k, v in evidence.items()},
        date=date,
        date_problem=problem,
        source=_source(row, source_fields),
        link=row.get("link") if isinstance(row.get("link"), str) else None,
        title=row.get("title") if isinstance(row.get("title"), str) else None,
        story=None if story in (None, "") else str(story),
        extra={k: v for k, v in row.items() if k not in known},
    )


def _jsonl_rows(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield where, json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                yield where, ValueError(f"not a JSON line: {exc}"[:200])


def _csv_cell(key: str, value: str) -> Any:
    if key in NESTED_COLUMNS:
        return json.loads(value) if value else None
    if key in INT_COLUMNS:
        return int(value) if value else None
    return value


def _csv_rows(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        line = reader.line_num + 1
        for raw in reader:
            where, line = f"{path}:{line}", reader.line_num + 1
            try:
                row: dict[str, Any] = {}
                for key, value in raw.items():
                    if key is None or value is None:
                        raise ValueError("malformed CSV row: more or fewer cells than the header")
                    if key == CSV_EXTRA_COLUMN:
                        row.update(json.loads(value) if value else {})
                    else:
                        row[key] = _csv_cell(key, value)
                yield where, row
            except ValueError as exc:
                yield where, ValueError(f"unreadable CSV row: {exc}"[:200])


def _parquet_rows(path: Path) -> Iterator[tuple[str, Any]]:
    import pyarrow.parquet as pq

    files = sorted(p for p in path.glob("*.parquet") if not p.name.startswith(".")) if path.is_dir() else [path]
    for file in files:
        for number, row in enumerate(pq.read_table(file).to_pylist(), start=1):
            evidence = row.get("evidence")
            if isinstance(evidence, list):  # an Arrow map reads back as (key, value) pairs
                row["evidence"] = dict(evidence)
            yield f"{file}:row {number}", row


def read_rows(spec: str) -> Iterator[tuple[str, Any]]:
    """``(location, row)`` pairs of one scored output; a row that cannot be parsed is a ``ValueError`` value."""
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"input {spec!r} does not exist")
    name = path.name.lower()
    if path.is_dir() or name.endswith(".parquet"):
        return _parquet_rows(path)
    if name.endswith(".csv"):
        return _csv_rows(path)
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return _jsonl_rows(path)
    raise ValueError(f"input {spec!r}: expected a scored .jsonl, .csv or .parquet output of `narrascope score`")


@dataclass
class Loaded:
    """Documents read from every input, and the rows that were not scored documents."""

    docs: list[ScoredDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def load_scored(
    inputs: list[str],
    date_fields: tuple[str, ...] = DATE_FIELDS,
    source_fields: tuple[str, ...] = SOURCE_FIELDS,
    keep_rows: bool = False,
) -> Loaded:
    """Every scored row of every input, in order; a repeated id (the same document in two inputs) is a problem."""
    loaded = Loaded()
    seen: dict[str, str] = {}
    for spec in inputs:
        for location, row in read_rows(spec):
            if isinstance(row, Exception):
                loaded.problems.append(Problem(location, str(row)))
                continue
            if not isinstance(row, Mapping):
                loaded.problems.append(Problem(location, f"a JSON {type(row).__name__}, not an object"))
                continue
            try:
                doc = to_doc(row, location, date_fields, source_fields)
            except ValueError as exc:
                loaded.problems.append(Problem(location, str(exc)))
                continue
            if doc.id in seen:
                loaded.problems.append(Problem(location, f"document {doc.id} repeats {seen[doc.id]}; kept the first"))
                continue
            seen[doc.id] = location
            loaded.docs.append(doc)
            if keep_rows:
                loaded.rows.append(dict(row))
    return loaded
