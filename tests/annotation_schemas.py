"""JSON schemas of the annotation tools' import formats, written from their documentation (not shipped by them).

Label Studio, "Task format" (https://labelstud.io/guide/task_format): a list of tasks; ``data`` is required
and holds the values the labeling config reads (``$text``); optional ``annotations`` and ``predictions`` are
lists of objects whose ``result`` is a list of regions, each with ``from_name``, ``to_name``, ``type`` and a
``value``; a prediction may carry ``model_version`` (string) and ``score`` (number). For ``choices`` the value
is ``{"choices": [str, ...]}``. doccano, "Import dataset" for text classification
(https://doccano.github.io/doccano/tutorial/): one JSON object per line with a string ``text`` and ``label``,
a list of label names; other keys are kept as metadata.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

_REGION = {
    "type": "object",
    "required": ["from_name", "to_name", "type", "value"],
    "properties": {
        "from_name": {"type": "string"},
        "to_name": {"type": "string"},
        "type": {"type": "string"},
        "value": {"type": "object"},
    },
}
_CHOICES_REGION = {
    **_REGION,
    "properties": {
        **_REGION["properties"],
        "type": {"const": "choices"},
        "value": {
            "type": "object",
            "required": ["choices"],
            "properties": {"choices": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        },
    },
}

LABELSTUDIO_TASKS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"type": "string", "minLength": 1}},
            },
            "annotations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["result"],
                    "properties": {"result": {"type": "array", "items": _CHOICES_REGION}},
                },
            },
            "predictions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["result"],
                    "properties": {
                        "model_version": {"type": "string"},
                        "score": {"type": "number"},
                        "result": {"type": "array", "items": _CHOICES_REGION},
                    },
                },
            },
        },
    },
}

DOCCANO_EXAMPLE: dict[str, Any] = {
    "type": "object",
    "required": ["text", "label"],
    "properties": {"text": {"type": "string", "minLength": 1}, "label": {"type": "array", "items": {"type": "string"}}},
}


def config_tags(config_xml: str) -> dict[str, Any]:
    """The ``Choices`` name, the ``Text`` name it points at, the value variable and the allowed choices."""
    root = ET.fromstring(config_xml)
    text = root.find("Text")
    choices = root.find("Choices")
    assert text is not None and choices is not None
    return {
        "text_name": text.get("name"),
        "text_variable": (text.get("value") or "").lstrip("$"),
        "choices_name": choices.get("name"),
        "choices_to": choices.get("toName"),
        "values": {choice.get("value") for choice in choices.findall("Choice")},
    }


def config_problems(tasks: list[dict[str, Any]], config_xml: str) -> list[str]:
    """What Label Studio would reject given the labeling config: unknown tag names or choice values."""
    tags = config_tags(config_xml)
    problems = []
    for n, task in enumerate(tasks):
        if tags["text_variable"] not in task["data"]:
            problems.append(f"task {n}: data lacks ${tags['text_variable']}")
        for kind in ("predictions", "annotations"):
            for item in task.get(kind) or []:
                for region in item["result"]:
                    if (region["from_name"], region["to_name"]) != (tags["choices_name"], tags["text_name"]):
                        problems.append(f"task {n}: {kind} region names {region['from_name']}->{region['to_name']}")
                    unknown = set(region["value"]["choices"]) - tags["values"]
                    if unknown:
                        problems.append(f"task {n}: {kind} uses choices {sorted(unknown)} not in the config")
    return problems
