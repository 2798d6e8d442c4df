"""Per-label probability calibration fitted on dev, folded into the classifier head.

Moderators read 0.8 as "80% likely"; a fine-tuned classifier trained with a weighted loss is overconfident
on exactly the scores they see. Each label gets a logistic recalibration of its logit ``z``:
``sigmoid(a * z + b)`` (Platt scaling; ``b = 0`` is temperature scaling with ``T = 1 / a``). Because
``a * (w . h + c) + b = (a * w) . h + (a * c + b)``, it folds into the head's final ``Linear``, so every
consumer (the service, batch jobs, an ONNX export, a plain ``transformers.pipeline(...,
function_to_apply="sigmoid")``) gets calibrated scores without knowing calibration exists, and ``a > 0``
keeps the window maximum of long texts the maximum. Isotonic regression is fitted too, as evidence only: it
cannot be folded into weights, so it is reported (cross-validated on dev like the others) but never shipped.

The method per label is chosen by evidence: the lowest k-fold cross-validated log loss on dev among
identity, temperature and Platt. What was fitted is recorded in ``config.json`` (``narrascope.calibration``,
with ``folded: true``) so it is never applied twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

FOLDABLE = ("identity", "temperature", "platt")
CANDIDATES = (*FOLDABLE, "isotonic")
# The scores a moderator actually looks at: ECE over pairs scoring at least this much is the headline figure.
VISIBLE_SCORE = 0.1
_EPS = 1e-6


@dataclass(frozen=True)
class CalibrationSettings:
    """How calibration is fitted; recorded with the model because it changes every score."""

    folds: int = 5
    bins: int = 10
    # L2 pull of (log a, b) towards the identity: keeps a label with a handful of dev positives near its
    # uncalibrated scores instead of fitting a step function to five points.
    prior_strength: float = 1.0
    seed: int = 13

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ValueError(f"calibration_folds must be >= 2, got {self.folds!r}")
        if self.bins < 2:
            raise ValueError(f"calibration bins must be >= 2, got {self.bins!r}")
        if self.prior_strength < 0:
            raise ValueError(f"calibration_prior must be >= 0, got {self.prior_strength!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LabelCalibration:
    """``p = sigmoid(a * z + b)`` for one label."""

    method: str
    a: float = 1.0
    b: float = 0.0


def logit(probs: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def expected_calibration_error(
    probs: np.ndarray, gold: np.ndarray, bins: int = 10, min_score: float = 0.0
) -> tuple[float, int]:
    """ECE over every (sentence, label) score ``>= min_score``, equal-width bins on [0, 1]; and the pair count.

    Weighted mean of ``|mean score - observed rate|`` over the bins; 0 pairs gives 0.
    """
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(gold, dtype=np.float64).ravel()
    keep = p >= min_score
    p, y = p[keep], y[keep]
    if not len(p):
        return 0.0, 0
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for k in np.unique(index):
        mask = index == k
        total += mask.sum() * abs(p[mask].mean() - y[mask].mean())
    return float(total / len(p)), int(len(p))


def ece_summary(probs: np.ndarray, gold: np.ndarray, bins: int) -> dict[str, float]:
    """The two figures recorded with a calibration: ECE over all scores and over scores >= VISIBLE_SCORE."""
    return {
        "ece": round(expected_calibration_error(probs, gold, bins)[0], 4),
        "ece_visible": round(expected_calibration_error(probs, gold, bins, VISIBLE_SCORE)[0], 4),
    }


def reliability_bins(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per bin: mean score, observed rate and count (the data of a reliability diagram)."""
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(gold, dtype=np.float64).ravel()
    index = np.minimum((p * bins).astype(int), bins - 1)
    return [
        {"low": k / bins, "mean_score": float(p[index == k].mean()), "rate": float(y[index == k].mean()), "n": n}
        for k in range(bins)
        if (n := int((index == k).sum()))
    ]


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def fit_logistic(z: np.ndarray, y: np.ndarray, with_bias: bool, prior: float) -> LabelCalibration:
    """Minimise log loss of ``sigmoid(exp(s) * z + b)`` (``a = exp(s) > 0``) with an L2 prior towards the identity."""
    from scipy.optimize import minimize

    n = max(1, len(z))

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        s, b = theta[0], theta[1] if with_bias else 0.0
        a = np.exp(s)
        q = sigmoid(a * z + b)
        loss = -np.sum(y * np.log(q + 1e-12) + (1 - y) * np.log(1 - q + 1e-12)) / n
        loss += prior * (s * s + b * b) / n
        residual = (q - y) / n
        grad = [np.sum(residual * a * z) + 2 * prior * s / n]
        if with_bias:
            grad.append(np.sum(residual) + 2 * prior * b / n)
        return float(loss), np.asarray(grad)

    start = np.zeros(2 if with_bias else 1)
    result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[(-5.0, 3.0)] + [(-20.0, 20.0)] * with_bias)
    a = float(np.exp(result.x[0]))
    b = float(result.x[1]) if with_bias else 0.0
    return LabelCalibration("platt" if with_bias else "temperature", a, b)


def _fit(method: str, z: np.ndarray, y: np.ndarray, prior: float) -> Any:
    if method == "identity":
        return LabelCalibration("identity")
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(z, y)
    return fit_logistic(z, y, with_bias=method == "platt", prior=prior)


def _apply(model: Any, z: np.ndarray) -> np.ndarray:
    if isinstance(model, LabelCalibration):
        return np.asarray(sigmoid(model.a * z + model.b))
    return np.asarray(model.predict(z))


