"""``narrascope serve``: a thin wrapper over the app factory (feedback export is ``narrascope data feedback``).

Settings come from ``NARRASCOPE_*`` variables; flags override them. Uvicorn is started with the app factory
(``narrascope.serve.app:create_app``) only when several workers or auto-reload need it; flags then reach the
worker processes through the same environment variables the settings read. One worker gets the app object.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import Any

from narrascope.serve.auth import startup_authenticator
from narrascope.serve.settings import ENV_PREFIX, Settings

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add ``serve`` to the ``narrascope`` command."""
    serve = subparsers.add_parser(
        "serve",
        help="run the scoring API and the moderator page",
        description="Serve /v1/score, /v1/feedback, the moderator page and /metrics. "
        f"Every setting can also come from {ENV_PREFIX}* environment variables.",
    )
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--model", type=Path, help="model folder (default: the one narrascope train writes)")
    serve.add_argument("--workers", type=int, help="worker processes, each with its own model (default 1)")
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    serve.add_argument(
        "--force", action="store_true", help="allow a non-loopback bind without API keys (unauthenticated)"
    )
    serve.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    serve.set_defaults(handler=run_serve)


def serve_settings(args: argparse.Namespace) -> Settings:
    """Environment settings with the flags applied; checks the model folder and the bind safety."""
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.model is not None:
        overrides["model_dir"] = args.model
    if args.force:
        overrides["allow_unauthenticated"] = True
    if args.log_level:
        overrides["log_level"] = args.log_level
    if args.workers is not None:
        overrides["workers"] = args.workers
    overrides["log_json"] = True
    settings = Settings(**overrides)
    if not settings.model_dir.exists():
        if args.model is None and not os.environ.get(f"{ENV_PREFIX}MODEL_DIR"):
            raise FileNotFoundError(
                f"no model at {settings.model_dir}; run `narrascope train` first, or pass --model DIR"
            )
        raise FileNotFoundError(f"model folder {settings.model_dir} does not exist")
    startup_authenticator(settings)  # parsed keys decide, exactly as in the app: fail before uvicorn starts
    return settings


def worker_environment(settings: Settings) -> dict[str, str]:
    """The ``NARRASCOPE_*`` variables from which a uvicorn worker process rebuilds these exact settings.

    Several workers (or ``--reload``) mean uvicorn spawns processes that import the app factory by name, and
    their environment is the only channel into them; one worker gets the app object and needs none of this.
    """
    env = {
        "MODEL_DIR": str(settings.model_dir.resolve()),
        "HOST": settings.host,
        "PORT": str(settings.port),
        "WORKERS": str(settings.workers),
        "ALLOW_UNAUTHENTICATED": "1" if settings.allow_unauthenticated else "0",
        "LOG_JSON": "1",
        "LOG_LEVEL": settings.log_level,
    }
    return {ENV_PREFIX + key: value for key, value in env.items()}


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from narrascope.serve.app import create_app
    from narrascope.serve.logs import configure_logging

    settings = serve_settings(args)
    configure_logging(settings.log_level)
    logger.info(
        "starting",
        extra={
            "host": settings.host,
            "port": settings.port,
            "workers": settings.workers,
            "model": str(settings.model_dir),
        },
    )
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": False,  # the app logs one structured line per request itself
        "timeout_graceful_shutdown": 30,
    }
    if settings.workers == 1 and not args.reload:
        uvicorn.run(create_app(settings), **common)
        return 0
    # This process only supervises the workers; handing them the settings is what its environment is for.
    os.environ.update(worker_environment(settings))
    uvicorn.run(
        "narrascope.serve.app:create_app",
        factory=True,
        workers=settings.workers if not args.reload else None,
        reload=args.reload,
        **common,
    )
    return 0
