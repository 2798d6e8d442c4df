"""Deterministic train/dev/test assignment, grouped and stratified.

Paraphrases and translations of one idea share a ``group``, and the two rows of a minimal pair share a
``pair``; if either straddled splits the test score would measure memory, not generalisation. Rows that
mention an idea of ``data/ideas.yaml`` go to ``idea_test`` with their whole group and pair, so that split
measures generalisation to ideas never seen in training. The rest is stratified by language x label (and
language x "no label"; Latin-script Kazakh counted as a language of its own) with a greedy
iterative-stratification pass, ordered by a seeded hash so the same data always gives the same split.
``load_splits`` reads the assigned splits back as arrays for training and evaluation, so both take their data
from this layer.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.dataset.ideas import load_ideas, row_ideas
from narrascope.dataset.rows import (
    SPLITS,
    SentenceRow,
    iter_jsonl,
    load_articles,
    load_sentences,
    normalize_text,
    sentence_files,
    write_jsonl,
)
from narrascope.labels import Taxonomy

DEFAULT_RATIOS = {"train": 0.70, "dev": 0.15, "test": 0.15}
# ``idea_test`` may be empty: a dataset without ``ideas.yaml`` holds no idea out.
REQUIRED_SPLITS = ("train", "dev", "test")


def _stable_hash(text: str, seed: int) -> int:
    return int(hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()[:12], 16)


def _keys(row: SentenceRow) -> list[str]:
    lang = row.language
    return [f"{lang}:{label}" for label in row.labels] or [f"{lang}:<none>"]


def split_units(rows: list[SentenceRow]) -> dict[str, str]:
    """``group -> unit``: groups joined by a minimal pair form one unit, which the split never separates."""
    parent: dict[str, str] = {row.group: row.group for row in rows}

    def find(group: str) -> str:
        while parent[group] != group:
            parent[group] = parent[parent[group]]
            group = parent[group]
        return group

    first_of_pair: dict[str, str] = {}
    for row in rows:
        if row.pair is None:
            continue
        other = first_of_pair.setdefault(row.pair, row.group)
        a, b = sorted((find(other), find(row.group)))
        parent[b] = a
    return {group: find(group) for group in parent}


def assign_splits(
    rows: list[SentenceRow],
    ratios: dict[str, float] | None = None,
    seed: int = 13,
    pinned: dict[str, str] | None = None,
) -> dict[str, str]:
    """Return ``unit -> split`` (see :func:`split_units`; a unit is named after one of its groups).

    ``pinned`` forces units (e.g. of article sentences, or of held-out ideas) into a split."""
    ratios = ratios or DEFAULT_RATIOS
    if abs(sum(ratios.values()) - 1.0) > 1e-6:
        raise ValueError(f"split ratios must sum to 1, got {ratios}")
    unit_of = split_units(rows)
    groups: dict[str, list[SentenceRow]] = defaultdict(list)
    for row in rows:
        groups[unit_of[row.group]].append(row)
    totals: Counter[str] = Counter(key for row in rows for key in _keys(row))
    filled: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
    sizes: Counter[str] = Counter()
    assignment: dict[str, str] = {}

    def add(group: str, split: str) -> None:
        assignment[group] = split
        for row in groups[group]:
            filled[split].update(_keys(row))
        sizes[split] += len(groups[group])

    for group, split in (pinned or {}).items():
        if group in groups:
            add(group, split)

    def rarity(group: str) -> tuple[int, int]:
        keys = {key for row in groups[group] for key in _keys(row)}
        return (min(totals[key] for key in keys), _stable_hash(group, seed))

    n = len(rows)
    for group in sorted((g for g in groups if g not in assignment), key=rarity):
        keys = [key for row in groups[group] for key in _keys(row)]

        def deficit(split: str, keys: list[str] = keys) -> tuple[float, float]:
            need = sum((ratios[split] * totals[key] - filled[split][key]) / totals[key] for key in keys)
            return need, ratios[split] * n - sizes[split]

        add(group, max(ratios, key=deficit))
    return assignment


def resplit_dataset(data_dir: Path, seed: int = 13) -> dict[str, int]:
    """Rewrite every sentence file with freshly assigned splits (field order and other fields kept).

    Rows that mention a held-out idea go to ``idea_test``; sentences that also occur in an article are pinned
    to that article's split, since articles are for dev/test evaluation only (that pin wins).
    """
    rows = load_sentences(data_dir)
    unit_of = split_units(rows)
    held_out = row_ideas(rows, load_ideas(data_dir))
    pinned = {unit_of[row.group]: "idea_test" for row in rows if row.id in held_out}
    article_split = {
        normalize_text(sentence.text): article.split
        for article in load_articles(data_dir)
        for sentence in article.sentences()
    }
    for row in rows:
        split = article_split.get(normalize_text(row.text))
        if split is not None:
            pinned[unit_of[row.group]] = split
    units = assign_splits(rows, seed=seed, pinned=pinned)
    assignment = {group: units[unit] for group, unit in unit_of.items()}
    for path in sentence_files(data_dir):
        objects = []
        for _, obj, error in iter_jsonl(path):
            if error or obj is None:
                raise ValueError(f"{path}: {error}; fix it before splitting (narrascope data check)")
            obj["split"] = assignment[str(obj["group"])]
            objects.append(obj)
        write_jsonl(path, objects)
    return dict(Counter(assignment[row.group] for row in rows))


@dataclass
class SplitData:
    """One split as training and evaluation consume it: texts, a 0/1 target matrix whose columns follow a given
    label order, and each text's language (for per-language metrics)."""

    texts: list[str]
    targets: np.ndarray
    languages: list[str]

    @classmethod
    def from_rows(cls, rows: list[SentenceRow], labels: list[str]) -> SplitData:
        index = {label: i for i, label in enumerate(labels)}
        targets = np.zeros((len(rows), len(labels)), dtype=np.float32)
        for r, row in enumerate(rows):
            for label in row.labels:
                if label in index:
                    targets[r, index[label]] = 1.0
        return cls([row.text for row in rows], targets, [row.language for row in rows])


