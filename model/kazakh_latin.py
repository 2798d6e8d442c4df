"""Kazakh written in the Latin alphabet, which lingua does not know (its Kazakh model is Cyrillic only).

Latin-script Kazakh reads to lingua as noise (Lithuanian, Welsh, Maori at 0.3-0.6 confidence), so it needs
its own evidence. A character trigram model of Latin-script Kazakh is built from the dataset's Cyrillic
Kazakh sentences transliterated into the 2018 (acute accents: á ǵ ń ó ú ý ı) and 2021 (ä ğ ñ ö ş ū ü ı)
official alphabets, and into their plain-ASCII forms as typed online. A text is Kazakh when its mean
trigram cross-entropy under that model is low: the native Latin Kazakh test sentences score 1.7-2.5 nats per
trigram, Uzbek, Turkish, Azerbaijani, French and German ones 3.1-4.8 (``bench/RESULTS.md``).

The table (``kk_latn_trigrams.json``) is generated, not written: ``python -m
narrascope.training.kazakh_latin`` rebuilds it from ``data/sentences``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE_PATH = Path(__file__).resolve().parent / "kk_latn_trigrams.json"

_CYRILLIC = "абвгғдежзийкқлмнңоөпрстуұүфхһцчшщъыіьэюяёә"
# The 2018 alphabet (decree of February 2018) and the 2021 one, letter for letter; ъ and ь are dropped.
_2018 = ["a", "b", "v", "g", "ǵ", "d", "e", "j", "z", "ı", "ı", "k", "q", "l", "m", "n", "ń", "o", "ó", "p", "r"]
_2018 += ["s", "t", "ý", "u", "ú", "f", "h", "h", "ts", "ch", "sh", "shch", "", "y", "i", "", "e", "ıý", "ıa"]
_2018 += ["ıo", "á"]
_2021 = ["a", "b", "v", "g", "ğ", "d", "e", "j", "z", "i", "i", "k", "q", "l", "m", "n", "ñ", "o", "ö", "p", "r"]
_2021 += ["s", "t", "u", "ū", "ü", "f", "h", "h", "s", "ş", "ş", "ş", "", "y", "ı", "", "e", "iu", "ia", "io"]
_2021 += ["ä"]
ALPHABETS = {"2018": dict(zip(_CYRILLIC, _2018, strict=True)), "2021": dict(zip(_CYRILLIC, _2021, strict=True))}
# How the same words are typed without the special letters (the "Reseimen ... daiyndalyp").
_ASCII = str.maketrans("áǵıńóúýäğñöşūü", "agineouuagnosu")
_WORD = re.compile(r"[^\W\d_]+")


def transliterate(text: str, alphabet: str) -> str:
    """Cyrillic Kazakh in one of the official Latin alphabets (lower case; other characters kept)."""
    table = ALPHABETS[alphabet]
    return "".join(table.get(char, char) for char in text.lower())


def latin_variants(text: str) -> list[str]:
    """The forms a Kazakh sentence takes in Latin script: both alphabets, with and without their diacritics."""
    forms = [transliterate(text, alphabet) for alphabet in ALPHABETS]
    return forms + [form.translate(_ASCII) for form in forms]


def trigrams(text: str) -> Iterator[str]:
    """Letter trigrams of each word, padded so that word starts and ends count (``"  q"``, ``"an "``)."""
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        for end in range(3, len(padded) + 1):
            yield padded[end - 3 : end]


def count_trigrams(texts: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(trigrams(text))
    return counts


@dataclass(frozen=True)
class KazakhLatinModel:
    """Add-``smoothing`` trigram model; ``threshold`` (nats per trigram) separates Kazakh from the rest."""

    counts: dict[str, int]
    smoothing: float
    alphabet_size: int
    threshold: float
    min_trigrams: int

    def __post_init__(self) -> None:
        contexts: Counter[str] = Counter()
        for gram, count in self.counts.items():
            contexts[gram[:2]] += count
        object.__setattr__(self, "_contexts", dict(contexts))

    def cross_entropy(self, text: str) -> float | None:
        """Mean negative log-probability per trigram, or ``None`` with too few trigrams to judge."""
        contexts: dict[str, int] = self.__dict__["_contexts"]
        total, n = 0.0, 0
        denominator_extra = self.smoothing * self.alphabet_size
        for gram in trigrams(text):
            numerator = self.counts.get(gram, 0) + self.smoothing
            total -= math.log(numerator / (contexts.get(gram[:2], 0) + denominator_extra))
            n += 1
        return total / n if n >= self.min_trigrams else None

    def is_kazakh(self, text: str) -> bool:
        score = self.cross_entropy(text)
        return score is not None and score <= self.threshold

    def to_json(self) -> dict[str, object]:
        return {
            "smoothing": self.smoothing,
            "alphabet_size": self.alphabet_size,
            "threshold": self.threshold,
            "min_trigrams": self.min_trigrams,
            "counts": dict(sorted(self.counts.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> KazakhLatinModel:
        counts = data["counts"]
        if not isinstance(counts, dict) or not counts:
            raise ValueError("Kazakh Latin trigram table has no counts")
        return cls(
            counts={str(k): int(v) for k, v in counts.items()},
            smoothing=float(data["smoothing"]),  # type: ignore[arg-type]
            alphabet_size=int(data["alphabet_size"]),  # type: ignore[call-overload]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
            min_trigrams=int(data["min_trigrams"]),  # type: ignore[call-overload]
        )


@lru_cache(maxsize=1)
def shipped_model() -> KazakhLatinModel:
    """The table shipped with the package, read once on first use (never at import)."""
    return KazakhLatinModel.from_json(json.loads(TABLE_PATH.read_text(encoding="utf-8")))
