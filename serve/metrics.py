"""Prometheus metrics, one registry per app.

A per-app :class:`CollectorRegistry` (instead of the process-global default) lets tests create many apps
in one process and lets each app expose exactly its own series. With several uvicorn workers every worker
reports its own numbers; scrape them through a per-pod aggregation or run one worker per container.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

from narrascope.model.classifier import ModelInfo
from narrascope.model.results import DocumentResult

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class ServiceMetrics:
    """The service's series; names follow Prometheus conventions (``_total``, ``_seconds``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_latency = Histogram(
            "narrascope_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.documents_scored = Counter("narrascope_documents_scored", "Documents scored", registry=r)
        self.sentences_scored = Counter("narrascope_sentences_scored", "Sentences scored", registry=r)
        self.predicted_labels = Counter(
            "narrascope_predicted_labels", "Documents predicted with each label", ["label"], registry=r
        )
        self.risk_levels = Counter("narrascope_risk_levels", "Documents per risk level", ["level"], registry=r)
        self.batch_documents = Histogram(
            "narrascope_batch_documents", "Documents per coalesced batch", buckets=SIZE_BUCKETS, registry=r
        )
        self.batch_requests = Histogram(
            "narrascope_batch_requests", "Requests per coalesced batch", buckets=SIZE_BUCKETS, registry=r
        )
        self.queue_wait = Histogram(
            "narrascope_queue_wait_seconds",
            "Time a request waits before its batch starts",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.inference_seconds = Histogram(
            "narrascope_inference_duration_seconds",
            "Time scoring one coalesced batch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge("narrascope_queue_depth", "Requests waiting for a batch", registry=r)
        self.model_info = Info("narrascope_model", "The model being served", registry=r)
        self.reloads = Counter("narrascope_model_reloads", "Model reloads by outcome", ["outcome"], registry=r)
        self.feedback = Counter("narrascope_feedback", "Feedback items stored", ["kind"], registry=r)
        self.rejected = Counter(
            "narrascope_rejected_requests", "Requests refused before scoring", ["reason"], registry=r
        )

    def set_model(self, info: ModelInfo) -> None:
        self.model_info.info({"name": info.name, "version": info.version, "base_model": info.base_model})

    def observe_results(self, results: Iterable[DocumentResult]) -> None:
        for result in results:
            self.documents_scored.inc()
            self.sentences_scored.inc(result.n_sentences)
            self.risk_levels.labels(level=result.risk.level).inc()
            for label in result.labels:
                self.predicted_labels.labels(label=label).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
