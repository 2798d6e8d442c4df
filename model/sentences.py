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
_NOT_SPACE = re.compile(r"\S")  # ``\S`` and ``str.isspace`` agree on every code point
_NOT_BLANK = re.compile(r"[^ \t]")
_INITIALS = re.compile(r"(?:\w\.-?)*\w")
# Longest token (openers stripped) that can still be an abbreviation or initials; anything longer is a word.
_MAX_ABBREVIATION = max(max(len(a) for a in ABBREVIATIONS), len("Қ.-Ж"))

# Linear time is a requirement, not an optimisation: the service splits untrusted text on its request path,
# and one quadratic step lets a 20 kB document hold a worker for seconds. Every scan below therefore starts
# where the previous one stopped (or covers a stretch no other scan covers), and no step slices "the rest of
# the text". tests/test_sentences_properties.py holds the splitter to this on adversarial shapes.


@dataclass(frozen=True)
class Span:
    """A sentence and where it sits in the source text."""

    start: int
    end: int
    text: str


def _token_before(line: str, end: int) -> str:
    """The run of non-whitespace that ends at ``end``.

    Walks back only over that run. The splitter asks only about periods followed by whitespace, so the runs
    it asks about never overlap and all calls together read each character at most once (a regex anchored
    with ``$`` and searched from the start of the line would rescan the line for every period).
    """
    start = end
    while start > 0 and not line[start - 1].isspace():
        start -= 1
    return line[start:end]


def _is_abbreviation(line: str, period_at: int) -> bool:
    token = _token_before(line, period_at).lstrip(_OPENERS).lower()
    if not token or len(token) > _MAX_ABBREVIATION:
        return False
    if token in ABBREVIATIONS:
        return True
    # Initials such as "Қ.-Ж." or "J." : one letter (optionally hyphenated) before the period.
    return bool(_INITIALS.fullmatch(token)) and len(token.replace(".", "").replace("-", "")) <= 2


def _starts_sentence(line: str, at: int) -> bool:
    """Whether the text from ``at`` (after optional whitespace) can open a sentence; the end of the line can.

    Looks only at the first non-whitespace character instead of stripping the rest of the line: the
    whitespace it skips lies between one terminator and the next word, so no two calls read the same stretch.
    """
    found = _NOT_SPACE.search(line, at)
    if not found:
        return True
    first = found.group()
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
        if not _starts_sentence(line, end):
            continue
        if match.group(0).startswith(".") and len(match.group(0).rstrip("\"'»”’)]")) == 1:
            if _is_abbreviation(line, match.start()):
                continue
        pieces.append((start, line_start + end))
        start = line_start + end
    pieces.append((start, line_end))
    return pieces


def _lines(text: str) -> list[tuple[int, int]]:
    """Hard line breaks end a sentence (headlines, list items), unless the next line continues lowercase.

    Whether the block so far has content is carried from newline to newline rather than recomputed from the
    block's start, and the next line's first character is found by skipping only its leading blanks, so a
    text made of newlines (or of soft-wrapped lines) costs one pass.
    """
    blocks: list[tuple[int, int]] = []
    start = 0
    segment_start = 0  # first character after the previous newline
    has_content = False  # whether text[start:newline] holds anything but whitespace
    for match in re.finditer(r"\n", text):
        newline = match.start()
        has_content = has_content or _NOT_SPACE.search(text, segment_start, newline) is not None
        segment_start = match.end()
        following = _NOT_BLANK.search(text, match.end())
        if following and following.group().islower() and has_content:
            continue
        blocks.append((start, newline))
        start = match.end()
        has_content = False
    blocks.append((start, len(text)))
    return blocks


def split_sentences(text: str) -> list[Span]:
    """Sentences of ``text`` with offsets; whitespace around them is excluded, nothing else is dropped."""
    spans: list[Span] = []
    for line_start, line_end in _lines(text):
        if line_start == line_end:  # blank line: nothing to split (keeps a flood of newlines cheap)
            continue
        for start, end in _split_line(text, line_start, line_end):
            piece = text[start:end]
            sentence = piece.strip()
            if sentence:
                lead = len(piece) - len(piece.lstrip())
                spans.append(Span(start + lead, start + lead + len(sentence), sentence))
    return spans
