"""Annotation tasks with the model's guesses as pre-annotations, in Label Studio's and doccano's formats.

Label Studio (https://labelstud.io/guide/task_format): a JSON list of tasks, each ``{"data": {...},
"predictions": [{"model_version", "score", "result": [...]}]}``; a ``choices`` result names the labeling
config's ``Choices`` (``from_name``) and ``Text`` (``to_name``) tags, which are the ones ``narrascope data
labelstudio-config`` writes. doccano (text classification, https://doccano.github.io/doccano/tutorial/):
JSONL with ``text`` and ``label`` (a list of label names); every other key becomes the example's metadata.
Both carry the dataset fields (``id``, ``lang``, ``group``, ``register``, ``source``, ``split``) so a
corrected task imports straight back as a dataset row, and the source document id and offsets so the
annotator can open the sentence in context.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from narrascope.dataset.interchange import FROM_NAME, TO_NAME
from narrascope.dataset.rows import write_jsonl


def choices_result(labels: list[str]) -> list[dict[str, Any]]:
    """A Label Studio ``choices`` result; no label is an empty result (the annotator ticks nothing)."""
    if not labels:
        return []
    return [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": labels}}]


def labelstudio_task(row: dict[str, Any], predicted: list[str], score: float, model_version: str) -> dict[str, Any]:
    prediction = {"model_version": model_version, "score": round(score, 4), "result": choices_result(predicted)}
    return {"data": row, "predictions": [prediction]}


def doccano_example(row: dict[str, Any], predicted: list[str]) -> dict[str, Any]:
    return {**row, "label": predicted}


def write_tasks(path: Path, tasks: list[dict[str, Any]], fmt: str) -> None:
    if fmt == "labelstudio":
        Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "doccano":
        write_jsonl(Path(path), tasks)
    else:
        raise ValueError(f"unknown task format {fmt!r}; use labelstudio or doccano")
