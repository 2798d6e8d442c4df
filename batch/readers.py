"""Stream records out of JSONL, CSV/TSV, Parquet, RSS/Atom feeds, folders of .txt/.html files, or stdin.

Every reader yields :class:`~batch.records.Record` or :class:`~batch.records.BadRecord` and never raises on
a bad row, so one broken item cannot stop a long job; only a wrong configuration (a missing file, a CSV
without the text column) raises, and it does so before any scoring. Inputs are streamed wherever the
format allows, so an archive larger than memory is fine (feeds and Parquet-from-stdin are read whole).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from narrascope.batch.formats import STDIO, SUFFIXES_FOR_INPUT, input_format, is_compressed
from narrascope.batch.records import BadRecord, FieldMap, Record, parse_json_line, record_from_mapping
from narrascope.model.webpage import NoMainContent, Page, decode_html, extract_page, fragment_text

logger = logging.getLogger(__name__)

Item = Record | BadRecord

# Longest CSV field accepted (the csv module's default of 128 KiB is shorter than some long reads).
CSV_FIELD_LIMIT = 64 * 1024 * 1024
_PARQUET_READ_ROWS = 1024
_COUNT_CHUNK = 1 << 20


def _open_binary(path: Path) -> IO[bytes]:
    if is_compressed(path):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _count_lines(path: Path) -> int:
    """Newlines in a file, read in chunks (cheap enough to size a progress bar)."""
    total = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_COUNT_CHUNK):
            total += chunk.count(b"\n")
    return total


def _count_entries(feed: bytes) -> int:
    return feed.count(b"<item") + feed.count(b"<entry")


def read_jsonl(stream: IO[bytes], location: str, fields: FieldMap) -> Iterator[Item]:
    """Lines are split on ``\\n`` only (JSON strings may legally hold U+2028) and decoded one at a time."""
    for number, raw in enumerate(stream, start=1):
        item = parse_json_line(raw.rstrip(b"\r\n"), f"{location}:{number}", fields)
        if item is not None:
            yield item


def _undecodable(values: list[str]) -> bool:
    """Text read with ``surrogateescape`` keeps bad bytes as lone surrogates; find them."""
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def require_columns(names: list[str], location: str, fields: FieldMap, what: str) -> None:
    """A table without the id or text column fails once, up front, instead of as one bad record per row."""
    missing = [name for name in (fields.id_field, fields.text_field) if name not in names]
    if missing:
        raise ValueError(
            f"{location}: {what} has no {' or '.join(repr(m) for m in missing)} column "
            f"(columns: {', '.join(names)}); pass --id-field/--text-field"
        )


def read_csv(stream: IO[bytes], location: str, fields: FieldMap, delimiter: str = ",") -> Iterator[Item]:
    """Rows as mappings by header; bad bytes and ragged rows become bad records, not a crash."""
    with _csv_field_limit(CSV_FIELD_LIMIT):
        yield from _csv_rows(stream, location, fields, delimiter)


@contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    """The csv module's field limit is process-wide; raise it only while this file is read, then restore it."""
    previous = csv.field_size_limit(max(csv.field_size_limit(), limit))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv_rows(stream: IO[bytes], location: str, fields: FieldMap, delimiter: str) -> Iterator[Item]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    require_columns(header, location, fields, "the CSV header")
    start = reader.line_num + 1
    for row in reader:
        where = f"{location}:{start}"
        start = reader.line_num + 1
        if not row:
            continue
        if len(row) != len(header):
            yield BadRecord(where, f"malformed CSV row: {len(row)} fields, the header has {len(header)}")
            continue
        if _undecodable(row):
            yield BadRecord(where, "undecodable: not valid UTF-8")
            continue
        yield record_from_mapping(dict(zip(header, row, strict=True)), where, fields)


