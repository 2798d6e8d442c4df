"""Ideas held out of training (``data/ideas.yaml``): which rows express them, in any language.

An idea is a fact or an argument (the Semipalatinsk closure, Turkish drones, "mercenaries") named by the
words that carry it in each dataset language. Rows that mention one go to the ``idea_test`` split with their
whole paraphrase group and minimal pair, so the model is scored on arguments it never saw in training.
Matching is on folded text, so one pattern covers the spellings of Latin-script Kazakh and Turkish with and
without diacritics.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

from narrascope.dataset.rows import SentenceRow

IDEAS_FILE = "ideas.yaml"
_FOLD = str.maketrans({"ı": "i", "ё": "е", "’": "'", "ʼ": "'"})


def fold_text(text: str) -> str:
    """NFKC, lower case, combining marks (accents, diacritics) removed, dotless i read as i, ё as е.

    Cyrillic letters whose identity is a diacritic in NFD (й, ї, ё) are recomposed, so only Latin accents go.
    """
    lowered = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    out: list[str] = []
    for char in unicodedata.normalize("NFD", lowered):
        if unicodedata.combining(char) and out and "CYRILLIC" in unicodedata.name(out[-1], ""):
            out[-1] = unicodedata.normalize("NFC", out[-1] + char)
        elif not unicodedata.combining(char):
            out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class Idea:
    id: str
    description: str
    patterns: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return self.matches_folded(fold_text(text))

    def matches_folded(self, folded: str) -> bool:
        """For a text already passed through :func:`fold_text` (fold once, test every idea)."""
        return any(pattern.search(folded) for pattern in self.patterns)


def load_ideas(data_dir: Path) -> list[Idea]:
    """The held-out ideas, or none when the dataset has no ``ideas.yaml``. Bad patterns name the idea."""
    path = Path(data_dir) / IDEAS_FILE
    if not path.is_file():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    ideas = []
    for number, entry in enumerate(raw.get("ideas") or [], 1):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("patterns"):
            raise ValueError(f"{path}: idea #{number} needs an 'id' and a list of 'patterns'")
        try:
            patterns = tuple(re.compile(fold_text(str(p))) for p in entry["patterns"])
        except re.error as exc:
            raise ValueError(f"{path}: idea {entry['id']!r} has a bad pattern: {exc}") from exc
        ideas.append(Idea(str(entry["id"]), str(entry.get("description", "")), patterns))
    seen = [idea.id for idea in ideas]
    if len(set(seen)) != len(seen):
        raise ValueError(f"{path}: idea ids repeat: {sorted({i for i in seen if seen.count(i) > 1})}")
    return ideas


def row_ideas(rows: list[SentenceRow], ideas: list[Idea]) -> dict[str, list[str]]:
    """``row id -> ids of the held-out ideas it mentions`` (rows that mention none are left out)."""
    found = {}
    for row in rows:
        folded = fold_text(row.text)
        names = [idea.id for idea in ideas if idea.matches_folded(folded)]
        if names:
            found[row.id] = names
    return found
