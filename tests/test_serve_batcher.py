"""The micro-batcher: coalescing, budgets, identical results, failures, back-pressure and model swaps."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.documents import Document, ScoringOptions, score_document_groups, score_documents
from narrascope.model.results import DocumentResult
from narrascope.serve.batcher import MicroBatcher, OverloadedError
from narrascope.serve.metrics import ServiceMetrics

TEXTS = [
    "Kazakhstan is preparing for war, anonymous channels claim.",
    "The Ministry of Defense called the reports fake. Only citizens may volunteer.",
    "Казахстан не готовится к войне, заявили в Минобороны.",
    "Қазақстан соғысқа дайындалып жатқан жоқ.",
    "Закон про територіальну оборону створює формування самооборони.",
    "Brigades, border, Russia, NATO, Turkey. Peace and army reform.",
]


@contextmanager
def counting_forwards(classifier: NarrativeClassifier) -> Iterator[list[int]]:
    """Counts real forward passes of the underlying torch model."""
    calls: list[int] = []
    handle = classifier.backend.model.register_forward_hook(lambda *_: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def assert_same(batched: DocumentResult, alone: DocumentResult, thresholds: dict[str, float]) -> None:
    """Identical up to float noise from different padding; labels equal unless a score sits on its threshold."""
    assert batched.id == alone.id and batched.n_sentences == alone.n_sentences
    assert batched.language == alone.language
    for label, value in alone.scores.items():
        assert batched.scores[label] == pytest.approx(value, abs=2e-4)
        if abs(value - thresholds[label]) > 1e-3:
            assert (label in batched.labels) == (label in alone.labels)
    for got, want in zip(batched.sentences or [], alone.sentences or [], strict=True):
        assert (got.start, got.end, got.text) == (want.start, want.end, want.text)


def run(coro_factory: Callable[[], Any]) -> Any:
    return asyncio.run(coro_factory())


def test_concurrent_requests_share_forward_passes_and_match_unbatched(tiny_classifier: NarrativeClassifier) -> None:
    docs = [Document(f"d{i}", TEXTS[i % len(TEXTS)]) for i in range(24)]
    options = ScoringOptions()
    alone = [score_documents(tiny_classifier, [doc], options)[0] for doc in docs]
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> list[list[DocumentResult]]:
        calls.append(1)
        return score_document_groups(*args, **kwargs)

    async def scenario() -> list[Any]:
        batcher = MicroBatcher(lambda: tiny_classifier, max_wait_ms=50, score_fn=counted)
        await batcher.start()
        try:
            return await asyncio.gather(*(batcher.submit([doc], options, 20) for doc in docs))
        finally:
            await batcher.stop()

    with counting_forwards(tiny_classifier) as forwards:
        outcomes = run(scenario)
    assert len(calls) < len(docs) / 4, f"{len(calls)} scoring calls for {len(docs)} requests"
    assert len(forwards) < len(docs) / 4
    assert max(outcome.batch_requests for outcome in outcomes) > 1
    for outcome, expected in zip(outcomes, alone, strict=True):
        assert len(outcome.results) == 1
        assert_same(outcome.results[0], expected, tiny_classifier.thresholds)


def test_batch_of_one_is_one_forward_pass_per_request(tiny_classifier: NarrativeClassifier) -> None:
    docs = [Document(str(i), TEXTS[0]) for i in range(6)]

    async def scenario() -> None:
        batcher = MicroBatcher(lambda: tiny_classifier, max_wait_ms=0, max_batch_requests=1)
        await batcher.start()
        try:
            await asyncio.gather(*(batcher.submit([doc], ScoringOptions(), 15) for doc in docs))
        finally:
            await batcher.stop()

    with counting_forwards(tiny_classifier) as forwards:
        run(scenario)
    assert len(forwards) == len(docs)


def test_token_budget_bounds_a_batch() -> None:
    sizes: list[int] = []

    def fake(
        classifier: Any, groups: Sequence[tuple[Sequence[Document], Any]], forward_tokens: int | None = None
    ) -> list:
        sizes.append(sum(len(documents) for documents, _ in groups))
        return [[None] * len(documents) for documents, _ in groups]

    async def scenario() -> None:
        batcher = MicroBatcher(lambda: None, max_coalesce_tokens=100, max_wait_ms=100, score_fn=fake)  # type: ignore[arg-type,return-value]
        await batcher.start()
        try:
            await asyncio.gather(*(batcher.submit([Document(str(i), "t")], ScoringOptions(), 30) for i in range(7)))
        finally:
            await batcher.stop()

    run(scenario)
    assert sum(sizes) == 7 and max(sizes) <= 3 and len(sizes) >= 3


def test_requests_with_different_options_share_a_forward_pass_and_keep_their_options(
    tiny_classifier: NarrativeClassifier,
) -> None:
    wanted = tiny_classifier.labels[:2]

    async def scenario() -> tuple[Any, ...]:
        batcher = MicroBatcher(lambda: tiny_classifier, max_wait_ms=50)
        await batcher.start()
        try:
            return await asyncio.gather(
                batcher.submit([Document("a", TEXTS[0])], ScoringOptions(), 20),
                batcher.submit([Document("b", TEXTS[1])], ScoringOptions(labels=wanted), 20),
                batcher.submit([Document("c", TEXTS[2])], ScoringOptions(include_sentences=False), 20),
            )
        finally:
            await batcher.stop()

    with counting_forwards(tiny_classifier) as forwards:
        plain, subset, bare = run(scenario)
    assert plain.batch_requests == subset.batch_requests == bare.batch_requests == 3
    assert len(forwards) == 1
    assert set(plain.results[0].scores) == set(tiny_classifier.labels)
    assert list(subset.results[0].scores) == wanted
    assert bare.results[0].sentences is None and plain.results[0].sentences


def test_a_failing_batch_fails_its_requests_and_the_worker_survives(tiny_classifier: NarrativeClassifier) -> None:
    def broken_once(*args: Any, **kwargs: Any) -> list[list[DocumentResult]]:
        first_documents = args[1][0][0]
        if first_documents[0].id == "boom":
            raise RuntimeError("kaboom")
        return score_document_groups(*args, **kwargs)

    async def scenario() -> tuple[BaseException | None, Any]:
        batcher = MicroBatcher(lambda: tiny_classifier, max_wait_ms=0, max_batch_requests=1, score_fn=broken_once)
        await batcher.start()
        try:
            failed: BaseException | None = None
            try:
                await batcher.submit([Document("boom", "x")], ScoringOptions(), 3)
            except RuntimeError as exc:
                failed = exc
            return failed, await batcher.submit([Document("ok", TEXTS[0])], ScoringOptions(), 15)
        finally:
            await batcher.stop()

    failed, later = run(scenario)
    assert isinstance(failed, RuntimeError)
    assert later.results[0].id == "ok"


def test_full_queue_is_refused(tiny_classifier: NarrativeClassifier) -> None:
    started = threading.Event()
    release = threading.Event()

    def blocking(*args: Any, **kwargs: Any) -> list[list[DocumentResult]]:
        started.set()
        release.wait(5)
        return score_document_groups(*args, **kwargs)

    async def scenario() -> bool:
        batcher = MicroBatcher(
            lambda: tiny_classifier, max_wait_ms=0, max_batch_requests=1, max_queue_requests=1, score_fn=blocking
        )
        await batcher.start()
        running = asyncio.create_task(batcher.submit([Document("0", "x")], ScoringOptions(), 3))
        await asyncio.to_thread(started.wait, 5)
        queued = asyncio.create_task(batcher.submit([Document("1", "x")], ScoringOptions(), 3))
        await asyncio.sleep(0)
        refused = False
        try:
            await batcher.submit([Document("late", "x")], ScoringOptions(), 3)
        except OverloadedError:
            refused = True
        release.set()
        await asyncio.gather(running, queued)
        await batcher.stop()
        return refused

    assert run(scenario)


def test_swap_during_inference_finishes_on_the_old_model(tiny_classifier: NarrativeClassifier) -> None:
    """The model is read once per batch: a swap mid-batch affects only later batches."""
    started = threading.Event()
    release = threading.Event()
    current: dict[str, Any] = {"model": tiny_classifier}
    replacement = object()

    def slow(classifier: Any, groups: Any, forward_tokens: int | None = None) -> list:
        if classifier is tiny_classifier:
            started.set()
            release.wait(5)
            return score_document_groups(classifier, groups)
        return [["new"] * len(documents) for documents, _ in groups]

    async def scenario() -> tuple[Any, Any]:
        batcher = MicroBatcher(lambda: current["model"], max_wait_ms=0, score_fn=slow)
        await batcher.start()
        first = asyncio.create_task(batcher.submit([Document("a", TEXTS[0])], ScoringOptions(), 15))
        await asyncio.to_thread(started.wait, 5)
        current["model"] = replacement  # what ModelRegistry._swap does
        second = asyncio.create_task(batcher.submit([Document("b", TEXTS[1])], ScoringOptions(), 15))
        release.set()
        result = await first, await second
        await batcher.stop()
        return result

    old, new = run(scenario)
    assert old.classifier is tiny_classifier and old.results[0].id == "a"
    assert new.classifier is replacement and new.results == ["new"]


def test_batcher_records_metrics(tiny_classifier: NarrativeClassifier) -> None:
    metrics = ServiceMetrics()

    async def scenario() -> None:
        batcher = MicroBatcher(lambda: tiny_classifier, max_wait_ms=20, metrics=metrics)
        await batcher.start()
        await asyncio.gather(*(batcher.submit([Document(str(i), TEXTS[i])], ScoringOptions(), 15) for i in range(4)))
        await batcher.stop()

    run(scenario)
    text = metrics.exposition().decode()
    assert "narrascope_queue_wait_seconds_count 4.0" in text
    assert "narrascope_batch_documents_sum 4.0" in text
