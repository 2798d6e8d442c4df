"""Helpers for tests and benchmarks: isolated settings and a real uvicorn server on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from narrascope.serve.settings import Settings


def isolated_settings(model_dir: Path, store_dir: Path, **overrides: Any) -> Settings:
    """Settings that ignore the caller's ``NARRASCOPE_*`` keys and write feedback under ``store_dir``."""
    values: dict[str, Any] = {
        "model_dir": model_dir,
        "host": "127.0.0.1",
        "api_keys": None,
        "api_keys_file": None,
        "allow_unauthenticated": False,
        "feedback_url": f"sqlite:///{Path(store_dir) / 'feedback.sqlite'}",
        "num_threads": 1,
        "device": "cpu",
        "log_json": False,
    }
    values.update(overrides)
    return Settings(**values)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(settings: Settings, startup_timeout: float = 30.0, access_log: bool = False) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn in a thread; yields the base URL, stops on exit.

    ``access_log`` turns uvicorn's own access lines on, for tests that check what uvicorn would log."""
    import uvicorn

    from narrascope.serve.app import create_app

    port = settings.port or free_port(settings.host)
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=port, log_config=None, access_log=access_log, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="narrascope-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server exited during startup")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"the test server did not start within {startup_timeout} s")
        time.sleep(0.02)
    try:
        yield f"http://{settings.host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
