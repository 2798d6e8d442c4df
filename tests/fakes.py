"""A deterministic classifier behind the :class:`~narrascope.model.protocol.Classifier` protocol.

HTTP tests that need to know *which* labels a text gets (risk verdicts, evidence offsets, thresholds) cannot
use a random model; this fake scores sentences by keywords, so every expectation is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.model.aggregate import RiskPolicy
from narrascope.model.classifier import ModelInfo, NarrativeClassifier
from narrascope.model.runtime import CPU_FORWARD_TOKENS

# label -> (kind, keyword that fires it, probability when it fires)
RULES: dict[str, tuple[str, str, float]] = {
    "war_preparation": ("claim", "war", 0.9),
    "anti_russia_intent": ("claim", "russia", 0.6),
    "reassurance": ("counter", "fake", 0.95),
}
BACKGROUND = 0.05


class KeywordClassifier:
    """Each label's probability is high when its keyword occurs in the sentence, low otherwise."""

    def __init__(self, path: Path, policy: RiskPolicy | None = None) -> None:
        self.labels = list(RULES)
        self.kinds = {label: kind for label, (kind, _, _) in RULES.items()}
        self.thresholds = dict.fromkeys(RULES, 0.5)
        self.device = "cpu"
        self.forward_tokens = CPU_FORWARD_TOKENS
        self.info = ModelInfo(
            name="keyword-fake",
            version="1",
            path=str(path),
            base_model="none",
            trained_at=None,
            mode="fake",
            risk_policy=policy or RiskPolicy(),
            risk_policy_source="model folder",
        )
        self.calls = 0

    @property
    def risk_policy(self) -> RiskPolicy:
        return self.info.risk_policy

    def describe_labels(self) -> list[dict[str, Any]]:
        return [
            {
                "id": label,
                "name": label,
                "description": f"fires on {keyword!r}",
                "kind": kind,
                "threshold": self.thresholds[label],
            }
            for label, (kind, keyword, _) in RULES.items()
        ]

    # Thresholds, overrides and label order are not what the fake is about: use the real rule.
    threshold_vector = NarrativeClassifier.threshold_vector

    def predict_proba(
        self, texts: Sequence[str], forward_tokens: int | None = None, max_batch_size: int = 64
    ) -> np.ndarray:
        self.calls += 1
        out = np.full((len(texts), len(self.labels)), BACKGROUND, dtype=np.float32)
        for row, text in enumerate(texts):
            lowered = text.lower()
            for column, (_, keyword, probability) in enumerate(RULES.values()):
                if keyword in lowered:
                    out[row, column] = probability
        return out

    def count_tokens(self, texts: Sequence[str]) -> int:
        return sum(len(text.split()) + 2 for text in texts)
