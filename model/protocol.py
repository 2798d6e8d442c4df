"""What scoring needs from a classifier, as a structural type.

``NarrativeClassifier`` (a transformers model folder) is the implementation; the service, batch jobs and
``score_documents`` only rely on this protocol, so tests can put a deterministic fake behind the same
interface (``create_app(settings, loader=...)``) and an optimised runtime can slot in later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from narrascope.model.aggregate import RiskPolicy
from narrascope.model.classifier import ModelInfo


class Classifier(Protocol):
    """Sentence-level multi-label scorer with the labels, kinds and thresholds of one trained model."""

    labels: list[str]
    kinds: dict[str, str]
    thresholds: dict[str, float]
    info: ModelInfo
    device: str
    forward_tokens: int

    @property
    def risk_policy(self) -> RiskPolicy:
        """The verdict rule saved with the model."""
        ...

    def describe_labels(self) -> list[dict[str, Any]]:
        """Labels with names, kinds and thresholds, for ``/v1/labels``."""
        ...

    def threshold_vector(self, overrides: dict[str, float] | None = None) -> np.ndarray:
        """Thresholds in label order, with per-call overrides applied."""
        ...

    def predict_proba(
        self, texts: Sequence[str], forward_tokens: int | None = None, max_batch_size: int = 64
    ) -> np.ndarray:
        """Probabilities ``(len(texts), len(labels))``; ``forward_tokens=None`` is the model's own budget."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Tokens as the model sees them, to size coalesced batches."""
        ...