def _folds(y: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold index per row, positives and negatives dealt out separately so every fold sees both."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    for value in (0, 1):
        rows = np.flatnonzero(y == value)
        fold[rng.permutation(rows)] = np.arange(len(rows)) % k
    return fold


def cross_validated_loss(z: np.ndarray, y: np.ndarray, settings: CalibrationSettings) -> dict[str, float]:
    """Held-out log loss of every candidate method on one label's dev scores."""
    fold = _folds(y, settings.folds, settings.seed)
    held_out = {method: np.empty(len(z)) for method in CANDIDATES}
    for k in range(settings.folds):
        train, test = fold != k, fold == k
        if not test.any():
            continue
        for method in CANDIDATES:
            fitted = _fit(method, z[train], y[train], settings.prior_strength)
            held_out[method][test] = _apply(fitted, z[test])
    return {method: round(_log_loss(q, y), 5) for method, q in held_out.items()}


def fit_calibration(
    dev_probs: np.ndarray, dev_gold: np.ndarray, labels: Sequence[str], settings: CalibrationSettings
) -> tuple[dict[str, LabelCalibration], dict[str, dict[str, float]]]:
    """Per label: the foldable method with the lowest cross-validated dev log loss, refitted on all of dev."""
    z_all = logit(dev_probs)
    chosen: dict[str, LabelCalibration] = {}
    evidence: dict[str, dict[str, float]] = {}
    for i, label in enumerate(labels):
        y = dev_gold[:, i].astype(np.float64)
        if y.sum() < settings.folds or (1 - y).sum() < settings.folds:
            chosen[label] = LabelCalibration("identity")  # too few dev positives to fit anything honestly
            evidence[label] = {}
            continue
        evidence[label] = cross_validated_loss(z_all[:, i], y, settings)
        best = min(FOLDABLE, key=lambda method: evidence[label][method])
        chosen[label] = _fit(best, z_all[:, i], y, settings.prior_strength)
    return chosen, evidence


def apply_calibration(probs: np.ndarray, calibration: dict[str, LabelCalibration], labels: Sequence[str]) -> np.ndarray:
    """What the folded head will output, computed from the uncalibrated probabilities (monotone per label)."""
    a = np.array([calibration[label].a for label in labels])
    b = np.array([calibration[label].b for label in labels])
    return np.asarray(sigmoid(a * logit(probs) + b), dtype=np.float32)


def head_linear(model: Any) -> torch.nn.Linear:
    """The ``Linear`` producing the logits: ``model.classifier`` (BERT) or its last ``Linear`` (``out_proj``,
    XLM-R); anything else is refused rather than guessed."""
    head = getattr(model, "classifier", None)
    candidates = [m for m in head.modules() if isinstance(m, torch.nn.Linear)] if head is not None else []
    num_labels = model.config.num_labels
    if not candidates or candidates[-1].out_features != num_labels:
        raise ValueError(
            f"cannot fold calibration into {type(model).__name__}: no final Linear with {num_labels} outputs "
            "under .classifier"
        )
    return candidates[-1]


def fold_into_head(model: Any, calibration: dict[str, LabelCalibration], labels: Sequence[str]) -> None:
    """Rewrite the head so its logits are ``a * z + b`` per label (row ``i`` of ``id2label`` order)."""
    linear = head_linear(model)
    a = torch.tensor([calibration[label].a for label in labels], dtype=linear.weight.dtype)
    b = torch.tensor([calibration[label].b for label in labels], dtype=linear.weight.dtype)
    with torch.no_grad():
        linear.weight.mul_(a.to(linear.weight.device)[:, None])
        if linear.bias is None:
            raise ValueError("cannot fold a calibration bias into a head Linear without bias")
        linear.bias.mul_(a.to(linear.bias.device)).add_(b.to(linear.bias.device))


def calibration_record(
    calibration: dict[str, LabelCalibration],
    evidence: dict[str, dict[str, float]],
    settings: CalibrationSettings,
    before: np.ndarray,
    after: np.ndarray,
    gold: np.ndarray,
    dev_hash: str,
) -> dict[str, Any]:
    """What ``config.json`` records (``narrascope.calibration``): folded, so loaders never apply it again."""

    return {
        "folded": True,
        "fitted_on": "dev",
        "dev_hash": dev_hash,
        "formula": "sigmoid(a * logit + b) per label, folded into the head's final Linear",
        "settings": settings.to_dict(),
        "labels": {
            label: {"method": c.method, "a": round(c.a, 6), "b": round(c.b, 6), "cv_log_loss": evidence.get(label, {})}
            for label, c in calibration.items()
        },
        "dev_before": ece_summary(before, gold, settings.bins),
        "dev_after": ece_summary(after, gold, settings.bins),
    }


def calibrate_in_place(
    classifier: Any, dev_texts: Sequence[str], dev_gold: np.ndarray, settings: CalibrationSettings, dev_hash: str
) -> dict[str, Any]:
    """Fit on ``classifier``'s dev scores, fold the result into its head, and return the record to save."""
    before = classifier.predict_proba(dev_texts)
    gold = dev_gold > 0.5
    calibration, evidence = fit_calibration(before, gold, classifier.labels, settings)
    fold_into_head(classifier.torch_model, calibration, classifier.labels)
    after = apply_calibration(before, calibration, classifier.labels)
    return calibration_record(calibration, evidence, settings, before, after, gold, dev_hash)
