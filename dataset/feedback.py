"""Turn stored feedback into dataset rows that researchers can add to ``data/`` and retrain on.

Rows follow the sentence-row contract of the dataset (``id, text, lang, labels, group, register, source,
split``) and are checked by the same row rules as the dataset itself before anything is written. The
dataset is sentence-level, so document feedback is exported only when the document is a single sentence: a
document's labels do not say which of its sentences carries them. When a text was corrected more than once
the latest correction wins. A correction to "no label" of a text the model had labelled is what the dataset
calls a hard negative, and is marked as one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrascope.dataset.check import Problem, validate_rows
from narrascope.dataset.feedback_store import FeedbackStore, StoredFeedback
from narrascope.dataset.rows import normalize_text
from narrascope.model.language import USUAL_SCRIPT, LanguageId, identify_language
from narrascope.model.sentences import split_sentences

REGISTER = "moderator_feedback"
SOURCE = "feedback"
SPLIT = "train"

Validator = Callable[[list[dict[str, Any]], str], list[Problem]]


class ExportValidationError(ValueError):
    """Rows broke the dataset's row rules; nothing was written. The message lists every problem and its row."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class ExportReport:
    """What an export did. ``problems`` are the data check's findings on the full set of rows (their lines
    number those rows); ``dropped`` maps each row left out by ``skip_invalid`` to its reasons."""

    path: Path
    written: int = 0
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)


def _row(item: StoredFeedback, text: str) -> dict[str, Any]:
    record = item.record
    if record.document_id:
        digest = hashlib.sha1(record.document_id.encode("utf-8")).hexdigest()[:10]
        group = f"feedback-doc-{digest}"
    else:
        group = f"feedback-{item.id}"
    language = LanguageId.from_tag(record.lang, text) if record.lang else identify_language(text)
    row: dict[str, Any] = {
        "id": f"feedback-{item.id}",
        "text": text,
        "lang": language.code,
        "labels": list(record.labels),
        "group": group,
        "register": REGISTER,
        "source": SOURCE,
        "split": SPLIT,
    }
    if language.script != USUAL_SCRIPT.get(language.code, language.script):
        row["script"] = language.script  # Latin-script Kazakh is kk + Latn in the dataset as in the API
    if not record.labels and record.predicted:
        row["hard_negative"] = True
    if record.note:
        row["note"] = record.note
    return row


def feedback_rows(items: Iterable[StoredFeedback]) -> tuple[list[dict[str, Any]], list[str]]:
    """Dataset rows (latest correction per text wins) and a reason for each item left out.

    "Same text" is the data check's own near-duplicate key, so two corrections the check would reject as
    duplicates collapse here into the later one instead of failing the export.
    """
    latest: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for item in items:
        text = item.record.text.strip()
        if item.record.kind == "document":
            spans = split_sentences(text)
            if len(spans) != 1:
                skipped.append(f"feedback {item.id}: document with {len(spans)} sentences (rows are sentences)")
                continue
            text = spans[0].text
        key = normalize_text(text)
        if key in latest:
            skipped.append(f"{latest[key]['id']}: superseded by the later correction feedback-{item.id}")
        latest[key] = _row(item, text)
    rows = sorted(latest.values(), key=lambda row: int(row["id"].rsplit("-", 1)[1]))
    return rows, skipped


def _row_index(problem: Problem, rows: list[dict[str, Any]], source: str) -> int | None:
    """Index into ``rows`` of the row a problem is about: line ``n`` of the file to be written is ``rows[n - 1]``."""
    if problem.file == source and problem.line is not None and 1 <= problem.line <= len(rows):
        return problem.line - 1
    return None


def _listing(problems: list[Problem], rows: list[dict[str, Any]], source: str) -> str:
    """Problems with the feedback row they concern: the file they point into has not been written yet."""
    lines = []
    for problem in problems:
        index = _row_index(problem, rows, source)
        where = f"{problem.file}:{problem.line} ({rows[index]['id']})" if index is not None else problem.file
        lines.append(f"{where}: {problem.reason}")
    return "\n  ".join(lines)


def _drop_invalid(
    rows: list[dict[str, Any]], problems: list[Problem], source: str, validate: Validator, report: ExportReport
) -> list[dict[str, Any]]:
    """Leave out the rows the problems point at, recording why, until the rest pass.

    Dropping a row renumbers the rows after it, so the rest are checked again; every round drops at least one
    row, so this ends.
    """
    while problems:
        at_fault: dict[int, list[str]] = {}
        for problem in problems:
            index = _row_index(problem, rows, source)
            if index is None:
                raise ExportValidationError(
                    f"cannot tell which row this problem is about, nothing written: {problem}", problems
                )
            at_fault.setdefault(index, []).append(problem.reason)
        for index, reasons in at_fault.items():
            report.dropped.setdefault(str(rows[index]["id"]), []).extend(reasons)
        rows = [row for index, row in enumerate(rows) if index not in at_fault]
        problems = validate(rows, source)
    return rows


def export_feedback(
    store: FeedbackStore,
    output: Path,
    *,
    force: bool = False,
    skip_invalid: bool = False,
    validator: Validator | None = None,
) -> ExportReport:
    """Write accepted feedback to ``output`` as JSONL rows that pass the data check.

    Refuses to overwrite without ``force``. With problems, writes nothing and raises, unless
    ``skip_invalid`` drops the offending rows (they are reported in ``ExportReport.dropped``).
    """
    output = Path(output)
    if output.exists() and not force:
        raise FileExistsError(f"{output} exists; pass --force to overwrite it")
    validate = validator or validate_rows
    rows, skipped = feedback_rows(store.iter_all())
    source = str(output)
    problems = validate(rows, source)
    report = ExportReport(output, skipped=skipped, problems=list(problems))
    if problems and not skip_invalid:
        raise ExportValidationError(
            f"{len(problems)} problem(s), nothing written:\n  {_listing(problems, rows, source)}", problems
        )
    rows = _drop_invalid(rows, problems, source, validate, report)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=output.parent, delete=False, suffix=".tmp") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(fh.name, output)
    report.written = len(rows)
    return report
