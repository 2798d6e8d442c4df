"""Per-label decision thresholds tuned on dev.

Labels differ in base rate and in how confidently the model separates them; one global 0.5 under-calls
rare labels. Each label gets the threshold that maximises its dev F1, searched on a grid and left at a
fallback when dev has too few positives to trust the search. The search settings change the thresholds a
model ships with, so they are a recorded setting (:class:`ThresholdSearch`, mirrored in ``TrainingArguments``)
rather than constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from narrascope.training.metrics import f1_score_1d


@dataclass(frozen=True)
class ThresholdSearch:
    """Where per-label thresholds are searched and what a label with too little dev evidence gets.

    ``fallback`` is used twice: it is the threshold of a label with fewer than ``min_positives`` dev
    positives, and among near-tied grid points the one closest to it wins (an edge value generalises worse).
    """

    start: float = 0.05
    stop: float = 0.95
    step: float = 0.025
    min_positives: int = 5
    fallback: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.start < self.stop < 1.0:
            raise ValueError(
                f"threshold_grid_start and threshold_grid_stop must satisfy 0 < start < stop < 1, "
                f"got {self.start!r} and {self.stop!r}"
            )
        if not self.step > 0.0:
            raise ValueError(f"threshold_grid_step must be positive, got {self.step!r}")
        if self.min_positives < 0:
            raise ValueError(f"threshold_min_positives must be >= 0, got {self.min_positives!r}")
        if not 0.0 < self.fallback < 1.0:
            raise ValueError(f"threshold_fallback must be within (0, 1), got {self.fallback!r}")

    def grid(self) -> np.ndarray:
        """Grid points from ``start`` to ``stop`` inclusive (half a step of slack absorbs float error)."""
        return np.round(np.arange(self.start, self.stop + self.step / 2, self.step), 6)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_SEARCH = ThresholdSearch()
# The default grid, for plots of threshold curves.
GRID = DEFAULT_SEARCH.grid()


def tune_thresholds(
    probs: np.ndarray, gold: np.ndarray, labels: Sequence[str], search: ThresholdSearch = DEFAULT_SEARCH
) -> dict[str, float]:
    grid = search.grid()
    thresholds: dict[str, float] = {}
    gold = gold.astype(bool)
    for i, label in enumerate(labels):
        if gold[:, i].sum() < search.min_positives:
            thresholds[label] = search.fallback
            continue
        scores = np.array([f1_score_1d(gold[:, i], probs[:, i] >= t) for t in grid])
        best = scores.max()
        # Among near-ties prefer the threshold closest to the fallback: it generalises better than an edge value.
        candidates = grid[scores >= best - 1e-9]
        thresholds[label] = float(candidates[np.argmin(np.abs(candidates - search.fallback))])
    return thresholds


def apply_thresholds(probs: np.ndarray, thresholds: dict[str, float], labels: Sequence[str]) -> np.ndarray:
    return probs >= np.array([thresholds[label] for label in labels], dtype=np.float32)
