"""Sentence splitting with exact character offsets.

The model labels sentences, and moderators need to see *where* a narrative sits, so every span must
round-trip (``text[span.start:span.end] == span.text``). A rule-based splitter is used on purpose: it is
predictable, needs no model download, and handles the four first-class languages' abbreviations, «quotes»,
and headline or list lines that carry no final punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Tokens that end with a period but rarely end a sentence (compared lower-cased, without the final period).
ABBREVIATIONS = frozenset(
    {
        # English
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "e.g",
        "i.e",
        "cf",
        "no",
        "art",
        "gen",
        "col",
        "lt",
        "maj",
        "sgt",
        "gov",
        "sen",
        "rep",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "approx",
        "fig",
        "u.s",
        "u.n",
        "inc",
        "ltd",
        "co",
        "corp",
        # Russian
        "т.е",
        "т.к",
        "т.д",
        "т.п",
        "т.н",
        "т.ч",
        "и.о",
        "г",
        "гг",
        "ст",
        "им",
        "п",
        "пп",
        "ул",
        "д",
        "др",
        "пр",
        "см",
        "млн",
        "млрд",
        "тыс",
        "руб",
        "коп",
        "ок",
        "проф",
        "акад",
        "ген",
        "полк",
        "рис",
        "табл",
        "р-н",
        "обл",
        "с.г",
        "т.о",
        "напр",
        "гл",
        "ч",
        "чел",
        "км",
        "кв",
        "дол",
        "долл",
        # Kazakh
        "т.б",
        "т.с.с",
        "ж",
        "жж",
        "б.з.д",
        "бұл.с",
        "мыс",
        "қ",
        "көш",
        "ш",
        "теңг",
        # Ukrainian
        "т.зв",
        "р",
        "рр",
        "див",
        "тис",
        "грн",
        "вул",
        "м",
        "с",
        "ін",
    }
)

_TERMINATOR = re.compile(r"(?:[.!?…]+|\.{3})[\"'»”’)\]]*")
_OPENERS = "«\"“„'‘([—–-•*"
_PREV_TOKEN = re.compile(r"(\S+)$")


@dataclass(frozen=True)
class Span:
    """A sentence and where it sits in the source text."""

    start: int
    end: int
    text: str


def _is_abbreviation(line: str, period_at: int) -> bool:
    match = _PREV_TOKEN.search(line, 0, period_at)
    if not match:
        return False
    token = match.group(1).lstrip(_OPENERS).lower()
    if token in ABBREVIATIONS:
        return True
    # Initials such as "Қ.-Ж." or "J." : one letter (optionally hyphenated) before the period.
    return bool(re.fullmatch(r"(?:\w\.-?)*\w", token)) and len(token.replace(".", "").replace("-", "")) <= 2


def _starts_sentence(rest: str) -> bool:
    stripped = rest.lstrip()
    if not stripped:
        return True
    first = stripped[0]
    return first.isupper() or first.isdigit() or first in _OPENERS


def _split_line(text: str, line_start: int, line_end: int) -> list[tuple[int, int]]:
    """Split one line (already free of hard breaks) at terminators followed by a sentence start."""
    pieces: list[tuple[int, int]] = []
    start = line_start
    line = text[line_start:line_end]
    for match in _TERMINATOR.finditer(line):
        end = match.end()
        if end < len(line) and not line[end].isspace():
            continue
        if not _starts_sentence(line[end:]):
            continue
        if match.group(0).startswith(".") and len(match.group(0).rstrip("\"'»”’)]")) == 1:
            if _is_abbreviation(line, match.start()):
                continue
        pieces.append((start, line_start + end))
        start = line_start + end
    pieces.append((start, line_end))
    return pieces


def _lines(text: str) -> list[tuple[int, int]]:
    """Hard line breaks end a sentence (headlines, list items), unless the next line continues lowercase."""
    blocks: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"\n", text):
        following = text[match.end() :].lstrip(" \t")
        if following and following[0].islower() and text[start : match.start()].strip():
            continue
        blocks.append((start, match.start()))
        start = match.end()
    blocks.append((start, len(text)))
    return blocks


def split_sentences(text: str) -> list[Span]:
    """Sentences of ``text`` with offsets; whitespace around them is excluded, nothing else is dropped."""
    spans: list[Span] = []
    for line_start, line_end in _lines(text):
        for start, end in _split_line(text, line_start, line_end):
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                spans.append(Span(start, end, text[start:end]))
    return spans
