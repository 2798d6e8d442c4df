"""The one domain call behind ``POST /v1/score``: validate options, size the request, batch it, count it."""

from __future__ import annotations

import asyncio

from narrascope.model.documents import Document, ScoringOptions
from narrascope.serve.batcher import BatchOutcome, MicroBatcher
from narrascope.serve.metrics import ServiceMetrics
from narrascope.serve.registry import ModelRegistry


class Scorer:
    def __init__(self, registry: ModelRegistry, batcher: MicroBatcher, metrics: ServiceMetrics) -> None:
        self.registry = registry
        self.batcher = batcher
        self.metrics = metrics

    async def score(self, documents: list[Document], options: ScoringOptions) -> BatchOutcome:
        """Results in input order; raises ``ScoringOptionsError`` for labels the model does not have."""
        classifier = self.registry.current
        options.validate(classifier.labels)  # fail fast with a 422, before queueing
        # Even a short text can be expensive to tokenise (one long run without spaces), so never on the loop.
        tokens = await asyncio.to_thread(classifier.count_tokens, [doc.text for doc in documents])
        outcome = await self.batcher.submit(documents, options, tokens)
        self.metrics.observe_results(outcome.results)
        return outcome
