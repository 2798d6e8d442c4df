"""The story-clustering evaluation set, built from what ``data/`` already has plus re-posts made here.

Gold stories (documents that tell one story):

* ``repost``: an article of ``data/articles`` and three re-posts of it: sentences shuffled, truncated to the
  first 60%, and a machine-translation-style rewrite (aggregator header and footer, title dropped, words
  dropped and swapped the way a poor MT pass garbles them), plus a ``mixed`` re-post in some stories: 70% of
  the article spliced with 30% of another article on the same topic (a compilation post);
* ``crosslingual``: the translated idea groups of ``data/sentences`` (one idea in en, ru, kk and uk), two
  ideas per story, one document per language;
* ``paraphrase``: three paraphrase groups of one language make a story; document *k* takes the *k*-th
  rewording of each idea.

Distractors, each its own story: the remaining articles (same topic, other stories) and single on-topic
sentences from other groups. Everything is seeded; the same seed gives the same set.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrascope.dataset.rows import article_layout

LANGS = ("en", "ru", "kk", "uk")
HEADER = "Reposted from partner media."
FOOTER = "Subscribe to our channel so you do not miss the news."


@dataclass(frozen=True)
class EvalDoc:
    id: str
    text: str
    lang: str
    story: str
    kind: str


def _articles(data: Path) -> list[dict[str, Any]]:
    rows = []
    for lang in LANGS:
        with (data / "articles" / f"{lang}.jsonl").open(encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


def _sentences(data: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((data / "sentences").glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


def mt_style(sentences: list[str], rng: random.Random) -> str:
    """A clumsy machine-translation-like rewrite: words dropped and swapped, aggregator boilerplate around."""
    out = []
    for sentence in sentences:
        words = sentence.split()
        words = [w for w in words if rng.random() > 0.08] or words
        for i in range(len(words) - 1):
            if rng.random() < 0.05:
                words[i], words[i + 1] = words[i + 1], words[i]
        out.append(" ".join(words))
    return "\n\n".join([HEADER, " ".join(out), FOOTER])


def _reposts(article: dict[str, Any], other: dict[str, Any], rng: random.Random, mixed: bool) -> list[tuple[str, str]]:
    text, spans = article_layout(article)
    body = [s.text for s in spans[1:]]
    shuffled = body[:]
    rng.shuffle(shuffled)
    cut = max(2, round(len(body) * 0.6))
    variants = [
        ("original", text),
        ("shuffled", spans[0].text + "\n\n" + " ".join(shuffled)),
        ("truncated", spans[0].text + "\n\n" + " ".join(body[:cut])),
        ("mt_style", mt_style(body, rng)),
    ]
    if mixed:
        _, other_spans = article_layout(other)
        keep = body[: max(2, round(len(body) * 0.7))]
        extra = [s.text for s in other_spans[1:]][: max(1, round(len(body) * 0.3))]
        variants.append(("mixed", spans[0].text + "\n\n" + " ".join(keep + extra)))
    return variants


def build(data: Path, seed: int = 13, distractor_articles: int = 16, distractor_sentences: int = 120) -> list[EvalDoc]:
    rng = random.Random(seed)
    docs: list[EvalDoc] = []
    articles = _articles(data)
    rng.shuffle(articles)
    seeds, lone = articles[distractor_articles:], articles[:distractor_articles]
    for number, article in enumerate(seeds):
        other = seeds[(number + 1) % len(seeds)]
        story = f"article:{article['id']}"
        for variant, text in _reposts(article, other, rng, mixed=number % 2 == 0):
            docs.append(EvalDoc(f"{article['id']}/{variant}", text, article["lang"], story, "repost"))
    for article in lone:
        text = article_layout(article)[0]
        docs.append(EvalDoc(article["id"], text, article["lang"], f"lone:{article['id']}", "lone"))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _sentences(data):
        groups[row["group"]].append(row)
    used: set[str] = set()
    multilingual = sorted(g for g, rows in groups.items() if {r["lang"] for r in rows} >= set(LANGS))
    for a, b in zip(multilingual[0::2], multilingual[1::2], strict=False):
        used.update((a, b))
        for lang in LANGS:
            text = " ".join(next(r["text"] for r in groups[g] if r["lang"] == lang) for g in (a, b))
            docs.append(EvalDoc(f"{a}+{b}/{lang}", text, lang, f"crosslingual:{a}+{b}", "crosslingual"))
    for lang in LANGS:
        paraphrases = sorted(
            g for g, rows in groups.items() if g not in used and len(rows) >= 2 and rows[0]["lang"] == lang
        )
        rng.shuffle(paraphrases)
        for start in range(0, min(len(paraphrases), 30) - 2, 3):
            trio = paraphrases[start : start + 3]
            used.update(trio)
            depth = min(len(groups[g]) for g in trio)
            for k in range(depth):
                text = " ".join(groups[g][k]["text"] for g in trio)
                docs.append(EvalDoc(f"{'+'.join(trio)}/{k}", text, lang, f"paraphrase:{'+'.join(trio)}", "paraphrase"))
    singles = sorted(g for g, rows in groups.items() if g not in used and len(rows) == 1)
    for g in rng.sample(singles, min(distractor_sentences, len(singles))):
        row = groups[g][0]
        docs.append(EvalDoc(row["id"], row["text"], row["lang"], f"lone:{row['id']}", "lone"))
    return docs


OUTLETS = {
    "en": ["Steppe Wire", "Astana Daily", "Global Mirror"],
    "ru": ["Степной вестник", "Новости Евразии", "Global Mirror"],
    "kk": ["Дала жаршысы", "Астана ақпарат"],
    "uk": ["Київський оглядач", "Global Mirror"],
    "fr": ["Le Relais d'Eurasie", "Global Mirror"],
    "de": ["Eurasien-Depesche"],
    "tr": ["Bozkır Ajansı", "Global Mirror"],
    "ar": ["مرآة أوراسيا", "Global Mirror"],
}


def demo_feed(data: Path, days: int = 21, seed: int = 7) -> list[dict[str, Any]]:
    """A dated multi-outlet feed for the README screenshot: the eval set's documents spread over ``days`` days.

    Re-posts of one article follow the original within two days on other outlets; claim pieces are pushed
    harder in the last week, so the report has a surge to show.
    """
    rng = random.Random(seed)
    start = 1_767_225_600  # 2026-01-01 00:00 UTC
    rows = []
    first_seen: dict[str, int] = {}
    for doc in build(data, seed=seed):
        if doc.kind == "repost":
            base = first_seen.setdefault(doc.story, start + rng.randrange(days) * 86_400)
            claim_piece = any(k in doc.id for k in ("-a02", "-a08", "-a13", "-a07", "-a12"))
            if claim_piece:
                base = first_seen[doc.story] = max(base, start + (days - 6) * 86_400)
            moment = base + rng.randrange(2 * 86_400)
        else:
            moment = start + rng.randrange(days * 86_400)
        from datetime import UTC, datetime

        rows.append(
            {
                "id": doc.id,
                "text": doc.text,
                "date": datetime.fromtimestamp(moment, UTC).isoformat(timespec="minutes"),
                "source": rng.choice(OUTLETS[doc.lang]),
                "link": f"https://news.example/{doc.lang}/{doc.id.replace('/', '-')}",
            }
        )
    rows.sort(key=lambda r: r["date"])
    return rows
