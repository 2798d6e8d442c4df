"""Write result rows as JSONL, CSV or Parquet, one flushed write per batch, and resume into them.

The contract every format keeps: a job killed at any moment loses at most the batch in flight, and
``--resume`` finds exactly the ids that were written. JSONL and CSV are appended to; a kill in the middle
of a write can leave a torn last row, which resuming detects and cuts off (those documents are simply
scored again). Parquet cannot be appended to, so it is written as a folder of part files
(:mod:`narrascope.batch.parquet_parts`). Existing output is never overwritten without ``force``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from narrascope.batch import parquet_parts
from narrascope.batch.columns import INT_COLUMNS, NESTED_COLUMNS, SCORE_COLUMNS
from narrascope.batch.formats import STDIO, output_format

logger = logging.getLogger(__name__)

# CSV layout: the id, then passthrough fields, then the scores (nested ones JSON-encoded), then any
# passthrough field that was not in the header when it was written (rows of JSONL input may differ).
CSV_EXTRA_COLUMN = "extra_fields"


class Writer(Protocol):
    def write(self, rows: list[dict[str, Any]]) -> None:
        """Write one batch and flush it, so it survives the process being killed."""

    def close(self) -> None:
        """Finish; the output exists afterwards even when no row was written."""

    def abort(self) -> None:
        """The job failed: release what is open, create nothing (rows already written stay, for --resume)."""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "tolist"):  # numpy scalars and arrays from Parquet input
        return value.tolist()
    return str(value)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _flush(stream: IO[str]) -> None:
    stream.flush()
    try:
        os.fsync(stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (stdout pipe, StringIO): flushing is all there is


class _TextFileWriter:
    """Opens the file lazily, so a job that fails before its first batch leaves no half-made output."""

    def __init__(self, target: str, append: bool, stream: IO[str] | None = None) -> None:
        self.target = target
        self.append = append
        self._stream = stream
        self._owned = stream is None

    def _open(self) -> IO[str]:
        if self._stream is None:
            self._stream = open(self.target, "a" if self.append else "w", encoding="utf-8", newline="")
        return self._stream

    def close(self) -> None:
        stream = self._open()
        if self._owned:
            stream.close()
        else:
            stream.flush()

    def abort(self) -> None:
        if self._stream is None:
            return  # nothing was written: leave no empty file behind
        self.close()


class JsonlWriter(_TextFileWriter):
    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stream = self._open()
        stream.write("".join(to_json(row) + "\n" for row in rows))
        _flush(stream)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return value
    return to_json(value)


class CsvWriter(_TextFileWriter):
    """Flat CSV; the header is fixed by the first row (or, when resuming, by the existing file)."""

    def __init__(
        self, target: str, append: bool, columns: list[str] | None = None, stream: IO[str] | None = None
    ) -> None:
        super().__init__(target, append, stream)
        self.columns = columns

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stream = self._open()
        writer = csv.writer(stream, lineterminator="\n")
        if self.columns is None:
            passthrough = [k for k in rows[0] if k != "id" and k not in SCORE_COLUMNS]
            self.columns = ["id", *passthrough, *SCORE_COLUMNS, CSV_EXTRA_COLUMN]
            writer.writerow(self.columns)
        known = set(self.columns)
        for row in rows:
            extra = {k: v for k, v in row.items() if k not in known}
            cells = {k: (to_json(v) if k in NESTED_COLUMNS else _csv_cell(v)) for k, v in row.items()}
            cells[CSV_EXTRA_COLUMN] = to_json(extra) if extra else ""
            writer.writerow([cells.get(column, "") for column in self.columns])
        _flush(stream)


@dataclass
class OutputState:
    """What is already in an output: the ids to skip and, for CSV, the header to keep writing."""

    done_ids: set[str] = field(default_factory=set)
    csv_columns: list[str] | None = None
    existed: bool = False


def _truncate(path: Path, size: int, why: str) -> None:
    if path.stat().st_size > size:
        logger.warning("%s: %s; cutting it off (those documents are scored again)", path, why)
        with path.open("rb+") as handle:
            handle.truncate(size)


def _jsonl_state(path: Path) -> OutputState:
    state = OutputState(existed=True)
    good_end = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                try:
                    row = json.loads(raw)
                except ValueError:
                    row = None
                if not raw.endswith(b"\n") or not isinstance(row, dict) or "id" not in row:
                    if handle.read().strip():
                        raise ValueError(
                            f"{path}:{number}: not a row written by narrascope; refusing to "
                            "resume into a file that is corrupt before its last line"
                        )
                    break
                state.done_ids.add(str(row["id"]))
            good_end += len(raw)
    _truncate(path, good_end, "the last line is incomplete (the previous job was killed while writing)")
    return state


def _csv_state(path: Path) -> OutputState:
    state = OutputState(existed=True)
    consumed = 0
    last_raw = b""
    with path.open("rb") as handle:

        def lines() -> Any:
            nonlocal consumed, last_raw
            for raw in handle:
                consumed += len(raw)
                last_raw = raw
                yield raw.decode("utf-8", errors="surrogateescape")

        reader = csv.reader(lines(), strict=True)
        header = next(reader, None)
        if header is None or not last_raw.endswith(b"\n"):
            _truncate(path, 0, "the header is incomplete")
            return OutputState(existed=True)
        if "id" not in header:
            raise ValueError(f"{path}: the CSV has no 'id' column; it was not written by narrascope")
        id_at = header.index("id")
        state.csv_columns = header
        good_end = consumed
        try:
            for row in reader:
                if len(row) != len(header) or not last_raw.endswith(b"\n"):
                    break
                state.done_ids.add(row[id_at])
                good_end = consumed
        except csv.Error:
            pass
        if handle.read().strip():
            raise ValueError(f"{path}: a malformed row before the end; refusing to resume into a corrupt file")
    _truncate(path, good_end, "the last row is incomplete (the previous job was killed while writing)")
    return state


def _nonempty(path: Path) -> bool:
    """An empty file (left by a job that failed before its first row) holds nothing to protect or resume."""
    return (path.is_file() and path.stat().st_size > 0) or (path.is_dir() and any(path.iterdir()))


def _clear(path: Path, fmt: str) -> None:
    """``--force``: remove the previous output, but never a folder holding files we did not write."""
    if path.is_dir():
        if fmt != "parquet":
            raise ValueError(f"output {path} is a folder; {fmt} output must be a file")
        foreign = [p.name for p in path.iterdir() if not parquet_parts.is_own_file(p)]
        if foreign:
            raise ValueError(
                f"output folder {path} holds files narrascope did not write ({', '.join(foreign[:5])}); "
                "remove them yourself or choose another output"
            )
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def prepare_output(spec: str, fmt: str, *, resume: bool, force: bool) -> OutputState:
    """Apply the overwrite rules and, when resuming, read (and repair) what the output already holds."""
    if resume and force:
        raise ValueError("--resume and --force contradict each other; choose one")
    if spec == STDIO:
        if resume:
            raise ValueError("--resume needs an output file, not stdout")
        if fmt == "parquet":
            raise ValueError("Parquet cannot be written to stdout; write JSONL or CSV, or give a path")
        return OutputState()
    path = Path(spec)
    if not _nonempty(path):
        if resume:
            logger.info("%s does not exist yet; --resume starts from the beginning", spec)
        return OutputState()
    if not resume:
        if not force:
            raise FileExistsError(f"output {spec} exists; pass --resume to continue it or --force to overwrite it")
        _clear(path, fmt)
        return OutputState()
    if fmt == "parquet":
        if not path.is_dir():
            raise ValueError(
                f"{spec} is a file; Parquet output is a folder of parts and cannot be resumed "
                "from a single file (use --force to replace it)"
            )
        parquet_parts.remove_temporary(path)
        return OutputState(done_ids=parquet_parts.done_ids(path), existed=True)
    if path.is_dir():
        raise ValueError(f"output {spec} is a folder; {fmt} output must be a file")
    return _jsonl_state(path) if fmt == "jsonl" else _csv_state(path)


def open_writer(spec: str, fmt: str, state: OutputState, stdout: IO[str] | None = None) -> Writer:
    """A writer that appends after what :func:`prepare_output` found (or starts the output afresh)."""
    stream = (stdout or sys.stdout) if spec == STDIO else None
    if fmt == "jsonl":
        return JsonlWriter(spec, append=state.existed, stream=stream)
    if fmt == "csv":
        return CsvWriter(spec, append=state.existed, columns=state.csv_columns, stream=stream)
    if fmt == "parquet":
        return parquet_parts.ParquetPartsWriter(Path(spec))
    raise ValueError(f"unknown output format {fmt!r}")


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            row: dict[str, Any] = {}
            for key, value in raw.items():
                if key == CSV_EXTRA_COLUMN:
                    row.update(json.loads(value) if value else {})
                elif key in NESTED_COLUMNS:
                    row[key] = json.loads(value)
                elif key in INT_COLUMNS:
                    row[key] = int(value)
                else:
                    row[key] = value
            rows.append(row)
    return rows


def read_output(spec: str, fmt: str | None = None) -> list[dict[str, Any]]:
    """Read a finished output back as JSONL-shaped dicts (nested CSV cells decoded, Parquet maps as dicts).

    Meant for tests and notebooks; CSV passthrough values come back as strings.
    """
    fmt = output_format(spec, fmt)
    path = Path(spec)
    if fmt == "parquet":
        return parquet_parts.read_rows(path)
    if fmt == "csv":
        return _csv_rows(path)
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
