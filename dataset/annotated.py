"""Bring an annotation batch back as dataset rows without overwriting what the dataset already says.

Corrected tasks (from ``narrascope select`` or ``data export``) become rows with their provenance
(``source: annotated/<batch>``), validated by the data check's row rules. A sentence the dataset already has
(same normalised text, the form the data check's duplicate rule uses) is never imported twice: with the same
labels it is left out as already present, with different labels it is a *conflict*, reported with both
locations for a person to settle, and left out too. Rows of the output file itself are not compared, so a
relabelled export can be re-imported over the file it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrascope.dataset.interchange import read_rows
from narrascope.dataset.rows import load_sentences, normalize_text, write_jsonl

ANNOTATED_SOURCE = "annotated/{batch}"


@dataclass
class ImportReport:
    """What an import wrote and what it left out, and why (each reason names the task or row)."""

    written: int = 0
    conflicts: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    unannotated: list[str] = field(default_factory=list)


def import_annotations(
    path: Path, fmt: str, output: Path, data_dir: Path | None, batch: str | None = None
) -> ImportReport:
    """Write the annotated rows of ``path`` to ``output``; compare them with ``data_dir``'s rows first."""
    report = ImportReport()
    source = ANNOTATED_SOURCE.format(batch=batch) if batch else None
    rows = read_rows(path, fmt, report.unannotated, source=source)
    existing: dict[str, Any] = {}
    if data_dir is not None and Path(data_dir).is_dir():
        out = Path(output).resolve()
        existing = {
            normalize_text(row.text): row
            for row in load_sentences(data_dir)
            if Path(row.location.file).resolve() != out
        }
    kept = []
    for position, row in enumerate(rows, 1):
        twin = existing.get(normalize_text(row["text"]))
        if twin is None:
            kept.append(row)
            continue
        where = f"{path}: row {position} ({row.get('id')})"
        if sorted(twin.labels) == sorted(row["labels"]):
            report.already_present.append(f"{where}: already in the dataset as {twin.id} ({twin.location})")
        else:
            report.conflicts.append(
                f"{where}: labelled {sorted(row['labels'])} here but {sorted(twin.labels)} as {twin.id} "
                f"({twin.location}); settle it there, it was not imported"
            )
    write_jsonl(Path(output), kept)
    report.written = len(kept)
    return report
