"""``narrascope stories``: give every scored document a ``story`` id shared by the documents telling one story.

Scored rows carry no text (batch output keeps evidence sentences only), so the texts come from the inputs
that were scored (``--texts``, any format ``narrascope score`` reads) or from a ``text`` column of the scored
rows. A scored document whose text is found nowhere keeps ``story: null`` and is counted, never dropped.
The settings of the embedding and the clustering are written next to the output (``<output>.stories.json``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.batch.formats import output_format
from narrascope.batch.readers import open_input
from narrascope.batch.records import BadRecord
from narrascope.batch.writers import open_writer, prepare_output
from narrascope.report.centering import center_by_language
from narrascope.report.cluster import ClusterSettings, cluster
from narrascope.report.embed import EmbedSettings, embed_texts
from narrascope.report.scored import STORY_FIELD, load_scored

logger = logging.getLogger(__name__)
STORY_SIZE_FIELD = "story_size"
_WRITE_ROWS = 1024


@dataclass(frozen=True)
class StorySettings:
    inputs: list[str]
    output: str
    texts: list[str] = field(default_factory=list)
    embed: EmbedSettings = field(default_factory=EmbedSettings)
    clustering: ClusterSettings = field(default_factory=ClusterSettings)
    engine: str = "local"
    actors: int = 1
    force: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError("give at least one scored input (--input)")
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine must be local or ray, got {self.engine!r}")
        if self.actors < 1:
            raise ValueError(f"actors must be at least 1, got {self.actors}")


@dataclass(frozen=True)
class StorySummary:
    documents: int
    with_text: int
    stories: int
    multi_document: int
    problems: int

    def describe(self) -> str:
        return (
            f"stories: {self.documents} documents, {self.with_text} with text, {self.stories} stories "
            f"({self.multi_document} with two or more documents); {self.problems} rows or texts not read"
        )


def story_id(first_member: str) -> str:
    """A short id derived from the story's first document, so the same input gives the same ids."""
    return "s-" + hashlib.sha1(first_member.encode("utf-8")).hexdigest()[:10]


def read_texts(specs: list[str], wanted: set[str]) -> tuple[dict[str, str], list[str]]:
    """Texts by document id from the original inputs; bad records are reported, not fatal."""
    texts: dict[str, str] = {}
    problems: list[str] = []
    for spec in specs:
        for item in open_input(spec):
            if isinstance(item, BadRecord):
                problems.append(f"{item.location}: {item.reason}")
            elif item.id in wanted and item.id not in texts:
                texts[item.id] = item.text
    return texts, problems


def embed(texts: list[str], settings: StorySettings) -> np.ndarray:
    if settings.engine == "ray":
        from narrascope.report.ray_embed import embed_on_ray

        return embed_on_ray(texts, settings.embed, settings.actors)
    return embed_texts(texts, settings.embed, progress=settings.progress)


def group(ids: list[str], vectors: np.ndarray, settings: ClusterSettings, centered: bool = False) -> dict[str, str]:
    """Document id -> story id."""
    labels = cluster(vectors, settings, centered)
    first: dict[int, str] = {}
    for doc_id, label in zip(ids, labels.tolist(), strict=True):
        first.setdefault(label, doc_id)
    return {doc_id: story_id(first[label]) for doc_id, label in zip(ids, labels.tolist(), strict=True)}


def assign_stories(settings: StorySettings) -> StorySummary:
    fmt = output_format(settings.output, None)
    if fmt == "csv":
        raise ValueError("write stories as JSONL or Parquet (nested score columns survive those unchanged)")
    loaded = load_scored(settings.inputs, keep_rows=True)
    problems = [str(p) for p in loaded.problems]
    own = {str(row["id"]): row["text"] for row in loaded.rows if isinstance(row.get("text"), str)}
    texts, text_problems = read_texts(settings.texts, {d.id for d in loaded.docs} - set(own))
    texts |= own
    problems += text_problems
    ids = [d.id for d in loaded.docs if d.id in texts and texts[d.id].strip()]
    missing = len(loaded.docs) - len(ids)
    if missing:
        logger.warning("%d scored documents have no text in --texts or a text column; their story is null", missing)
    vectors = embed([texts[i] for i in ids], settings)
    centered = False
    if settings.embed.center_languages:
        language = {d.id: d.language for d in loaded.docs}
        vectors, centered = center_by_language(vectors, [language[i] for i in ids], settings.embed.center_min_documents)
    stories = group(ids, vectors, settings.clustering, centered)
    sizes: dict[str, int] = {}
    for story in stories.values():
        sizes[story] = sizes.get(story, 0) + 1
    state = prepare_output(settings.output, fmt, resume=False, force=settings.force)
    writer = open_writer(settings.output, fmt, state)
    try:
        for start in range(0, len(loaded.rows), _WRITE_ROWS):
            batch = []
            for row in loaded.rows[start : start + _WRITE_ROWS]:
                found = stories.get(str(row["id"]))
                batch.append(row | {STORY_FIELD: found, STORY_SIZE_FIELD: sizes[found] if found else None})
            writer.write(batch)
    except BaseException:
        writer.abort()
        raise
    writer.close()
    _record(settings, problems, centered)
    return StorySummary(
        documents=len(loaded.docs),
        with_text=len(ids),
        stories=len(sizes),
        multi_document=sum(1 for size in sizes.values() if size > 1),
        problems=len(problems) + missing,
    )


def _record(settings: StorySettings, problems: list[str], centered: bool) -> None:
    meta: dict[str, Any] = {
        "embedding": settings.embed.to_dict(),
        "clustering": settings.clustering.to_dict(),
        "centered": centered,
        "link_threshold": settings.clustering.link_threshold(centered),
        "inputs": settings.inputs,
        "texts": settings.texts,
        "problems": problems[:1000],
    }
    if settings.output != "-":
        path = Path(settings.output.rstrip("/") + ".stories.json")
        path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
