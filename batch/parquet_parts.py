"""Parquet output as a folder of part files, one per batch.

A Parquet file is only readable once its footer is written at close, and it cannot be reopened for
appending; a single file would therefore lose everything when a long job is killed. Instead the output
``scores.parquet`` is a *folder* (the layout Spark, Ray and pandas already read as one table) and every
batch becomes ``part-NNNNNN.parquet``, written under a temporary name and renamed into place. Every
visible part is complete, a kill loses at most the batch in flight, and resuming reads the ids of the
existing parts and continues the numbering.

Score columns have fixed Arrow types, derived from the result types (:func:`arrow_type`; ``scores`` is a
struct with one field per label, ``evidence`` a map from label to sentences) so parts agree with each other;
passthrough columns are inferred, kept at the type of earlier parts where they can be cast, and JSON-encoded
when Arrow cannot type them at all.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from narrascope.batch.columns import ID_TYPE, SCORE_FIELDS

PART_PATTERN = re.compile(r"^part-(\d{6})\.parquet$")
_TEMP_SUFFIX = ".inprogress"

_SCALARS: dict[Any, pa.DataType] = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
# A per-label score map becomes a struct with one field per label (built from each batch's rows), so that
# ``scores.war_preparation`` is an ordinary column in SQL engines and dataframes.
_LABEL_SCORES = dict[str, float]


def arrow_type(annotation: Any) -> pa.DataType | None:
    """The Arrow type of a result field's Python type (``None`` for a per-label score map, see above)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation == _LABEL_SCORES:
        return None
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if origin is Literal and all(isinstance(value, str) for value in args):
        return pa.string()
    if origin in (Union, UnionType):
        present = [arg for arg in args if arg is not type(None)]
        if len(present) == 1:
            return arrow_type(present[0])
    if origin is list:
        item = arrow_type(args[0])
        if item is not None:
            return pa.list_(item)
    if origin is dict and args[0] is str:
        value = arrow_type(args[1])
        if value is not None:
            return pa.map_(pa.string(), value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        parts = [(name, arrow_type(info.annotation)) for name, info in annotation.model_fields.items()]
        if all(kind is not None for _, kind in parts):
            return pa.struct(parts)
    raise TypeError(f"no Arrow type for result field type {annotation!r}; extend parquet_parts.arrow_type")


_FIXED_TYPES: dict[str, pa.DataType | None] = {
    "id": arrow_type(ID_TYPE),
    **{name: arrow_type(annotation) for name, annotation in SCORE_FIELDS.items()},
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


def _label_struct(name: str, rows: list[dict[str, Any]]) -> pa.DataType:
    labels = list((rows[0].get(name) or {}).keys())
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
        elif name in _FIXED_TYPES:
            expected = _FIXED_TYPES[name] or _label_struct(name, rows)
        else:
            expected = None
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
