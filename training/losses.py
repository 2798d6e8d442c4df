"""The multi-label loss shared by full fine-tuning and head-only training.

Narratives are rare next to "no label": an unweighted BCE learns to say nothing. Positives are up-weighted
by the square root of the negative/positive ratio, capped so a label with a handful of examples cannot
dominate the gradient.
"""

from __future__ import annotations

import numpy as np
import torch


def positive_weights(targets: np.ndarray, cap: float) -> torch.Tensor:
    positives = targets.sum(axis=0)
    negatives = len(targets) - positives
    ratio = np.sqrt(negatives / np.maximum(positives, 1.0))
    return torch.tensor(np.clip(ratio, 1.0, cap), dtype=torch.float32)


def weighted_bce(targets: np.ndarray, cap: float) -> torch.nn.BCEWithLogitsLoss:
    """BCE with per-label positive weights computed from the training targets."""
    return torch.nn.BCEWithLogitsLoss(pos_weight=positive_weights(targets, cap))


def smooth_targets(targets: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    """Pull 0/1 targets toward 0.5 by ``label_smoothing`` (0 leaves them untouched)."""
    if not label_smoothing:
        return targets
    return targets * (1 - label_smoothing) + 0.5 * label_smoothing
