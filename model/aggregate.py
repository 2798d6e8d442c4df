"""From sentence probabilities to an article verdict.

An article advances a narrative if any of its sentences does, so a label's article score is its maximum
sentence score. Claims are then split into *pushed* and *rebutted*: fact-checks quote the claims they debunk,
and a moderator must see such a text as a debunk, not as disinformation. Kinds come from the model folder,
not from code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Evidence:
    """A sentence that carries a label, with its offsets into the document."""

    start: int
    end: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Risk:
    """Disinformation risk: driven by claims the text pushes, not by claims it quotes to rebut."""

    level: str
    score: float
    claims_pushed: list[str] = field(default_factory=list)
    claims_rebutted: list[str] = field(default_factory=list)
    counter_labels: list[str] = field(default_factory=list)
    claim_sentences: int = 0
    counter_sentences: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "score": round(self.score, 4),
            "claims_pushed": self.claims_pushed,
            "claims_rebutted": self.claims_rebutted,
            "counter_labels": self.counter_labels,
            "claim_sentences": self.claim_sentences,
            "counter_sentences": self.counter_sentences,
        }


def article_scores(sentence_probs: np.ndarray) -> np.ndarray:
    """Per-label article score: the strongest sentence for each label (zeros for an empty article)."""
    if sentence_probs.shape[0] == 0:
        return np.zeros(sentence_probs.shape[1], dtype=np.float32)
    return sentence_probs.max(axis=0)


def assess_risk(
    labels: list[str],
    kinds: dict[str, str],
    scores: np.ndarray,
    predicted: set[str],
    sentence_labels: list[list[str]],
    high_at: float = 0.8,
    push_ratio: float = 1.5,
) -> Risk:
    """Claims are *pushed* when sentences carrying a claim outnumber sentences carrying a counter-narrative by
    more than ``push_ratio``, otherwise *rebutted*: fact-checks restate claims but spend more sentences on the
    rebuttal, while claim pieces quote a denial once to dismiss it. Level: ``high`` when a pushed claim scores at
    or above ``high_at``, ``low`` for weaker pushed claims, ``debunk`` when the claims are rebutted, ``none``
    without claims."""
    claims = [label for label in labels if kinds[label] == "claim" and label in predicted]
    counters = [label for label in labels if kinds[label] == "counter" and label in predicted]
    claim_ids = {label for label in labels if kinds[label] == "claim"}
    counter_ids = {label for label in labels if kinds[label] == "counter"}
    n_claim = sum(1 for found in sentence_labels if claim_ids.intersection(found))
    n_counter = sum(1 for found in sentence_labels if counter_ids.intersection(found))
    is_pushed = n_claim > push_ratio * n_counter
    pushed = claims if is_pushed else []
    rebutted = [] if is_pushed else claims
    index = {label: i for i, label in enumerate(labels)}
    if pushed:
        top = max(float(scores[index[label]]) for label in pushed)
        level = "high" if top >= high_at else "low"
    elif rebutted:
        top, level = max(float(scores[index[label]]) for label in rebutted), "debunk"
    else:
        top, level = 0.0, "none"
    return Risk(level, top, pushed, rebutted, counters, n_claim, n_counter)


def evidence_for(
    label_index: int, spans: list[tuple[int, int, str]], sentence_probs: np.ndarray, threshold: float, top_k: int
) -> list[Evidence]:
    """The ``top_k`` sentences over threshold for one label, strongest first."""
    column = sentence_probs[:, label_index] if sentence_probs.size else np.zeros(0)
    ranked = sorted((i for i in range(len(spans)) if column[i] >= threshold), key=lambda i: -column[i])
    return [Evidence(spans[i][0], spans[i][1], spans[i][2], float(column[i])) for i in ranked[:top_k]]
