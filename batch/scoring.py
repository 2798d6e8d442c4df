"""Score a batch of records into output rows: the one piece of scoring both engines run.

It calls :func:`narrascope.model.documents.score_documents`, the function the service calls, so a document gets the
same labels, scores and evidence from the API, the local batch engine and a Ray actor. A document that
makes the model fail is isolated and reported instead of failing its whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from narrascope.batch.columns import MODEL_COLUMN, SCORE_COLUMNS
from narrascope.batch.records import BadRecord, Record
from narrascope.model.documents import EVIDENCE_PER_LABEL, ScoringOptions, score_documents
from narrascope.model.protocol import Classifier
from narrascope.model.results import DocumentResult, ModelStamp

logger = logging.getLogger(__name__)


def default_options(evidence_per_label: int = EVIDENCE_PER_LABEL) -> ScoringOptions:
    """Batch rows carry evidence sentences with offsets, not every sentence (that would multiply the size)."""
    return ScoringOptions(include_sentences=False, evidence_per_label=evidence_per_label)


def result_row(record: Record, result: DocumentResult, model: ModelStamp) -> dict[str, Any]:
    """One output row: the id, the input's passthrough fields, then the scores and the model that made them."""
    scored = {**result.to_dict(), MODEL_COLUMN: model.model_dump()}
    return {"id": record.id, **record.fields, **{column: scored[column] for column in SCORE_COLUMNS}}


@dataclass
class ScoredBatch:
    rows: list[dict[str, Any]] = field(default_factory=list)
    failed: list[BadRecord] = field(default_factory=list)
    sentences: int = 0


def model_stamp(classifier: Classifier) -> ModelStamp:
    return ModelStamp(name=classifier.info.name, version=classifier.info.version)


def score_records(
    classifier: Classifier,
    records: Sequence[Record],
    options: ScoringOptions,
    forward_tokens: int | None = None,
) -> ScoredBatch:
    """Rows in input order; when the batch raises, each document is retried alone to find the culprit."""
    out = ScoredBatch()
    if not records:
        return out
    stamp = model_stamp(classifier)
    try:
        results = score_documents(classifier, [r.document() for r in records], options, forward_tokens)
    except Exception as exc:  # the batch may hold one pathological document; do not lose the others
        if len(records) == 1:
            logger.debug("scoring %s failed", records[0].id, exc_info=True)
            out.failed.append(
                BadRecord(records[0].location, f"scoring failed: {type(exc).__name__}: {exc}"[:500], records[0].id)
            )
            return out
        logger.warning("a batch of %d documents failed (%s); scoring them one at a time", len(records), exc)
        for record in records:
            single = score_records(classifier, [record], options, forward_tokens)
            out.rows.extend(single.rows)
            out.failed.extend(single.failed)
            out.sentences += single.sentences
        return out
    for record, result in zip(records, results, strict=True):
        out.rows.append(result_row(record, result, stamp))
        out.sentences += result.n_sentences
    return out
