"""Micro-batching: concurrent requests share forward passes, and the event loop never runs the model.

A single worker task takes the oldest queued request, then keeps collecting more until the batch holds
``max_coalesce_tokens`` tokens or ``max_batch_requests`` requests, or ``max_wait_ms`` has passed since the
first one arrived. The batch is scored in one dedicated inference thread, so the event loop stays free to
accept and parse requests while the model runs; requests that arrive meanwhile form the next batch, which
is what makes batching effective under load even with ``max_wait_ms = 0``. Inside a batch the sentences are
length-sorted and cut into forward passes of ``forward_tokens`` (default: the budget measured for the
loaded model's runtime and saved in its folder), so coalescing more requests does not
pad short sentences to the longest one of the whole batch.

Options act only after the model (:func:`narrascope.model.documents.score_document_groups`), so requests share
forward passes whatever options they carry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from narrascope.model.documents import Document, ScoringOptions, score_document_groups
from narrascope.model.protocol import Classifier
from narrascope.model.results import DocumentResult
from narrascope.serve.metrics import ServiceMetrics

logger = logging.getLogger(__name__)

# Tokens a coalesced batch may hold (all its requests together) unless the settings say otherwise.
COALESCE_TOKENS = 8192


class ScoreFunction(Protocol):
    def __call__(
        self,
        classifier: Classifier,
        groups: Sequence[tuple[Sequence[Document], ScoringOptions]],
        forward_tokens: int | None = ...,
    ) -> list[list[DocumentResult]]: ...


class OverloadedError(RuntimeError):
    """The queue is full; the client should retry later (HTTP 503 with Retry-After)."""


class BatcherClosedError(RuntimeError):
    """The service is shutting down and takes no new work."""


@dataclass(frozen=True)
class BatchOutcome:
    """A request's results, with the model that produced them (a reload may swap it between batches)."""

    classifier: Classifier
    results: list[DocumentResult]
    queue_wait_s: float
    batch_requests: int


@dataclass
class _Job:
    documents: list[Document]
    options: ScoringOptions
    tokens: int
    future: asyncio.Future[BatchOutcome]
    enqueued: float = field(default_factory=time.perf_counter)


_STOP = object()


class MicroBatcher:
    """Coalesces :meth:`submit` calls into one scoring call per batch on one inference thread."""

    def __init__(
        self,
        get_classifier: Callable[[], Classifier],
        *,
        max_coalesce_tokens: int = COALESCE_TOKENS,
        forward_tokens: int | None = None,
        max_wait_ms: float = 5.0,
        max_batch_requests: int = 64,
        max_queue_requests: int = 1024,
        metrics: ServiceMetrics | None = None,
        score_fn: ScoreFunction = score_document_groups,
    ) -> None:
        self._get_classifier = get_classifier
        self.max_coalesce_tokens = max_coalesce_tokens
        self.forward_tokens = forward_tokens
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_batch_requests = max_batch_requests
        self.max_queue_requests = max_queue_requests
        self._metrics = metrics
        self._score_fn = score_fn
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._pending = 0
        self._executor: ThreadPoolExecutor | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closed = True

    @property
    def running(self) -> bool:
        return self._worker is not None and not self._worker.done()

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="narrascope-inference")
        self._closed = False
        self._worker = asyncio.create_task(self._run(), name="narrascope-batcher")

    async def stop(self) -> None:
        """Stop taking work, finish what is queued, then release the inference thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(_STOP)
        if self._worker is not None:
            await self._worker
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def submit(self, documents: list[Document], options: ScoringOptions, tokens: int) -> BatchOutcome:
        if self._closed:
            raise BatcherClosedError("the service is shutting down")
        if self._pending >= self.max_queue_requests:
            raise OverloadedError(f"{self._pending} requests are already waiting")
        future: asyncio.Future[BatchOutcome] = asyncio.get_running_loop().create_future()
        self._pending += 1
        self._set_depth()
        self._queue.put_nowait(_Job(documents, options, tokens, future))
        return await future

    def _set_depth(self) -> None:
        if self._metrics is not None:
            self._metrics.queue_depth.set(self._pending)

    async def _run(self) -> None:
        carry: Any = None
        while True:
            first = carry if carry is not None else await self._queue.get()
            carry = None
            if first is _STOP:
                return
            batch, carry = await self._collect(first)
            try:
                await self._execute(batch)
            except Exception as exc:  # never let one bad batch kill the worker and strand every client
                logger.exception("batch failed")
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)

    async def _collect(self, first: _Job) -> tuple[list[_Job], Any]:
        """Grow a batch from ``first`` within the token, request and time budgets; return any overflow."""
        batch = [first]
        tokens = first.tokens
        deadline = first.enqueued + self.max_wait_s
        while len(batch) < self.max_batch_requests and tokens < self.max_coalesce_tokens:
            remaining = deadline - time.perf_counter()
            try:
                if remaining <= 0:
                    item = self._queue.get_nowait()
                else:
                    async with asyncio.timeout(remaining):
                        item = await self._queue.get()
            except (asyncio.QueueEmpty, TimeoutError):
                break
            if item is _STOP or tokens + item.tokens > self.max_coalesce_tokens:
                return batch, item
            batch.append(item)
            tokens += item.tokens
        return batch, None

    async def _execute(self, batch: list[_Job]) -> None:
        self._pending -= len(batch)
        self._set_depth()
        live = [job for job in batch if not job.future.done()]  # clients that went away are skipped
        if not live:
            return
        classifier = self._get_classifier()  # one snapshot per batch: a reload cannot split a request
        started = time.perf_counter()
        if self._metrics is not None:
            for job in live:
                self._metrics.queue_wait.observe(started - job.enqueued)
            self._metrics.batch_requests.observe(len(live))
            self._metrics.batch_documents.observe(sum(len(job.documents) for job in live))
        groups = [(job.documents, job.options) for job in live]
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(
                self._executor, lambda: self._score_fn(classifier, groups, forward_tokens=self.forward_tokens)
            )
        finally:
            if self._metrics is not None:
                self._metrics.inference_seconds.observe(time.perf_counter() - started)
        for job, own in zip(live, results, strict=True):
            if not job.future.done():
                job.future.set_result(BatchOutcome(classifier, own, started - job.enqueued, len(live)))
