"""Cheap script-based language identification for the four first-class languages.

A statistical identifier would be another dependency and model download; the four languages this service
cares about are separable by their alphabets, which is all moderators need to read per-language metrics.
Anything else is reported as ``und`` (undetermined) and still scored, since the encoder is multilingual.
"""

from __future__ import annotations

import re

KAZAKH_ONLY = set("әғқңөұүһӘҒҚҢӨҰҮҺ")
UKRAINIAN_ONLY = set("їєґЇЄҐ")
RUSSIAN_ONLY = set("ыэъёЫЭЪЁ")
_ENGLISH_WORDS = frozenset("the and of to is in that for on with was are by as it from has law its".split())
_WORD = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> str:
    """Return ``en``, ``ru``, ``kk``, ``uk`` or ``und``."""
    cyrillic = latin = kazakh = ukrainian = russian = i_letters = 0
    for char in text:
        if "\u0400" <= char <= "\u04ff":
            cyrillic += 1
            if char in KAZAKH_ONLY:
                kazakh += 1
            elif char in UKRAINIAN_ONLY:
                ukrainian += 1
            elif char in RUSSIAN_ONLY:
                russian += 1
            elif char in "іІ":
                i_letters += 1
        elif char.isascii() and char.isalpha():
            latin += 1
    if cyrillic == 0 and latin == 0:
        return "und"
    if cyrillic >= latin:
        if kazakh and kazakh >= ukrainian:
            return "kk"
        if ukrainian or (i_letters and not russian):
            return "uk"
        return "ru"
    words = [w.lower() for w in _WORD.findall(text)]
    hits = sum(1 for w in words if w in _ENGLISH_WORDS)
    return "en" if hits and hits * 12 >= len(words) or len(words) <= 3 else "und"