def read_parquet(source: Path | IO[bytes], location: str, fields: FieldMap) -> Iterator[Item]:
    """Rows in order, a few thousand at a time, so a large file is never materialised whole."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(source)
    require_columns(parquet.schema_arrow.names, location, fields, "the Parquet schema")
    number = 0
    for batch in parquet.iter_batches(batch_size=_PARQUET_READ_ROWS):
        for row in batch.to_pylist():
            number += 1
            yield record_from_mapping(row, f"{location}:row {number}", fields)


def _entry_text(value: str | None, content_type: str | None) -> str:
    if not value:
        return ""
    if content_type and "html" not in content_type and "xml" not in content_type:
        return value.strip()
    return fragment_text(value)


def read_feed(data: bytes, location: str) -> Iterator[Item]:
    """RSS/Atom entries: text is the title plus the full content (or the summary), as ``fragment_text`` reads it.

    The feed is parsed from bytes, never from a path or URL string, so feedparser cannot be made to fetch
    anything over the network.
    """
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        if parsed.get("bozo"):
            yield BadRecord(location, f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}")
        return
    feed_title = parsed.feed.get("title")
    for number, entry in enumerate(parsed.entries, start=1):
        where = f"{location}#entry {number}"
        doc_id = entry.get("id") or entry.get("link")
        if not doc_id:
            yield BadRecord(where, "feed entry has neither an id/guid nor a link")
            continue
        title_detail = entry.get("title_detail") or {}
        title = _entry_text(entry.get("title"), title_detail.get("type"))
        contents = entry.get("content") or []
        if contents:
            body = "\n\n".join(_entry_text(c.get("value"), c.get("type")) for c in contents)
        else:
            body = _entry_text(entry.get("summary"), (entry.get("summary_detail") or {}).get("type"))
        text = "\n\n".join(part for part in (title, body) if part)
        if not text.strip():
            yield BadRecord(where, "no text: entry has no title, content or summary", str(doc_id))
            continue
        yield Record(
            id=str(doc_id),
            text=text,
            location=where,
            fields={
                "title": title or None,
                "author": entry.get("author"),
                "link": entry.get("link"),
                "published": entry.get("published") or entry.get("updated"),
                # An aggregator's entry names the outlet it re-posts (RSS <source>, Atom <source><title>);
                # otherwise the outlet is the feed itself. Reports group documents by this field.
                "source": (entry.get("source") or {}).get("title") or feed_title,
                "feed": feed_title,
            },
        )


def read_document_file(path: Path, doc_id: str) -> Item:
    """One .txt or .html file as one document; a page's main content is scored, its metadata passed through.

    Every file gets the same ``title``/``author``/``date`` fields (``None`` for text files), so a folder's
    output has one schema; a page without main content is a bad record naming the file.
    """
    location = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return BadRecord(location, f"unreadable: {exc.strerror or exc}", doc_id)
    try:
        if path.suffix.lower() in (".html", ".htm"):
            page = extract_page(decode_html(data))
        else:
            page = Page(text=data.decode("utf-8-sig"))
    except (UnicodeDecodeError, LookupError):
        return BadRecord(location, "undecodable: not valid UTF-8 and no usable charset declared", doc_id)
    except NoMainContent as exc:
        return BadRecord(location, str(exc), doc_id)
    if not page.text.strip():
        return BadRecord(location, "no text: the file is empty", doc_id)
    return Record(id=doc_id, text=page.text, location=location, fields=page.metadata())


def _matches(path: Path, suffixes: tuple[str, ...]) -> bool:
    name = path.name.lower()
    return name.endswith(suffixes) and not name.startswith(".")


@dataclass
class InputSource:
    """An input resolved to a format and a list of files (``paths is None`` means stdin)."""

    spec: str
    format: str
    fields: FieldMap = field(default_factory=FieldMap)
    paths: list[Path] | None = None
    root: Path | None = None
    stdin: IO[bytes] | None = None

    def estimate(self) -> int | None:
        """About how many records there are, for the progress bar's ETA; ``None`` when unknown."""
        if self.paths is None:
            return None
        if self.format == "text":
            return len(self.paths)
        if self.format == "parquet":
            import pyarrow.parquet as pq

            return sum(pq.ParquetFile(p).metadata.num_rows for p in self.paths)
        if any(is_compressed(p) for p in self.paths):
            return None
        if self.format == "feed":
            return sum(_count_entries(p.read_bytes()) for p in self.paths)
        rows = sum(_count_lines(p) for p in self.paths)
        return max(0, rows - len(self.paths)) if self.format in ("csv", "tsv") else rows

    def __iter__(self) -> Iterator[Item]:
        if self.paths is None:
            yield from self._read_stdin()
            return
        for path in self.paths:
            yield from self._read_file(path)

    def _document_id(self, path: Path) -> str:
        if self.root is not None:
            return path.relative_to(self.root).as_posix()
        return path.name

    def _read_file(self, path: Path) -> Iterator[Item]:
        location = str(path)
        if self.format == "text":
            yield read_document_file(path, self._document_id(path))
        elif self.format == "parquet":
            yield from read_parquet(path, location, self.fields)
        elif self.format == "feed":
            yield from read_feed(path.read_bytes(), location)
        else:
            with _open_binary(path) as stream:
                yield from _STREAM_READERS[self.format](stream, location, self.fields)

    def _read_stdin(self) -> Iterator[Item]:
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        location = "<stdin>"
        if self.format == "parquet":
            yield from read_parquet(io.BytesIO(stream.read()), location, self.fields)
        elif self.format == "feed":
            yield from read_feed(stream.read(), location)
        elif self.format == "text":
            raise ValueError("text input needs a file or a folder, not stdin; pipe JSONL instead")
        else:
            yield from _STREAM_READERS[self.format](stream, location, self.fields)


_STREAM_READERS: dict[str, Callable[[IO[bytes], str, FieldMap], Iterator[Item]]] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "tsv": lambda stream, location, fields: read_csv(stream, location, fields, delimiter="\t"),
}


def open_input(
    spec: str, fmt: str | None = None, fields: FieldMap | None = None, stdin: IO[bytes] | None = None
) -> InputSource:
    """Resolve ``spec`` (a file, a folder, or ``-``) to an :class:`InputSource`; raises if it does not exist.

    A folder is read recursively in sorted order (hidden files skipped), taking every file that belongs to
    the format, so the order and therefore the output are reproducible.
    """
    fields = fields or FieldMap()
    fmt = input_format(spec, fmt)
    if spec == STDIO:
        return InputSource(spec, fmt, fields, None, stdin=stdin)
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"input {spec!r} does not exist")
    if path.is_dir():
        suffixes = SUFFIXES_FOR_INPUT[fmt]
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and _matches(p, suffixes)
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            logger.warning("%s: no %s files found", spec, "/".join(suffixes))
        return InputSource(spec, fmt, fields, files, root=path)
    return InputSource(spec, fmt, fields, [path])
