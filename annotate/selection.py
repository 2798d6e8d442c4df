"""Which sentences of a feed are worth a person's time: the documented ``narrascope select`` strategy.

1. **Candidates.** Every document is split into sentences exactly as the model reads text; sentences shorter
   than ``min_chars``, repeated (same normalised text) or already in the dataset are dropped.
2. **Priority.** *Uncertainty*: for each label, how close the score is to that label's tuned threshold,
   ``1 - |p - t| / (t if p < t else 1 - t)`` (1 at the threshold, 0 at 0 or 1); a sentence's uncertainty is
   its largest over labels, since one undecided label is enough to need a person. With a second model,
   *disagreement* is the largest ``|p1 - p2|`` over labels (1 when their labels differ), and the priority
   is the larger of disagreement and the two models' mean uncertainty.
3. **Diversity.** The ``pool_factor * k`` highest-priority candidates are embedded with the model's own
   encoder (mean-pooled last hidden states, normalised) and chosen greedily: a candidate within
   ``near_duplicate`` cosine similarity of one already chosen is skipped, and the next pick maximises
   ``priority - redundancy_weight * max similarity to the chosen - balance_weight * (share of its language
   + share of its outlet among the chosen)``, which spreads the batch over languages and outlets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from narrascope.model.classifier import NarrativeClassifier, pad_batch


@dataclass(frozen=True)
class SelectionSettings:
    """Everything that changes which sentences are picked; written into every task (``data.selection``)."""

    k: int = 200
    pool_factor: int = 5
    near_duplicate: float = 0.92
    redundancy_weight: float = 0.3
    balance_weight: float = 0.3
    min_chars: int = 20

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k!r}")
        if self.pool_factor < 1:
            raise ValueError(f"pool_factor must be >= 1, got {self.pool_factor!r}")
        if not 0.0 < self.near_duplicate <= 1.0:
            raise ValueError(f"near_duplicate must be within (0, 1], got {self.near_duplicate!r}")
        if self.redundancy_weight < 0 or self.balance_weight < 0:
            raise ValueError("redundancy_weight and balance_weight must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Candidate:
    """One sentence of one document, with where it sits and what the model(s) said."""

    document_id: str
    start: int
    end: int
    text: str
    lang: str
    outlet: str
    fields: dict[str, Any] = field(default_factory=dict)
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    probs2: np.ndarray | None = None
    priority: float = 0.0
    uncertainty: float = 0.0
    disagreement: float | None = None


def uncertainty(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per row and label: 1 at the threshold, falling linearly to 0 at 0 and at 1."""
    span = np.where(probs < thresholds, thresholds, 1.0 - thresholds)
    return np.asarray(np.clip(1.0 - np.abs(probs - thresholds) / np.maximum(span, 1e-6), 0.0, 1.0))


def prioritise(candidates: Sequence[Candidate], thresholds: np.ndarray, thresholds2: np.ndarray | None) -> None:
    """Set each candidate's uncertainty, disagreement and priority (see the module docstring)."""
    if not candidates:
        return
    probs = np.stack([c.probs for c in candidates])
    unsure = uncertainty(probs, thresholds).max(axis=1)
    if thresholds2 is None:
        for c, u in zip(candidates, unsure, strict=True):
            c.uncertainty = c.priority = float(u)
        return
    probs2 = np.stack([c.probs2 for c in candidates if c.probs2 is not None])
    unsure2 = uncertainty(probs2, thresholds2).max(axis=1)
    labels_differ = ((probs >= thresholds) != (probs2 >= thresholds2)).any(axis=1)
    disagree = np.where(labels_differ, 1.0, np.abs(probs - probs2).max(axis=1))
    for i, c in enumerate(candidates):
        c.uncertainty = float((unsure[i] + unsure2[i]) / 2)
        c.disagreement = float(disagree[i])
        c.priority = max(c.uncertainty, c.disagreement)


def embed(classifier: NarrativeClassifier, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Normalised mean-pooled encoder states of ``texts`` (the model's own view of similarity)."""
    model = classifier.torch_model  # a transformers model: .base_model and .config are not on nn.Module
    encoder = model.base_model
    ids = classifier.tokenizer(list(texts), truncation=True, max_length=classifier.max_length)["input_ids"]
    pad_id = classifier.tokenizer.pad_token_id if classifier.tokenizer.pad_token_id is not None else 0
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        input_ids, mask = pad_batch([ids[i] for i in batch], pad_id)
        with torch.inference_mode():
            hidden = encoder(input_ids=input_ids.to(classifier.device), attention_mask=mask.to(classifier.device))
        states = hidden.last_hidden_state.float().cpu()
        weights = mask.unsqueeze(-1).float()
        out[batch] = ((states * weights).sum(1) / weights.sum(1).clamp(min=1)).numpy()
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.asarray(out / np.maximum(norms, 1e-12))


def choose(candidates: Sequence[Candidate], embeddings: np.ndarray, settings: SelectionSettings) -> list[int]:
    """Greedy diverse selection over ``candidates`` (already cut to the pool); indices in pick order."""
    chosen: list[int] = []
    priority = np.array([c.priority for c in candidates])
    max_sim = np.zeros(len(candidates))
    available = np.ones(len(candidates), dtype=bool)
    langs: Counter[str] = Counter()
    outlets: Counter[str] = Counter()
    while available.any() and len(chosen) < settings.k:
        total = max(1, len(chosen))
        share = np.array([(langs[c.lang] + outlets[c.outlet]) / total for c in candidates])
        value = priority - settings.redundancy_weight * max_sim - settings.balance_weight * share
        value[~available] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        langs[candidates[pick].lang] += 1
        outlets[candidates[pick].outlet] += 1
        similarity = embeddings @ embeddings[pick]
        max_sim = np.maximum(max_sim, similarity)
        available[pick] = False
        available &= similarity < settings.near_duplicate
    return chosen
