"""What readers hand to the scoring loop: a :class:`Record` to score or a :class:`BadRecord` to report.

Readers never raise on a bad row: a day of scraped news always has a few broken items, and one of them must
not stop a job that has been running for an hour. The same validation serves the local readers and the
Ray workers, so both engines accept and reject exactly the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from narrascope.batch.columns import SCORE_COLUMNS
from narrascope.model.documents import Document

# An input field named like a score column (or ``id``) is kept as ``input_<name>`` so passthrough never
# overwrites, or is overwritten by, a score.
OUTPUT_FIELDS = frozenset({"id", *SCORE_COLUMNS})
RENAMED_PREFIX = "input_"
# An input field with this name is a language hint for the scorer (and is passed through as well).
LANG_FIELD = "lang"


@dataclass(frozen=True)
class FieldMap:
    """Which input fields hold the document id and text (``--id-field``/``--text-field``)."""

    id_field: str = "id"
    text_field: str = "text"

    def __post_init__(self) -> None:
        if not self.id_field or not self.text_field:
            raise ValueError(f"id and text field names must be non-empty, got {self.id_field!r}, {self.text_field!r}")
        if self.id_field == self.text_field:
            raise ValueError(f"id and text must be different fields, both are {self.id_field!r}")


@dataclass(frozen=True)
class Record:
    """One document to score, with the input fields to copy to its output row."""

    id: str
    text: str
    location: str
    lang: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def document(self) -> Document:
        return Document(id=self.id, text=self.text, lang=self.lang)


@dataclass(frozen=True)
class BadRecord:
    """A row that cannot be scored, and why; it goes to the error file and the job continues."""

    location: str
    reason: str
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "location": self.location, "reason": self.reason}


def passthrough(mapping: Mapping[str, Any], consumed: set[str]) -> dict[str, Any]:
    """Input fields to copy to the output, renaming any that collide with an output column."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if key in consumed:
            continue
        name = str(key)
        out[RENAMED_PREFIX + name if name in OUTPUT_FIELDS else name] = value
    return out


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def record_from_mapping(mapping: Mapping[str, Any], location: str, fields: FieldMap) -> Record | BadRecord:
    """Validate one input row (a JSON object, a CSV row, a Parquet row)."""
    raw_id = mapping.get(fields.id_field)
    doc_id: str | None
    if isinstance(raw_id, str) and raw_id.strip():
        doc_id = raw_id
    elif isinstance(raw_id, int) and not isinstance(raw_id, bool):
        doc_id = str(raw_id)
    else:
        doc_id = None
    if fields.id_field not in mapping or raw_id is None:
        return BadRecord(location, f"no {fields.id_field!r} field")
    if doc_id is None:
        return BadRecord(
            location,
            f"{fields.id_field!r} must be a non-empty string or an integer, got {_type_name(raw_id)} {raw_id!r}"[:300],
        )
    text = mapping.get(fields.text_field)
    if fields.text_field not in mapping or text is None:
        return BadRecord(location, f"no text: no {fields.text_field!r} field", doc_id)
    if not isinstance(text, str):
        return BadRecord(location, f"no text: {fields.text_field!r} is {_type_name(text)}, not a string", doc_id)
    if not text.strip():
        return BadRecord(location, f"no text: {fields.text_field!r} is empty", doc_id)
    lang = mapping.get(LANG_FIELD)
    return Record(
        id=doc_id,
        text=text,
        location=location,
        lang=lang if isinstance(lang, str) and lang else None,
        fields=passthrough(mapping, {fields.id_field, fields.text_field}),
    )


def parse_json_line(raw: bytes, location: str, fields: FieldMap) -> Record | BadRecord | None:
    """One JSONL line as bytes (so undecodable input is reported, not fatal); ``None`` for a blank line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        return None
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadRecord(location, f"undecodable: not valid UTF-8 at byte {exc.start}")
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return BadRecord(location, f"malformed JSON line: {exc.msg} at column {exc.colno}")
    if not isinstance(value, dict):
        return BadRecord(location, f"malformed JSON line: a JSON {_type_name(value)}, not an object")
    return record_from_mapping(value, location, fields)
