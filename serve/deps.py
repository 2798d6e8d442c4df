"""Dependencies that hand routes the pieces the lifespan built, so tests can swap any of them."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from serve.auth import Authenticator
from serve.batcher import MicroBatcher
from serve.feedback_store import FeedbackStore
from serve.metrics import ServiceMetrics
from serve.registry import ModelRegistry
from serve.scoring import Scorer
from serve.settings import Settings


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


def get_store(request: Request) -> FeedbackStore:
    return get_service(request).store


def get_metrics(request: Request) -> ServiceMetrics:
    return get_service(request).metrics
