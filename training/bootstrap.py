"""Paired bootstrap of F1 differences between two models on the same items.

With a test split of a few hundred sentences a one-point F1 difference is mostly noise. Both models are
scored on the *same* resamples, so the interval is for the difference itself (paired), which is far
narrower than comparing two separate intervals. Resampling is stratified by language (each language keeps
its size), so per-language figures come from the same draws as the overall ones. All metrics are computed
from resample counts with one matrix product, which keeps thousands of draws cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class BootstrapSettings:
    """Recorded with every comparison: the interval depends on them."""

    resamples: int = 2000
    confidence: float = 0.95
    seed: int = 13

    def __post_init__(self) -> None:
        if self.resamples < 100:
            raise ValueError(f"resamples must be >= 100, got {self.resamples!r}")
        if not 0.5 < self.confidence < 1.0:
            raise ValueError(f"confidence must be within (0.5, 1), got {self.confidence!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resample_weights(strata: Sequence[str], settings: BootstrapSettings) -> np.ndarray:
    """``(resamples, n)`` counts: how often each item is drawn, within its stratum."""
    rng = np.random.default_rng(settings.seed)
    groups = np.asarray(strata)
    weights = np.zeros((settings.resamples, len(groups)))
    for value in sorted(set(groups)):
        members = np.flatnonzero(groups == value)
        draws = rng.integers(0, len(members), size=(settings.resamples, len(members)))
        for row in range(settings.resamples):
            weights[row] += np.bincount(members[draws[row]], minlength=len(groups))
    return weights


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    # Nothing to find and nothing predicted is a perfect slice, as in ``training.metrics``.
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1e-12), 1.0)


def f1_table(weights: np.ndarray, gold: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per-label, micro and macro F1 for every row of ``weights`` (macro over labels present in the draw)."""
    gold = gold.astype(bool)
    pred = pred.astype(bool)
    tp = weights @ (gold & pred)
    fp = weights @ (~gold & pred)
    fn = weights @ (gold & ~pred)
    per_label = _f1(tp, fp, fn)
    present = (weights @ gold) > 0
    macro = np.where(present.any(axis=1), (per_label * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1), 0.0)
    micro = _f1(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))
    return {"per_label": per_label, "micro": micro, "macro": macro}


def _interval(point_old: float, point_new: float, draws: np.ndarray, confidence: float) -> dict[str, Any]:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    change = "better" if low > 0 else "worse" if high < 0 else "no significant change"
    return {
        "old": round(point_old, 4),
        "new": round(point_new, 4),
        "diff": round(point_new - point_old, 4),
        "ci_low": round(float(low), 4),
        "ci_high": round(float(high), 4),
        "change": change,
    }


def paired_comparison(
    gold: np.ndarray,
    pred_old: np.ndarray,
    pred_new: np.ndarray,
    strata: Sequence[str],
    labels: Sequence[str],
    settings: BootstrapSettings,
) -> dict[str, Any]:
    """Old and new F1 with the bootstrap interval of their difference: micro, macro, per label, per stratum."""
    weights = resample_weights(strata, settings)
    ones = np.ones((1, len(gold)))
    old, new = f1_table(weights, gold, pred_old), f1_table(weights, gold, pred_new)
    point_old, point_new = f1_table(ones, gold, pred_old), f1_table(ones, gold, pred_new)

    def compare(key: str, column: int | None = None) -> dict[str, Any]:
        def pick(table: dict[str, np.ndarray]) -> np.ndarray:
            return table[key][:, column] if column is not None else table[key]

        return _interval(
            float(pick(point_old)[0]), float(pick(point_new)[0]), pick(new) - pick(old), settings.confidence
        )

    out: dict[str, Any] = {
        "n": int(len(gold)),
        "micro_f1": compare("micro"),
        "macro_f1": compare("macro"),
        "per_label": {label: compare("per_label", i) for i, label in enumerate(labels)},
        "per_stratum": {},
    }
    groups = np.asarray(strata)
    for value in sorted(set(groups)):
        mask = (groups == value).astype(float)
        w, o = weights * mask, ones * mask
        sub_old, sub_new = f1_table(w, gold, pred_old), f1_table(w, gold, pred_new)
        p_old, p_new = f1_table(o, gold, pred_old), f1_table(o, gold, pred_new)
        out["per_stratum"][value] = {
            "n": int(mask.sum()),
            **{
                f"{key}_f1": _interval(
                    float(p_old[key][0]), float(p_new[key][0]), sub_new[key] - sub_old[key], settings.confidence
                )
                for key in ("micro", "macro")
            },
        }
    return out
