"""``narrascope serve``: flags over environment, a clear message without a model, and the bind refusal."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from narrascope.serve import cli
from narrascope.serve.app import create_app
from narrascope.serve.settings import UnsafeSettingsError


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No developer NARRASCOPE_* variable leaks in; logging handlers set by ``narrascope serve`` are undone."""
    for name in list(os.environ):
        if name.startswith("NARRASCOPE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NARRASCOPE_HOME", str(tmp_path / "home"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
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


def test_one_worker_gets_the_app_object_and_leaves_the_environment_alone(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: captured.update(kwargs, app=app))
    before = dict(os.environ)
    args = parse(["serve", "--model", str(tiny_model_dir), "--port", "8123"])
    assert args.handler(args) == 0
    assert isinstance(captured["app"], FastAPI) and "factory" not in captured
    assert (captured["host"], captured["port"]) == ("127.0.0.1", 8123)
    assert captured["app"].state.settings.model_dir == tiny_model_dir
    assert dict(os.environ) == before


def test_several_workers_rebuild_the_settings_from_the_environment(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: captured.update(kwargs, app=app))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # run_serve hands its settings to the workers here
    args = parse(["serve", "--model", str(tiny_model_dir), "--port", "8123", "--workers", "2"])
    assert args.handler(args) == 0
    assert captured["app"] == "narrascope.serve.app:create_app" and captured["factory"] is True
    assert (captured["host"], captured["port"], captured["workers"]) == ("127.0.0.1", 8123, 2)
    assert "WEB_CONCURRENCY" not in os.environ
    # A worker process builds its app from that environment alone, with the workers' share of the cores.
    monkeypatch.setenv("NARRASCOPE_FEEDBACK_URL", f"sqlite:///{tiny_model_dir.parent / 'cli-fb.sqlite'}")
    monkeypatch.setenv("NARRASCOPE_NUM_THREADS", "1")
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        assert client.app.state.settings.workers == 2  # type: ignore[attr-defined]
        assert client.get("/readyz").json()["model"]["name"] == "tiny-random"


def test_zero_workers_is_refused_naming_the_setting(tiny_model_dir: Path) -> None:
    with pytest.raises(ValueError, match="workers"):
        cli.serve_settings(parse(["serve", "--model", str(tiny_model_dir), "--workers", "0"]))


def test_narrascope_command_wires_serve_and_no_feedback_command() -> None:
    from narrascope.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "9000"])
    assert args.handler is cli.run_serve and args.port == 9000
    with pytest.raises(SystemExit):  # exporting feedback is a data command now: narrascope data feedback
        build_parser().parse_args(["feedback", "export", "out.jsonl"])
