"""A broken data rule and where it is, and the content rules every dataset object shares.

Sentence rows and challenge items both carry a text, a language (with an optional script) and labels; one
function checks those, so the two kinds of row are held to the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from narrascope.dataset.rows import ALL_LANGUAGES, Location
from narrascope.labels import Taxonomy
from narrascope.model.language import SCRIPT_CODES, USUAL_SCRIPT, script_letters


@dataclass(frozen=True)
class Problem:
    """One broken rule and where: ``line`` is ``None`` for rules about a whole file or the whole dataset."""

    file: str
    line: int | None
    reason: str

    @classmethod
    def at(cls, where: Location, reason: str) -> Problem:
        return cls(where.file, where.line, reason)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line is not None else f"{self.file}: {self.reason}"


def content_problems(obj: dict[str, Any], where: Location, taxonomy: Taxonomy) -> list[Problem]:
    """Text, language, script and labels of one object (a sentence row or a challenge item)."""
    problems = []
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem.at(where, "empty or whitespace-only text"))
    if obj.get("lang") not in ALL_LANGUAGES:
        problems.append(
            Problem.at(where, f"bad language code {obj.get('lang')!r} (expected one of {', '.join(ALL_LANGUAGES)})")
        )
    problems += _script_problems(obj, where)
    labels = obj.get("labels")
    if not isinstance(labels, list):
        problems.append(Problem.at(where, f"labels must be a list, got {type(labels).__name__}"))
    else:
        for label in labels:
            if label not in taxonomy:
                problems.append(Problem.at(where, f"unknown label {label!r}"))
        if len(set(labels)) != len(labels):
            problems.append(Problem.at(where, f"repeated label in {labels}"))
    return problems


def _script_problems(obj: dict[str, Any], where: Location) -> list[Problem]:
    """A row's text must be written in the script it claims: the ``script`` field (ISO 15924) where it has one,
    else its language's usual script. Latin-script Kazakh is ``"lang": "kk", "script": "Latn"``, as the API
    reports it. Only a text with no letter of that script is refused: a Russian row may quote a Latin name."""
    script = obj.get("script")
    if script is not None and script not in SCRIPT_CODES:
        return [Problem.at(where, f"unknown script {script!r} (expected one of {', '.join(sorted(SCRIPT_CODES))})")]
    text, lang = obj.get("text"), obj.get("lang")
    expected = script or (USUAL_SCRIPT.get(lang) if isinstance(lang, str) else None)
    if not isinstance(text, str) or expected is None:
        return []
    letters = script_letters(text)
    if letters and not letters[expected]:
        found = letters.most_common(1)[0][0]
        return [Problem.at(where, f'text is in script {found!r} but the row says {expected!r} (set "script")')]
    return []
