"""Small, valid datasets written to a temp folder, for tests of the checker, the split, training and the
feedback export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from narrascope.dataset.feedback_store import FeedbackRecord, FeedbackStore
from narrascope.dataset.rows import LANGUAGES
from narrascope.labels import load_taxonomy

WORDS = {
    "en": ["army", "border", "law", "peace", "ally", "volunteers", "drones", "mobilisation", "fake", "president"],
    "ru": ["армия", "граница", "закон", "мир", "союзник", "добровольцы", "дроны", "мобилизация", "фейк", "президент"],
    "kk": [
        "армия",
        "шекара",
        "заң",
        "бейбітшілік",
        "одақтас",
        "еріктілер",
        "дрондар",
        "жұмылдыру",
        "жалған",
        "президент",
    ],
    "uk": ["армія", "кордон", "закон", "мир", "союзник", "добровольці", "дрони", "мобілізація", "фейк", "президент"],
}


def sentence_rows(per_language: int = 24) -> list[dict[str, Any]]:
    """Rows whose text encodes their labels, so a tiny model can learn them; every language, every label."""
    labels = load_taxonomy().ids
    rows = []
    for lang in LANGUAGES:
        for i in range(per_language):
            label = labels[i % len(labels)] if i % 4 != 3 else None
            words = WORDS[lang]
            text = f"{words[i % len(words)]} {label or 'weather'} {i} {lang} {' '.join(words[: 1 + i % 5])}."
            rows.append(
                {
                    "id": f"{lang}-{i:04d}",
                    "text": text,
                    "lang": lang,
                    "labels": [label] if label else [],
                    "group": f"{lang}-g{i:04d}",
                    "register": "wire_news" if i % 2 else "social_post",
                    "source": "test",
                    "split": ("train", "train", "train", "dev", "test")[i % 5],
                    **({"hard_negative": True} if label is None and i % 8 == 3 else {}),
                }
            )
    return rows


def article(lang: str, number: int, split: str = "dev") -> dict[str, Any]:
    sentences = [
        {"text": f"Article {number} sentence {k} in {lang} about the law.", "labels": ["reassurance"] if k == 1 else []}
        for k in range(5)
    ]
    return {
        "id": f"{lang}-a{number:02d}",
        "lang": lang,
        "register": "wire_news",
        "split": split,
        "source": "test",
        "kind": "debunk",
        "title": {"text": f"Headline {number} {lang}", "labels": []},
        "paragraphs": [sentences[:2], sentences[2:]],
        "labels": ["reassurance"],
    }


def write_dataset(
    folder: Path, rows: list[dict[str, Any]] | None = None, articles: list[dict[str, Any]] | None = None
) -> Path:
    rows = sentence_rows() if rows is None else rows
    articles = [article(lang, 1) for lang in LANGUAGES] if articles is None else articles
    (folder / "sentences").mkdir(parents=True, exist_ok=True)
    (folder / "articles").mkdir(parents=True, exist_ok=True)
    for lang in LANGUAGES:
        with open(folder / "sentences" / f"{lang}.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                if row.get("lang") == lang or (lang == "en" and row.get("lang") not in LANGUAGES):
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        with open(folder / "articles" / f"{lang}.jsonl", "w", encoding="utf-8") as handle:
            for item in articles:
                if item["lang"] == lang or (lang == "en" and item["lang"] not in LANGUAGES):
                    handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    return folder


FEEDBACK_SENTENCE = "The Ministry of Defense called the reports fake."


def add_feedback(store: FeedbackStore, text: str, labels: list[str], **extra: Any) -> int:
    """Store one correction (a sentence unless ``kind`` says otherwise) and return its id."""
    kind = str(extra.pop("kind", "sentence"))
    return store.add(FeedbackRecord(kind=kind, text=text, labels=labels, **extra)).id


def fill_feedback_store(store: FeedbackStore) -> None:
    """Six corrections that export as four rows (feedback-2, -3, -4, -6), one of each case the export handles."""
    add_feedback(store, FEEDBACK_SENTENCE, ["war_preparation"], lang="en")
    add_feedback(store, "Казахстан не готовится к войне.", ["reassurance"], predicted=["war_preparation"])
    # Differs only in spacing and punctuation, which the data check's near-duplicate rule ignores: supersedes #1.
    add_feedback(
        store, "  " + FEEDBACK_SENTENCE.replace(".", "!") + " ", ["reassurance"], lang="en", note="second look"
    )
    add_feedback(store, "Аумақтық қорғаныс туралы заң.", [], predicted=["war_preparation"], document_id="doc-7")
    add_feedback(store, "One sentence here. And another one there.", ["reassurance"], kind="document", lang="en")
    add_feedback(store, "A single-sentence document.", [], kind="document", lang="en")
