"""Article-level evaluation: what a moderator sees for whole articles, split by our own splitter.

Shared by ``narrascope eval`` and the runtime quality gate (``training.runtime_gate``), so both judge a
runtime on exactly the same article numbers.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.dataset.rows import load_articles
from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.documents import Document, ScoringOptions, score_documents
from narrascope.model.results import RiskLevel
from narrascope.training.metrics import report_by_language

# What a moderator should see for the article kinds whose verdict is unambiguous (typed, so mypy rejects a
# level the model layer does not define).
EXPECTED_RISK: dict[str, tuple[RiskLevel, ...]] = {
    "claim_piece": ("high", "low"),
    "debunk": ("debunk",),
    "neutral": ("none",),
    # Procedure of the law (readings, decrees, entry into force): may state its purpose, never a verdict.
    "procedural": ("none",),
}


def evaluate_articles(classifier: NarrativeClassifier, data_dir: Path) -> dict[str, Any]:
    """Article-level F1 (predicted label set vs gold set) and how well the splitter recovers gold spans."""
    articles = [a for a in load_articles(data_dir) if a.split in ("dev", "test")]
    if not articles:
        return {}
    documents = [Document(a.id, a.text, a.lang) for a in articles]
    results = score_documents(classifier, documents, ScoringOptions(include_sentences=True))
    labels = classifier.labels
    gold = np.array([[label in a.labels for label in labels] for a in articles])
    pred = np.array([[label in r.labels for label in labels] for r in results])
    report = report_by_language(gold, pred, [a.lang for a in articles], labels)
    matched = total = 0
    for article, result in zip(articles, results, strict=True):
        gold_spans = {(s.start, s.end) for s in article.sentences()}
        found = {(s.start, s.end) for s in result.sentences or []}
        matched += len(gold_spans & found)
        total += len(gold_spans)
    risk = {a.id: r.risk for a, r in zip(articles, results, strict=True)}
    report["splitter_span_recall"] = matched / max(1, total)
    report["risk_by_kind"] = {
        kind: dict(Counter(risk[a.id].level for a in articles if a.kind == kind))
        for kind in sorted({a.kind for a in articles})
    }
    judged = [a for a in articles if a.kind in EXPECTED_RISK]
    report["risk_accuracy"] = sum(risk[a.id].level in EXPECTED_RISK[a.kind] for a in judged) / max(1, len(judged))
    return report
