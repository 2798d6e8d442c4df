"""The dataset on disk: sentence rows and articles as JSONL, read with their file and line for errors.

Sentences live in ``data/sentences/<lang>.jsonl`` and articles in ``data/articles/<lang>.jsonl``; one file per
language keeps reviews and diffs per language. Every row remembers where it came from, so the validator and
the training code can point at ``file:line`` instead of at an index nobody can find.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

# First-class languages: every label, quota and per-language target applies to each of them.
LANGUAGES = ("en", "ru", "kk", "uk")
# Languages this story is reposted in (machine-translated statements, network sites): smaller quotas, the same
# labels, and their own rows in every per-language report.
REPOST_LANGUAGES = ("fr", "de", "tr", "ar")
ALL_LANGUAGES = LANGUAGES + REPOST_LANGUAGES
# Latin-script Kazakh as reports, quotas and splits name it (``lang`` kk, ``script`` Latn; see language_tag).
LATIN_KAZAKH = "kk-Latn"
# ``idea_test`` holds whole ideas out (``data/ideas.yaml``): never trained on, it measures generalisation to
# ideas the model has not seen, while ``test`` (grouped by paraphrase) measures it on unseen sentences.
SPLITS = ("train", "dev", "test", "idea_test")
# Why a v2 row was written (issue 11), so reports can count what each kind of row teaches.
SUBSETS = ("neutral_entity", "minimal_pair", "long", "reported_speech", "other")
REGISTERS = (
    "official_statement",
    "wire_news",
    "fact_check",
    "headline",
    "social_post",
    "op_ed",
    "machine_translated_repost",
    "analysis",
    "interview",
    "forum_comment",
    "tv_transcript",
    "press_release",
    "moderator_feedback",
)
SENTENCE_FIELDS = ("id", "text", "lang", "labels", "group", "register", "source", "split")
_PUNCT = re.compile(r"[^\w\s]")
T = TypeVar("T")


def language_tag(lang: str, script: str | None) -> str:
    """The language a row is reported, stratified and held to quotas under: ``kk-Latn`` for Latin-script Kazakh
    (a row names its script only where it is not the language's usual one), else the language code."""
    return f"{lang}-{script}" if script else lang


def normalize_text(text: str) -> str:
    """The form used for duplicate detection: NFKC, lower case, punctuation dropped, spaces collapsed."""
    text = _PUNCT.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return " ".join(text.split())


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class SentenceRow:
    id: str
    text: str
    lang: str
    labels: list[str]
    group: str
    register: str
    source: str
    split: str
    hard_negative: bool = False
    location: Location = field(default_factory=lambda: Location("<memory>", 0))
    # ISO 15924, only where the text is not in its language's usual script (``kk`` + ``Latn``: Latin Kazakh).
    script: str | None = None
    # Optional v2 fields, kept on every round trip: the kind of row (SUBSETS), the minimal pair it belongs to
    # (both members share the id and always share a split), whether it carries realistic noise, a reviewer note.
    subset: str | None = None
    pair: str | None = None
    noise: bool = False
    note: str | None = None

    @property
    def language(self) -> str:
        return language_tag(self.lang, self.script)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "lang": self.lang,
            "labels": self.labels,
            "group": self.group,
            "register": self.register,
            "source": self.source,
            "split": self.split,
        }
        if self.hard_negative:
            out["hard_negative"] = True
        if self.script is not None:
            out["script"] = self.script
        for name in ("subset", "pair", "note"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.noise:
            out["noise"] = True
        return out


@dataclass(frozen=True)
class ArticleSentence:
    start: int
    end: int
    text: str
    labels: list[str]


@dataclass
class Article:
    id: str
    lang: str
    register: str
    split: str
    kind: str
    labels: list[str]
    raw: dict[str, Any]
    location: Location

    def sentences(self) -> list[ArticleSentence]:
        return article_layout(self.raw)[1]

    @property
    def text(self) -> str:
        return article_layout(self.raw)[0]


def article_layout(raw: dict[str, Any]) -> tuple[str, list[ArticleSentence]]:
    """Render an article as the service would receive it (headline, blank line, paragraphs) with gold spans.

    Articles are stored as structured sentences so annotators edit labels, not offsets; the text and the
    offsets are derived here, deterministically, for evaluating splitting and aggregation.
    """
    parts: list[str] = []
    spans: list[ArticleSentence] = []
    cursor = 0

    def add(sentence: dict[str, Any], separator: str) -> None:
        nonlocal cursor
        if parts:
            parts.append(separator)
            cursor += len(separator)
        text = str(sentence["text"])
        parts.append(text)
        spans.append(ArticleSentence(cursor, cursor + len(text), text, list(sentence.get("labels") or [])))
        cursor += len(text)

    add(raw["title"], "")
    for paragraph in raw.get("paragraphs") or []:
        for position, sentence in enumerate(paragraph):
            add(sentence, "\n\n" if position == 0 else " ")
    return "".join(parts), spans


class DatasetError(ValueError):
    """A row cannot be parsed at all; raised with ``file:line: reason``."""


def iter_jsonl(path: Path) -> Iterator[tuple[Location, dict[str, Any] | None, str | None]]:
    """Yield ``(location, object, error)`` per non-blank line, never stopping at a bad one."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = Location(str(path), number)
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield where, None, f"invalid JSON ({exc.msg} at column {exc.colno})"
                continue
            if not isinstance(obj, dict):
                yield where, None, "line is not a JSON object"
                continue
            yield where, obj, None


def sentence_files(data_dir: Path) -> list[Path]:
    return sorted((Path(data_dir) / "sentences").glob("*.jsonl"))


def article_files(data_dir: Path) -> list[Path]:
    return sorted((Path(data_dir) / "articles").glob("*.jsonl"))


def challenge_files(data_dir: Path) -> list[Path]:
    return sorted((Path(data_dir) / "challenge").glob("*.jsonl"))


def row_from_json(obj: dict[str, Any], where: Location) -> SentenceRow:
    return SentenceRow(
        id=str(obj.get("id", "")),
        text=str(obj.get("text", "")),
        lang=str(obj.get("lang", "")),
        labels=list(obj.get("labels") or []),
        group=str(obj.get("group", "")),
        register=str(obj.get("register", "")),
        source=str(obj.get("source", "")),
        split=str(obj.get("split", "")),
        hard_negative=bool(obj.get("hard_negative", False)),
        location=where,
        script=str(obj["script"]) if obj.get("script") is not None else None,
        subset=_optional_str(obj, "subset"),
        pair=_optional_str(obj, "pair"),
        noise=bool(obj.get("noise", False)),
        note=_optional_str(obj, "note"),
    )


def _optional_str(obj: dict[str, Any], name: str) -> str | None:
    return str(obj[name]) if obj.get(name) is not None else None


def article_from_json(obj: dict[str, Any], where: Location) -> Article:
    return Article(
        id=str(obj.get("id", "")),
        lang=str(obj.get("lang", "")),
        register=str(obj.get("register", "")),
        split=str(obj.get("split", "")),
        kind=str(obj.get("kind", "")),
        labels=list(obj.get("labels") or []),
        raw=obj,
        location=where,
    )


def _load_all(files: list[Path], build: Callable[[dict[str, Any], Location], T]) -> list[T]:
    """Every object of ``files``; raises on the first unparsable line (``narrascope data check`` lists them all)."""
    items = []
    for path in files:
        for where, obj, error in iter_jsonl(path):
            if error or obj is None:
                raise DatasetError(f"{where}: {error}")
            items.append(build(obj, where))
    return items


def load_sentences(data_dir: Path) -> list[SentenceRow]:
    return _load_all(sentence_files(data_dir), row_from_json)


def load_articles(data_dir: Path) -> list[Article]:
    return _load_all(article_files(data_dir), article_from_json)


def data_hash(data_dir: Path) -> str:
    """Content hash of every data file, recorded in the model folder for provenance."""
    digest = hashlib.sha256()
    for path in sentence_files(data_dir) + article_files(data_dir):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return "sha256:" + digest.hexdigest()[:16]


def write_jsonl(path: Path, objects: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for obj in objects:
            handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
