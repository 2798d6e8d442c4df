"""Per-label decision thresholds tuned on dev.

Labels differ in base rate and in how confidently the model separates them; one global 0.5 under-calls
rare labels. Each label gets the threshold that maximises its dev F1, searched on a grid and shrunk toward
0.5 when dev has too few positives to trust the search.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from narrascope.training.metrics import f1_score_1d

GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)


def tune_thresholds(
    probs: np.ndarray, gold: np.ndarray, labels: Sequence[str], min_positives: int = 5
) -> dict[str, float]:
    thresholds: dict[str, float] = {}
    gold = gold.astype(bool)
    for i, label in enumerate(labels):
        if gold[:, i].sum() < min_positives:
            thresholds[label] = 0.5
            continue
        scores = np.array([f1_score_1d(gold[:, i], probs[:, i] >= t) for t in GRID])
        best = scores.max()
        # Among near-ties prefer the threshold closest to 0.5: it generalises better than an edge value.
        candidates = GRID[scores >= best - 1e-9]
        thresholds[label] = float(candidates[np.argmin(np.abs(candidates - 0.5))])
    return thresholds


def apply_thresholds(probs: np.ndarray, thresholds: dict[str, float], labels: Sequence[str]) -> np.ndarray:
    return probs >= np.array([thresholds[label] for label in labels], dtype=np.float32)
