"""Score whole documents: split into sentences, score every sentence of every document in one batched
pass, then aggregate per document. The service and the batch jobs both call :func:`score_documents`, so
the same model gives the same results on either path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from narrascope.model.aggregate import RiskPolicy, article_scores, assess_risk, evidence_for
from narrascope.model.language import LanguageId, identify_language
from narrascope.model.protocol import Classifier
from narrascope.model.results import DocumentResult, SentenceResult
from narrascope.model.sentences import split_sentences

# Evidence sentences kept per predicted label unless a caller asks otherwise (API option, batch --evidence).
EVIDENCE_PER_LABEL = 3


class ScoringOptionsError(ValueError):
    """Options name a label the model does not have, or a threshold outside [0, 1]."""


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    lang: str | None = None


@dataclass(frozen=True)
class ScoringOptions:
    """Per-call choices. Thresholds override the tuned ones saved with the model, and ``high_risk_at`` and
    ``push_ratio`` override the model's :class:`RiskPolicy`; ``None`` keeps what the model folder says."""

    thresholds: dict[str, float] | None = None
    labels: list[str] | None = None
    include_sentences: bool = True
    evidence_per_label: int = EVIDENCE_PER_LABEL
    high_risk_at: float | None = None
    push_ratio: float | None = None

    def validate(self, known: Sequence[str]) -> None:
        for label in list(self.thresholds or {}) + list(self.labels or []):
            if label not in known:
                raise ScoringOptionsError(f"unknown label {label!r}; the model has: {', '.join(known)}")
        for label, value in (self.thresholds or {}).items():
            if not 0.0 <= value <= 1.0:
                raise ScoringOptionsError(f"threshold for {label!r} must be within [0, 1], got {value}")
        if self.evidence_per_label < 0:
            raise ScoringOptionsError(f"evidence_per_label must be >= 0, got {self.evidence_per_label}")
        self.risk_policy(RiskPolicy())

    def risk_policy(self, saved: RiskPolicy) -> RiskPolicy:
        """The model's saved policy with this call's overrides; bad override values raise ScoringOptionsError."""
        try:
            return saved.overridden(high_risk_at=self.high_risk_at, push_ratio=self.push_ratio)
        except ValueError as exc:
            raise ScoringOptionsError(str(exc)) from None


def _rounded(labels: Sequence[str], row: np.ndarray) -> dict[str, float]:
    return {label: round(float(row[i]), 4) for i, label in enumerate(labels)}


def score_documents(
    classifier: Classifier,
    documents: Sequence[Document],
    options: ScoringOptions | None = None,
    forward_tokens: int | None = None,
) -> list[DocumentResult]:
    """Results in input order. All sentences of all documents share batches (fewer, fuller forward passes);
    ``forward_tokens`` overrides the model's measured forward budget (``None`` keeps it)."""
    return score_document_groups(classifier, [(documents, options or ScoringOptions())], forward_tokens)[0]


def score_document_groups(
    classifier: Classifier,
    groups: Sequence[tuple[Sequence[Document], ScoringOptions]],
    forward_tokens: int | None = None,
) -> list[list[DocumentResult]]:
    """Several callers' documents, each group with its own options, scored in one batched model pass.

    Options only act after the model (thresholds, label subset, evidence, risk), so the service's micro-batcher
    can coalesce requests whatever options they carry.
    """
    for _, options in groups:
        options.validate(classifier.labels)
    documents = [doc for docs, _ in groups for doc in docs]
    spans_per_doc = [[(s.start, s.end, s.text) for s in split_sentences(doc.text)] for doc in documents]
    flat = [span[2] for spans in spans_per_doc for span in spans]
    probs = classifier.predict_proba(flat, forward_tokens=forward_tokens)
    per_doc: list[np.ndarray] = []
    cursor = 0
    for spans in spans_per_doc:
        per_doc.append(probs[cursor : cursor + len(spans)])
        cursor += len(spans)
    out: list[list[DocumentResult]] = []
    start = 0
    for docs, options in groups:
        end = start + len(docs)
        out.append(_aggregate(classifier, docs, spans_per_doc[start:end], per_doc[start:end], options))
        start = end
    return out


def _aggregate(
    classifier: Classifier,
    documents: Sequence[Document],
    spans_per_doc: list[list[tuple[int, int, str]]],
    probs_per_doc: list[np.ndarray],
    options: ScoringOptions,
) -> list[DocumentResult]:
    thresholds = classifier.threshold_vector(options.thresholds)
    wanted = options.labels or classifier.labels
    keep = [classifier.labels.index(label) for label in wanted]
    labels = [classifier.labels[i] for i in keep]
    kinds = {label: classifier.kinds[label] for label in labels}
    limits = thresholds[keep]
    policy = options.risk_policy(classifier.risk_policy)

    results: list[DocumentResult] = []
    for doc, spans, all_probs in zip(documents, spans_per_doc, probs_per_doc, strict=True):
        doc_probs = all_probs[:, keep]
        scores = article_scores(doc_probs)
        predicted = [label for i, label in enumerate(labels) if scores[i] >= limits[i]]
        sentence_labels = [
            [label for i, label in enumerate(labels) if doc_probs[row, i] >= limits[i]] for row in range(len(spans))
        ]
        # Left unset, not set to None, when not asked for: the service's response omits unset fields.
        optional: dict[str, list[SentenceResult]] = {}
        if options.include_sentences:
            optional["sentences"] = [
                SentenceResult(
                    start=start,
                    end=end,
                    text=text,
                    labels=sentence_labels[row],
                    scores=_rounded(labels, doc_probs[row]),
                )
                for row, (start, end, text) in enumerate(spans)
            ]
        evidence = {
            label: evidence_for(
                labels.index(label), spans, doc_probs, float(limits[labels.index(label)]), options.evidence_per_label
            )
            for label in predicted
        }
        language = LanguageId.from_tag(doc.lang, doc.text) if doc.lang else identify_language(doc.text)
        results.append(
            DocumentResult(
                id=doc.id,
                language=language.code,
                script=language.script,
                labels=predicted,
                scores=_rounded(labels, scores),
                risk=assess_risk(labels, kinds, scores, set(predicted), sentence_labels, policy),
                evidence=evidence,
                n_sentences=len(spans),
                **optional,
            )
        )
    return results
