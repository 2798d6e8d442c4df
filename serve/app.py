"""The app factory. Importing this module loads nothing; :func:`create_app` wires, the lifespan loads.

``uvicorn serve.app:create_app --factory`` builds an app from ``NARRASCOPE_*`` environment variables, which
is how ``narrascope serve`` starts one or several workers; tests call ``create_app(settings)`` directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from narrascope import __version__
from narrascope.dataset.feedback_store import FeedbackStore
from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.language import warm_up
from narrascope.model.threads import use_threads
from narrascope.serve.auth import startup_authenticator
from narrascope.serve.batcher import MicroBatcher
from narrascope.serve.deps import Service
from narrascope.serve.errors import install_error_handlers
from narrascope.serve.exposure import LoopbackOnlyMiddleware
from narrascope.serve.logs import configure_logging
from narrascope.serve.metrics import ServiceMetrics
from narrascope.serve.middleware import BodyGuardMiddleware, RequestContextMiddleware
from narrascope.serve.registry import Loader, ModelRegistry
from narrascope.serve.routes import admin, extract, feedback, health, labels, page, score
from narrascope.serve.routes import metrics as metrics_routes
from narrascope.serve.routes import model as model_routes
from narrascope.serve.scoring import Scorer
from narrascope.serve.settings import Settings

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """Scores news texts for disinformation narratives about Kazakhstan's Territorial Defense law,
their rebuttals and framing. Labels, kinds and thresholds come from the loaded model folder."""


def _loader(settings: Settings) -> Loader:
    def load(path: Path) -> NarrativeClassifier:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # progress bars would break the one-JSON-object-per-line logs
        return NarrativeClassifier.load(path, device=settings.device, runtime=settings.runtime)

    return load


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the model once, start the batch worker and open the store; drain and close on shutdown."""
    settings: Settings = app.state.settings
    metrics: ServiceMetrics = app.state.metrics
    # This worker process is ours: split the cores among the configured workers so they do not oversubscribe.
    threads = use_threads(settings.num_threads, settings.workers)
    registry = ModelRegistry(app.state.loader)
    registry.on_swap.append(lambda classifier: metrics.set_model(classifier.info))
    await registry.load_initial(settings.model_dir)
    await asyncio.to_thread(warm_up)  # language models load here, not inside the first request
    batcher = MicroBatcher(
        lambda: registry.current,
        max_coalesce_tokens=settings.max_coalesce_tokens,
        forward_tokens=settings.forward_tokens,
        max_wait_ms=settings.max_wait_ms,
        max_batch_requests=settings.max_batch_requests,
        max_queue_requests=settings.max_queue_requests,
        metrics=metrics,
    )
    store = FeedbackStore(settings.resolved_feedback_url)
    await batcher.start()
    service = Service(
        settings=settings,
        metrics=metrics,
        authenticator=app.state.authenticator,
        registry=registry,
        batcher=batcher,
        scorer=Scorer(registry, batcher, metrics),
        store=store,
    )
    app.state.service = service
    logger.info(
        "service ready",
        extra={
            "auth": app.state.authenticator.enabled,
            "host": settings.host,
            "max_wait_ms": settings.max_wait_ms,
            "threads": threads,
        },
    )
    try:
        yield
    finally:
        service.draining = True
        await batcher.stop()
        store.close()
        logger.info("service stopped")


def create_app(settings: Settings | None = None, loader: Loader | None = None) -> FastAPI:
    """Build the app; refuses unsafe settings (open service on a reachable address) before anything runs.

    ``loader`` turns a model folder into a classifier (default: a transformers model folder); tests pass a
    deterministic fake that satisfies :class:`~narrascope.model.protocol.Classifier`.
    """
    settings = settings or Settings()
    authenticator = startup_authenticator(settings)  # refuses keyless specs and unsafe binds before anything runs
    if settings.log_json:
        configure_logging(settings.log_level)
    app = FastAPI(
        title="narrascope",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.loader = loader or _loader(settings)
    app.state.metrics = ServiceMetrics()
    app.state.authenticator = authenticator
    install_error_handlers(app)
    for module in (score, extract, labels, model_routes, feedback, admin, health, metrics_routes, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyGuardMiddleware, max_bytes=settings.max_body_bytes, metrics=app.state.metrics)
    # Without keys the only protection is that nobody else can reach us: hold that per connection, whatever
    # address the server was actually bound to (uvicorn --factory, gunicorn and Docker bypass our settings),
    # and refuse foreign Host names so a rebinding web page cannot drive a local service.
    if not authenticator.enabled and not settings.allow_unauthenticated:
        app.add_middleware(LoopbackOnlyMiddleware)
    # Added last = outermost: every response, errors and refusals included, gets a request id and a latency sample.
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app
