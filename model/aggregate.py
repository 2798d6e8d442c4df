"""From sentence probabilities to an article verdict.

An article advances a narrative if any of its sentences does, so a label's article score is its maximum
sentence score. Claims are then split into *pushed* and *rebutted*: fact-checks quote the claims they debunk,
and a moderator must see such a text as a debunk, not as disinformation. Kinds and the :class:`RiskPolicy`
come from the model folder, not from code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from narrascope.model.results import Evidence, Risk, RiskLevel


@dataclass(frozen=True)
class RiskPolicy:
    """How sentence labels become a risk verdict (see :func:`assess_risk`).

    The verdict depends on these numbers as much as on the weights, so the policy is saved in the model folder
    next to the thresholds (``config.json``, ``narrascope.risk_policy``) and read back from it; the values here
    are the project defaults, used for new folders and for folders saved before the policy was recorded.
    """

    high_risk_at: float = 0.8
    push_ratio: float = 1.5

    def __post_init__(self) -> None:
        for name in ("high_risk_at", "push_ratio"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
        if not 0.0 <= self.high_risk_at <= 1.0:
            raise ValueError(f"high_risk_at must be within [0, 1], got {self.high_risk_at}")
        if self.push_ratio < 0:
            raise ValueError(f"push_ratio must be >= 0, got {self.push_ratio}")

    def to_dict(self) -> dict[str, float]:
        return {"high_risk_at": float(self.high_risk_at), "push_ratio": float(self.push_ratio)}

    @classmethod
    def from_dict(cls, raw: object) -> RiskPolicy:
        """A saved policy must be complete: a missing or unknown key is an error, never a filled-in default."""
        expected = {item.name for item in fields(cls)}
        if not isinstance(raw, Mapping):
            raise ValueError(f"expected an object with {sorted(expected)}, got {raw!r}")
        missing, unknown = sorted(expected - set(raw)), sorted(set(raw) - expected)
        if missing or unknown:
            raise ValueError(f"expected exactly the keys {sorted(expected)}; missing {missing}, unknown {unknown}")
        return cls(**raw)

    def overridden(self, high_risk_at: float | None = None, push_ratio: float | None = None) -> RiskPolicy:
        """This policy with a caller's per-request overrides (``None`` keeps the saved value)."""
        changes = {"high_risk_at": high_risk_at, "push_ratio": push_ratio}
        return replace(self, **{name: value for name, value in changes.items() if value is not None})


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
    policy: RiskPolicy,
) -> Risk:
    """Claims are *pushed* when sentences carrying a claim outnumber sentences carrying a counter-narrative by
    more than ``policy.push_ratio``, otherwise *rebutted*: fact-checks restate claims but spend more sentences on
    the rebuttal, while claim pieces quote a denial once to dismiss it. Level: ``high`` when a pushed claim
    scores at or above ``policy.high_risk_at``, ``low`` for weaker pushed claims, ``debunk`` when the claims are
    rebutted, ``none`` without claims."""
    claims = [label for label in labels if kinds[label] == "claim" and label in predicted]
    counters = [label for label in labels if kinds[label] == "counter" and label in predicted]
    claim_ids = {label for label in labels if kinds[label] == "claim"}
    counter_ids = {label for label in labels if kinds[label] == "counter"}
    n_claim = sum(1 for found in sentence_labels if claim_ids.intersection(found))
    n_counter = sum(1 for found in sentence_labels if counter_ids.intersection(found))
    is_pushed = n_claim > policy.push_ratio * n_counter
    pushed = claims if is_pushed else []
    rebutted = [] if is_pushed else claims
    index = {label: i for i, label in enumerate(labels)}
    level: RiskLevel
    if pushed:
        top = max(float(scores[index[label]]) for label in pushed)
        level = "high" if top >= policy.high_risk_at else "low"
    elif rebutted:
        top, level = max(float(scores[index[label]]) for label in rebutted), "debunk"
    else:
        top, level = 0.0, "none"
    return Risk(
        level=level,
        score=round(top, 4),
        claims_pushed=pushed,
        claims_rebutted=rebutted,
        counter_labels=counters,
        claim_sentences=n_claim,
        counter_sentences=n_counter,
    )


def evidence_for(
    label_index: int, spans: list[tuple[int, int, str]], sentence_probs: np.ndarray, threshold: float, top_k: int
) -> list[Evidence]:
    """The ``top_k`` sentences over threshold for one label, strongest first."""
    column = sentence_probs[:, label_index] if sentence_probs.size else np.zeros(0)
    ranked = sorted((i for i in range(len(spans)) if column[i] >= threshold), key=lambda i: -column[i])
    return [
        Evidence(start=spans[i][0], end=spans[i][1], text=spans[i][2], score=round(float(column[i]), 4))
        for i in ranked[:top_k]
    ]
