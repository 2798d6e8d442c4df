"""Dependencies that hand routes the pieces the lifespan built, so tests can swap any of them."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from narrascope.dataset.feedback_store import FeedbackStore
from narrascope.serve.auth import Authenticator
from narrascope.serve.batcher import MicroBatcher
from narrascope.serve.metrics import ServiceMetrics
from narrascope.serve.registry import ModelRegistry
from narrascope.serve.scoring import Scorer
from narrascope.serve.settings import Settings


@dataclass
class Service:
    """Everything one app instance owns; built in the lifespan, never at import time."""

    settings: Settings
    metrics: ServiceMetrics
    authenticator: Authenticator
    registry: ModelRegistry
    batcher: MicroBatcher
    scorer: Scorer
    store: FeedbackStore
    draining: bool = False


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_registry(request: Request) -> ModelRegistry:
    return get_service(request).registry


def get_scorer(request: Request) -> Scorer:
    return get_service(request).scorer


def get_metrics(request: Request) -> ServiceMetrics:
    return get_service(request).metrics
