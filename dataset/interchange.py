"""Import from and export to the annotation tools researchers use (Label Studio, doccano).

Relabeling happens in those tools; rows must come back without losing their group, register or split, so
every dataset field rides along as task data (Label Studio) or as top-level metadata (doccano), and imports
are validated with the same row rules as ``narrascope data check``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from narrascope.dataset.check import validate_rows
from narrascope.dataset.rows import SENTENCE_FIELDS, iter_jsonl, write_jsonl
from narrascope.labels import Taxonomy, load_taxonomy

FORMATS = ("labelstudio", "doccano")
# Tag names of the labeling config: the Choices tag and the Text tag it labels (``$text`` of each task).
FROM_NAME = "narratives"
TO_NAME = "text"
_META = [name for name in SENTENCE_FIELDS if name not in ("text", "labels")] + ["hard_negative"]


class InterchangeError(ValueError):
    """An input file does not follow the tool's format; the message names the task or line."""


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    out = {name: row[name] for name in SENTENCE_FIELDS if name in row}
    if row.get("hard_negative"):
        out["hard_negative"] = True
    return out


def labelstudio_config(taxonomy: Taxonomy | None = None) -> str:
    """The labeling interface XML, so a project can be created that matches exported tasks."""
    taxonomy = taxonomy or load_taxonomy()
    choices = "\n".join(f'    <Choice value="{label.id}" hint="{label.name}"/>' for label in taxonomy.labels)
    return (
        f'<View>\n  <Text name="{TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="multiple" showInLine="false">\n{choices}\n'
        "  </Choices>\n</View>\n"
    )


def to_labelstudio(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tasks = []
    for row in rows:
        data = {"text": row["text"], **{name: row[name] for name in _META if name in row}}
        result = [
            {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": list(row["labels"])}}
        ]
        tasks.append({"data": data, "annotations": [{"result": result}]})
    return tasks


def from_labelstudio(tasks: Any, source: str, unannotated: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows from the latest non-cancelled annotation of each task.

    A task nobody annotated yet (only the model's ``predictions``) is an error, unless ``unannotated`` is
    given: then it is named there and left out, so a half-finished annotation batch imports what is done.
    """
    if not isinstance(tasks, list):
        raise InterchangeError(f"{source}: Label Studio export must be a JSON list of tasks")
    rows = []
    for position, task in enumerate(tasks):
        where = f"{source}: task {position} (id {task.get('id', '?') if isinstance(task, dict) else '?'})"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InterchangeError(f"{where}: task has no 'data' object")
        annotations = [a for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        if not annotations:
            if unannotated is None:
                raise InterchangeError(f"{where}: no (non-cancelled) annotation")
            unannotated.append(f"{where}: not annotated yet")
            continue
        latest = annotations[-1]
        labels: list[str] = []
        for item in latest.get("result") or []:
            if item.get("type") == "choices" and item.get("from_name") == FROM_NAME:
                labels += list(item.get("value", {}).get("choices") or [])
        rows.append(_clean({**task["data"], "labels": labels}))
    return rows


def to_doccano(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"text": row["text"], "label": list(row["labels"]), **{n: row[n] for n in _META if n in row}} for row in rows
    ]


def from_doccano(lines: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for where, obj in lines:
        if "text" not in obj or "label" not in obj:
            raise InterchangeError(f"{where}: doccano rows need 'text' and 'label'")
        rows.append(_clean({**obj, "labels": list(obj["label"])}))
    return rows


def read_rows(
    path: Path, fmt: str, unannotated: list[str] | None = None, source: str | None = None
) -> list[dict[str, Any]]:
    """Read an export file of ``fmt`` into dataset rows and validate them (raises with every problem).

    ``unannotated`` collects Label Studio tasks with no annotation instead of failing (see
    :func:`from_labelstudio`); ``source`` replaces every row's ``source`` (provenance of an annotation batch).
    """
    if fmt == "labelstudio":
        try:
            tasks = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InterchangeError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
        rows = from_labelstudio(tasks, str(path), unannotated)
    elif fmt == "doccano":
        lines = []
        for where, obj, error in iter_jsonl(Path(path)):
            if error or obj is None:
                raise InterchangeError(f"{where}: {error}")
            lines.append((str(where), obj))
        rows = from_doccano(lines)
    else:
        raise InterchangeError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if source is not None:
        rows = [{**row, "source": source} for row in rows]
    problems = validate_rows(rows, str(path))
    if problems:
        raise InterchangeError("imported rows are invalid:\n" + "\n".join(map(str, problems)))
    return rows


def write_rows(rows: list[dict[str, Any]], path: Path, fmt: str) -> None:
    if fmt == "labelstudio":
        Path(path).write_text(json.dumps(to_labelstudio(rows), ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "doccano":
        write_jsonl(Path(path), to_doccano(rows))
    else:
        raise InterchangeError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
