"""Parquet output as a folder of part files, one per batch.

A Parquet file is only readable once its footer is written at close, and it cannot be reopened for
appending; a single file would therefore lose everything when a long job is killed. Instead the output
``scores.parquet`` is a *folder* (the layout Spark, Ray and pandas already read as one table) and every
batch becomes ``part-NNNNNN.parquet``, written under a temporary name and renamed into place. Every
visible part is complete, a kill loses at most the batch in flight, and resuming reads the ids of the
existing parts and continues the numbering.

Score columns have fixed Arrow types (``scores`` is a struct with one field per label, ``evidence`` a map
from label to sentences) so parts agree with each other; passthrough columns are inferred, kept at the
type of earlier parts where they can be cast, and JSON-encoded when Arrow cannot type them at all.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PART_PATTERN = re.compile(r"^part-(\d{6})\.parquet$")
_TEMP_SUFFIX = ".inprogress"

_EVIDENCE_ITEM = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string()), ("score", pa.float64())])
_RISK = pa.struct(
    [
        ("level", pa.string()),
        ("score", pa.float64()),
        ("claims_pushed", pa.list_(pa.string())),
        ("claims_rebutted", pa.list_(pa.string())),
        ("counter_labels", pa.list_(pa.string())),
        ("claim_sentences", pa.int64()),
        ("counter_sentences", pa.int64()),
    ]
)
_FIXED_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "language": pa.string(),
    "labels": pa.list_(pa.string()),
    "risk": _RISK,
    "evidence": pa.map_(pa.string(), pa.list_(_EVIDENCE_ITEM)),
    "n_sentences": pa.int64(),
    "model": pa.struct([("name", pa.string()), ("version", pa.string())]),
}
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError, OverflowError)


def part_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if PART_PATTERN.match(p.name)) if directory.is_dir() else []


def is_own_file(path: Path) -> bool:
    """Whether ``path`` is something this writer creates (a part or an interrupted temporary part)."""
    name = path.name
    return path.is_file() and bool(PART_PATTERN.match(name.removesuffix(_TEMP_SUFFIX)))


def remove_temporary(directory: Path) -> None:
    """Drop parts a killed job was writing; they were never renamed into place, so no ids are lost."""
    for path in directory.glob(f"*{_TEMP_SUFFIX}"):
        path.unlink()


def done_ids(directory: Path) -> set[str]:
    ids: set[str] = set()
    for path in part_files(directory):
        ids.update(str(v) for v in pq.read_table(path, columns=["id"]).column("id").to_pylist())
    return ids


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _as_json_strings(values: list[Any]) -> pa.Array:
    return pa.array([None if v is None else (v if isinstance(v, str) else _json(v)) for v in values], type=pa.string())


def _column(values: list[Any], expected: pa.DataType | None) -> pa.Array:
    """Values as ``expected`` when they fit (or cast), else inferred; JSON text when Arrow cannot type them."""
    known = expected is not None and not pa.types.is_null(expected)
    if known:
        try:
            return pa.array(values, type=expected)
        except _ARROW_ERRORS:
            pass
    try:
        inferred = pa.array(values)
    except _ARROW_ERRORS:
        inferred = _as_json_strings(values)
    if known and inferred.type != expected:
        try:
            return inferred.cast(expected)
        except _ARROW_ERRORS:
            if pa.types.is_string(expected):
                return _as_json_strings(values)
    return inferred


def _scores_type(rows: list[dict[str, Any]]) -> pa.DataType:
    labels = list((rows[0].get("scores") or {}).keys())
    return pa.struct([(label, pa.float64()) for label in labels])


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema | None) -> pa.Table:
    """Arrow table for one batch, aligned to ``schema`` (the previous part's) where the values allow."""
    names: list[str] = list(schema.names) if schema is not None else []
    for row in rows:
        names.extend(key for key in row if key not in names)
    arrays: list[pa.Array] = []
    for name in names:
        expected: pa.DataType | None
        if schema is not None and name in schema.names:
            expected = schema.field(name).type
        elif name == "scores":
            expected = _scores_type(rows)
        else:
            expected = _FIXED_TYPES.get(name)
        arrays.append(_column([row.get(name) for row in rows], expected))
    return pa.Table.from_arrays(arrays, names=names)


class ParquetPartsWriter:
    """Writes each batch as one complete part file (see the module docstring for why)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        parts = part_files(directory)
        last = PART_PATTERN.match(parts[-1].name) if parts else None
        self.next_index = int(last.group(1)) + 1 if last else 0
        self.schema: pa.Schema | None = pq.read_schema(parts[-1]) if parts else None

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = rows_to_table(rows, self.schema)
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"part-{self.next_index:06d}.parquet"
        temporary = final.with_name(final.name + _TEMP_SUFFIX)
        pq.write_table(table, temporary)
        os.replace(temporary, final)
        self.next_index += 1
        self.schema = table.schema

    def close(self) -> None:
        # An empty job still leaves an (empty) output folder, so "it ran" and "it never ran" differ.
        self.directory.mkdir(parents=True, exist_ok=True)

    def abort(self) -> None:
        """Parts are complete files the moment they exist, so a failed job only must not create the folder."""


def _unified_schema(parts: list[Path]) -> pa.Schema:
    """One schema for all parts; a column whose types cannot be promoted into each other becomes text."""
    schemas = [pq.read_schema(p) for p in parts]
    try:
        return pa.unify_schemas(schemas, promote_options="permissive")
    except _ARROW_ERRORS:
        fields: dict[str, pa.Field] = {}
        for schema in schemas:
            for item in schema:
                seen = fields.get(item.name)
                if seen is None or pa.types.is_null(seen.type):
                    fields[item.name] = item
                elif seen.type != item.type and not pa.types.is_null(item.type):
                    fields[item.name] = pa.field(item.name, pa.string())
        return pa.schema(list(fields.values()))


def _conform(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray | pa.Array:
    try:
        return column.cast(target)
    except _ARROW_ERRORS:
        return _as_json_strings(column.to_pylist())


def read_table(directory: Path) -> pa.Table:
    """All parts as one table, missing passthrough columns filled with nulls and types unified."""
    parts = part_files(directory)
    if not parts:
        return pa.table({})
    schema = _unified_schema(parts)
    tables = []
    for path in parts:
        table = pq.read_table(path)
        columns = [
            _conform(table.column(f.name), f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
            for f in schema
        ]
        tables.append(pa.Table.from_arrays(columns, schema=schema))
    return pa.concat_tables(tables)


def read_rows(directory: Path) -> list[dict[str, Any]]:
    """Rows as dicts shaped like the JSONL output (maps back to dicts)."""
    rows = read_table(directory).to_pylist()
    for row in rows:
        evidence = row.get("evidence")
        if isinstance(evidence, list):
            row["evidence"] = dict(evidence)
    return rows
