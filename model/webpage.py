"""The article in a web page: its main text, title, author and date, found by trafilatura.

Pages as they are carry navigation, cookie banners, bylines, "related articles" and footers, which a tag
stripper keeps and the model then scores as if they were the article. trafilatura (maintained, evaluated on
web corpora in many languages) finds the main content instead, and its metadata (title, author, date) is
passed through. Batch inputs (``.html`` files, RSS/Atom contents) and the service's page upload
(``POST /v1/extract``, used by the moderator page's file drop) all come here, so they read a page the same way.

Extraction never fetches anything: it is given the markup, never a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


class NoMainContent(ValueError):
    """The page has no article text: only navigation, footers and other boilerplate, or nothing at all."""


@dataclass(frozen=True)
class ExtractionSettings:
    """trafilatura's options; they change which text is scored, so they are defined once, here.

    ``favor_precision`` drops borderline blocks (a nav-only page gives nothing rather than its menu);
    tables stay because statements and vote counts are published as tables; comments are never the article.
    """

    favor_precision: bool = True
    include_tables: bool = True
    include_comments: bool = False


DEFAULT_EXTRACTION = ExtractionSettings()


@dataclass(frozen=True)
class Page:
    """The article text (one line per paragraph, so a headline is its own sentence) and its metadata."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None

    def metadata(self) -> dict[str, str | None]:
        return {"title": self.title, "author": self.author, "date": self.date}


def extract_page(html: str, settings: ExtractionSettings = DEFAULT_EXTRACTION) -> Page:
    """The main content of a whole page; raises :class:`NoMainContent` when there is none."""
    import trafilatura

    found = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        favor_precision=settings.favor_precision,
        include_tables=settings.include_tables,
        include_comments=settings.include_comments,
        as_dict=True,
    )
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    text = _tidy(meta.get("text") or "")
    if not _LETTER.search(text):
        raise NoMainContent("no main content: the page has no article text, only navigation or boilerplate")
    return Page(
        text=text, title=_clean(meta.get("title")), author=_clean(meta.get("author")), date=_clean(meta.get("date"))
    )


def fragment_text(html: str, settings: ExtractionSettings = DEFAULT_EXTRACTION) -> str:
    """Text of an HTML fragment such as a feed entry's summary or content.

    A full content (``content:encoded``) is a page body, so its main content is extracted like a page's
    (dropping the "related" links feeds append). A summary of a sentence or two is too short for main-content
    detection; it is a fragment without boilerplate by nature, so it falls back to trafilatura's plain-text
    conversion of the same markup. Returns ``""`` when the fragment holds no text.
    """
    import trafilatura

    try:
        return extract_page(f"<html><body>{html}</body></html>", settings).text
    except NoMainContent:
        return _tidy(trafilatura.html2txt(f"<html><body>{html}</body></html>") or "")


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _tidy(text: str) -> str:
    """One paragraph per line of the extraction, separated by a blank line (a hard sentence break)."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def decode_html(data: bytes) -> str:
    """Decode a page: UTF-8 first, then the charset its ``<meta>`` declares (older Russian sites use cp1251).

    Raises ``UnicodeDecodeError`` (or ``LookupError`` for an unknown charset) when neither works, so the
    reader can report the file instead of scoring mojibake.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        declared = _CHARSET.search(data[:4096])
        if not declared:
            raise
        return data.decode(declared.group(1).decode("ascii"))
