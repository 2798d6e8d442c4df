"""Multi-label metrics: per label, per language, micro, macro and samples F1.

Implemented on numpy directly (no sklearn warnings about empty labels) so that edge cases are explicit:
a label with no gold and no predicted positives scores F1 = 1 for that slice, since nothing was missed, but
macro-F1 averages only labels that occur in the gold slice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    if tp + fp + fn == 0:
        return 1.0, 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def f1_score_1d(gold: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(gold & pred))
    return _prf(tp, float(np.sum(~gold & pred)), float(np.sum(gold & ~pred)))[2]


def multilabel_report(gold: np.ndarray, pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """``gold``/``pred`` are boolean ``(n, L)`` arrays."""
    gold = gold.astype(bool)
    pred = pred.astype(bool)
    per_label: dict[str, dict[str, Any]] = {}
    for i, label in enumerate(labels):
        tp = float(np.sum(gold[:, i] & pred[:, i]))
        fp = float(np.sum(~gold[:, i] & pred[:, i]))
        fn = float(np.sum(gold[:, i] & ~pred[:, i]))
        p, r, f = _prf(tp, fp, fn)
        per_label[label] = {"precision": p, "recall": r, "f1": f, "support": int(gold[:, i].sum())}
    tp = float(np.sum(gold & pred))
    micro = _prf(tp, float(np.sum(~gold & pred)), float(np.sum(gold & ~pred)))
    # Macro averages labels present in the gold slice: an absent label predicted nowhere is no evidence of skill,
    # and counting it as F1 = 1 would reward a model that predicts nothing.
    supported = [row["f1"] for row in per_label.values() if row["support"] > 0]
    samples = [
        _prf(float(np.sum(g & p)), float(np.sum(~g & p)), float(np.sum(g & ~p)))[2]
        for g, p in zip(gold, pred, strict=True)
    ]
    exact = float(np.mean(np.all(gold == pred, axis=1))) if len(gold) else 0.0
    return {
        "per_label": per_label,
        "summary": {
            "n": int(len(gold)),
            "micro_precision": micro[0],
            "micro_recall": micro[1],
            "micro_f1": micro[2],
            "macro_f1": float(np.mean(supported)) if supported else 0.0,
            "samples_f1": float(np.mean(samples)) if samples else 0.0,
            "exact_match": exact,
        },
    }


def report_by_language(
    gold: np.ndarray, pred: np.ndarray, languages: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Overall report plus one per language (``per_language[lang]`` has micro/macro F1 and per-label F1)."""
    overall = multilabel_report(gold, pred, labels)
    langs = np.asarray(languages)
    per_language = {}
    for lang in sorted(set(languages)):
        mask = langs == lang
        sub = multilabel_report(gold[mask], pred[mask], labels)
        per_language[lang] = {
            "n": int(mask.sum()),
            "micro_f1": sub["summary"]["micro_f1"],
            "macro_f1": sub["summary"]["macro_f1"],
            "samples_f1": sub["summary"]["samples_f1"],
            "per_label_f1": {label: sub["per_label"][label]["f1"] for label in labels},
        }
    overall["per_language"] = per_language
    return overall
