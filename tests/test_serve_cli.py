"""``narrascope serve``: flags over environment, a clear message without a model, and the bind refusal."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from narrascope.serve import cli
from narrascope.serve.app import create_app
from narrascope.serve.settings import UnsafeSettingsError


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path) -> Iterator[None]:
    """No developer NARRASCOPE_* variable leaks in, none set by ``narrascope serve`` leaks out."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("NARRASCOPE_") or name == "WEB_CONCURRENCY":
            del os.environ[name]
    os.environ["NARRASCOPE_HOME"] = str(tmp_path / "home")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        root.handlers[:] = handlers
        root.setLevel(level)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="narrascope")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_missing_default_model_tells_to_train() -> None:
    with pytest.raises(FileNotFoundError, match=r"run `narrascope train` first, or pass --model"):
        cli.serve_settings(parse(["serve"]))


def test_missing_given_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        cli.serve_settings(parse(["serve", "--model", str(tmp_path / "nope")]))
    assert "narrascope train" not in str(info.value)


def test_public_bind_needs_keys_or_force(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["serve", "--model", str(tiny_model_dir), "--host", "0.0.0.0"]
    with pytest.raises(UnsafeSettingsError, match="--force"):
        cli.serve_settings(parse(base))
    assert cli.serve_settings(parse([*base, "--force"])).allow_unauthenticated
    monkeypatch.setenv("NARRASCOPE_API_KEYS", "some-deploy-key-0123456:score")
    assert cli.serve_settings(parse(base)).host == "0.0.0.0"


def test_serve_starts_uvicorn_with_the_factory(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    captured: dict[str, Any] = {}

    def fake_run(app: str, **kwargs: Any) -> None:
        captured.update(kwargs, app=app)

    monkeypatch.setattr("uvicorn.run", fake_run)
    args = parse(["serve", "--model", str(tiny_model_dir), "--port", "8123", "--workers", "2"])
    assert args.handler(args) == 0
    assert captured["app"] == "narrascope.serve.app:create_app" and captured["factory"] is True
    assert (captured["host"], captured["port"], captured["workers"]) == ("127.0.0.1", 8123, 2)
    assert os.environ["NARRASCOPE_MODEL_DIR"] == str(tiny_model_dir.resolve())
    assert os.environ["WEB_CONCURRENCY"] == "2"
    # A worker process builds its app from that environment alone.
    monkeypatch.setenv("NARRASCOPE_FEEDBACK_URL", f"sqlite:///{tiny_model_dir.parent / 'cli-fb.sqlite'}")
    monkeypatch.setenv("NARRASCOPE_NUM_THREADS", "1")
    with TestClient(create_app()) as client:
        assert client.get("/readyz").json()["model"]["name"] == "tiny-random"


def test_narrascope_command_wires_serve_and_no_feedback_command() -> None:
    pytest.importorskip("narrascope.training.cli", reason="training.cli not written yet")
    pytest.importorskip("narrascope.batch.cli", reason="batch.cli not written yet")
    from narrascope.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "9000"])
    assert args.handler is cli.run_serve and args.port == 9000
    with pytest.raises(SystemExit):  # exporting feedback is a data command now: narrascope data feedback
        build_parser().parse_args(["feedback", "export", "out.jsonl"])
