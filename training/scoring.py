"""Scoring a model while it trains, through the same code path that serves it.

Dev and test numbers recorded in the model folder must be the numbers users get, so the in-training model
is wrapped in :class:`NarrativeClassifier` rather than scored by a separate loop.
"""

from __future__ import annotations

from typing import Any

from narrascope.dataset.splits import SplitData
from narrascope.labels import Taxonomy
from narrascope.model.classifier import ModelInfo, NarrativeClassifier
from narrascope.model.runtime import TorchBackend
from narrascope.training.metrics import report_by_language
from narrascope.training.thresholds import ThresholdSearch, apply_thresholds, tune_thresholds


def classifier_view(model: Any, tokenizer: Any, taxonomy: Taxonomy, max_length: int) -> NarrativeClassifier:
    """The training model seen through the serving code path (thresholds are placeholders: only
    probabilities are read from it)."""
    info = ModelInfo(name="in-training", version="0", path="", base_model="", trained_at=None, mode=None)
    device = str(next(model.parameters()).device)
    return NarrativeClassifier(
        TorchBackend(model, device),
        tokenizer,
        taxonomy.ids,
        {label.id: label.kind for label in taxonomy.labels},
        {label: 0.5 for label in taxonomy.ids},
        info,
        max_length=max_length,
        device=device,
    )


def evaluate_split(classifier: NarrativeClassifier, split: SplitData, thresholds: dict[str, float]) -> dict[str, Any]:
    probs = classifier.predict_proba(split.texts)
    pred = apply_thresholds(probs, thresholds, classifier.labels)
    return report_by_language(split.targets > 0.5, pred, split.languages, classifier.labels)


def dev_score(
    classifier: NarrativeClassifier, dev: SplitData, search: ThresholdSearch
) -> tuple[dict[str, float], dict[str, Any]]:
    """Thresholds tuned on dev and the dev report under them, from one inference pass."""
    probs = classifier.predict_proba(dev.texts)
    thresholds = tune_thresholds(probs, dev.targets > 0.5, classifier.labels, search)
    pred = apply_thresholds(probs, thresholds, classifier.labels)
    return thresholds, report_by_language(dev.targets > 0.5, pred, dev.languages, classifier.labels)