def load_splits(data_dir: Path, taxonomy: Taxonomy, labels: list[str] | None = None) -> dict[str, SplitData]:
    """Train/dev/test with one target column per label of ``labels`` (default: the taxonomy's ids, in order).

    Evaluation passes the model's own labels so gold and predicted columns line up even when the taxonomy
    gained, lost or reordered labels after the model was trained; gold labels the model lacks are left out.
    """
    rows = load_sentences(data_dir)
    unknown = sorted({label for row in rows for label in row.labels if label not in taxonomy})
    if unknown:
        raise ValueError(f"{data_dir}: labels {unknown} are not in the taxonomy; run narrascope data check")
    splits = {
        name: SplitData.from_rows([r for r in rows if r.split == name], labels or taxonomy.ids) for name in SPLITS
    }
    for name, split in splits.items():
        if not split.texts and name in REQUIRED_SPLITS:
            raise ValueError(f"{data_dir}: the {name} split is empty; run narrascope data split")
    return splits


def _digest(objects: list[Any]) -> str:
    digest = hashlib.sha256()
    for obj in sorted(json.dumps(o, ensure_ascii=False, sort_keys=True) for o in objects):
        digest.update(obj.encode("utf-8") + b"\n")
    return "sha256:" + digest.hexdigest()[:16]


def split_hashes(data_dir: Path) -> dict[str, str]:
    """One content hash per split (train, dev, test) and for the evaluation articles.

    Hashes cover what a metric depends on (id, text, language, labels of each row; the whole article) in a
    canonical order, so moving a file or reordering lines changes nothing, while a relabelled or added test
    sentence changes the ``test`` hash. ``narrascope eval --compare`` names the split whose hash differs.
    """
    rows = load_sentences(data_dir)
    hashes = {
        name: _digest(
            [{"id": r.id, "text": r.text, "lang": r.lang, "labels": sorted(r.labels)} for r in rows if r.split == name]
        )
        for name in SPLITS
    }
    hashes["articles"] = _digest([article.raw for article in load_articles(data_dir)])
    return hashes
