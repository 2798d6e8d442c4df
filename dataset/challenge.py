"""The challenge suite: CheckList-style items in ``data/challenge/*.jsonl``, for evaluation only.

Each item tests one *capability* the sentence splits cannot show on their own (a model can score 0.9 F1 and
still flag every sentence that names the president). An item passes when the model predicts exactly its
``labels``, so items are written with one clearly right label set. They are never trained on: the check
refuses an item whose normalised text is also a sentence row or an article sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrascope.dataset.problems import Problem, content_problems
from narrascope.dataset.rows import (
    Article,
    DatasetError,
    Location,
    SentenceRow,
    challenge_files,
    iter_jsonl,
    language_tag,
    normalize_text,
)
from narrascope.labels import Taxonomy

CAPABILITIES = (
    "entity_neutrality",
    "polarity",
    "hedging",
    "long_sentences",
    "noise",
    "script_language",
    "procedure_foreign_td",
)
CHALLENGE_FIELDS = ("id", "capability", "text", "lang", "labels")


@dataclass(frozen=True)
class ChallengeItem:
    id: str
    capability: str
    text: str
    lang: str
    labels: tuple[str, ...]
    script: str | None = None
    location: Location = field(default=Location("<memory>", 0), compare=False)

    @property
    def language(self) -> str:
        """The language as reports group it: Latin-script Kazakh apart from Cyrillic Kazakh."""
        return language_tag(self.lang, self.script)


def _item(obj: dict[str, Any], where: Location) -> ChallengeItem:
    return ChallengeItem(
        id=str(obj.get("id", "")),
        capability=str(obj.get("capability", "")),
        text=str(obj.get("text", "")),
        lang=str(obj.get("lang", "")),
        labels=tuple(obj.get("labels") or ()),
        script=str(obj["script"]) if obj.get("script") is not None else None,
        location=where,
    )


def load_challenge(data_dir: Path) -> list[ChallengeItem]:
    """Every item of the suite; raises on the first unparsable line (``narrascope data check`` lists them all)."""
    items = []
    for path in challenge_files(data_dir):
        for where, obj, error in iter_jsonl(path):
            if error or obj is None:
                raise DatasetError(f"{where}: {error}")
            items.append(_item(obj, where))
    return items


def _item_problems(obj: dict[str, Any], where: Location, taxonomy: Taxonomy) -> list[Problem]:
    problems = []
    missing = [name for name in CHALLENGE_FIELDS if name not in obj]
    if missing:
        problems.append(Problem.at(where, f"missing field(s) {', '.join(missing)}"))
    if obj.get("capability") not in CAPABILITIES:
        problems.append(
            Problem.at(
                where, f"unknown capability {obj.get('capability')!r} (expected one of {', '.join(CAPABILITIES)})"
            )
        )
    return problems + content_problems(obj, where, taxonomy)


def challenge_problems(
    data_dir: Path, rows: list[SentenceRow], articles: list[Article], taxonomy: Taxonomy
) -> list[Problem]:
    """Row rules for every item, unique ids, and no item that is also training or evaluation data."""
    seen = {normalize_text(row.text): f"sentence {row.id} ({row.location})" for row in rows}
    for article in articles:
        for sentence in article.sentences():
            seen.setdefault(normalize_text(sentence.text), f"a sentence of article {article.id}")
    problems: list[Problem] = []
    ids: dict[str, Location] = {}
    for path in challenge_files(data_dir):
        for where, obj, error in iter_jsonl(path):
            if error or obj is None:
                problems.append(Problem.at(where, str(error)))
                continue
            problems += _item_problems(obj, where, taxonomy)
            item_id = str(obj.get("id", ""))
            if item_id in ids:
                problems.append(Problem.at(where, f"duplicate challenge id {item_id!r} (first at {ids[item_id]})"))
            ids.setdefault(item_id, where)
            key = normalize_text(str(obj.get("text", "")))
            if key in seen:
                problems.append(Problem.at(where, f"challenge item repeats {seen[key]}: items are evaluation only"))
            seen.setdefault(key, f"challenge item {item_id} ({where})")
    return problems
