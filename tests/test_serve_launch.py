"""A keyless service is loopback-only however it is started: real servers, started the four ways operators do
(``narrascope serve``, ``uvicorn --factory``, gunicorn, the Docker image's command) bound to 0.0.0.0 without
keys, answer nothing that arrives on a non-loopback address or names a foreign Host.

Kept apart from ``test_serve_exposure.py`` (the in-process checks) so a parallel test run can start these
servers while other files run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from narrascope.serve.exposure import is_loopback_literal
from narrascope.serve.testing import free_port

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "exposure-test-key-0123456789"


def outside_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.255", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if is_loopback_literal(address) else address


def status(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def launch_env(model: Path, home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NARRASCOPE_")}
    env.update(
        NARRASCOPE_HOME=str(home),
        NARRASCOPE_MODEL_DIR=str(model),
        NARRASCOPE_NUM_THREADS="1",
        HF_HUB_OFFLINE="1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, timeout: float = 90.0) -> Iterator[str]:
    """Start ``command``; yield its loopback base URL once /healthz answers, or fail with its output."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                raise AssertionError(f"{command[0]} exited with {process.returncode}:\n{output[-3000:]}")
            try:
                if status(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{shlex.join(command)} did not answer within {timeout} s")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def assert_loopback_only(port: int) -> None:
    assert status(f"http://127.0.0.1:{port}/healthz") == 200
    assert status(f"http://127.0.0.1:{port}/healthz", host="attacker.example") == 421
    outside = outside_address()
    if outside is not None:  # a machine with only loopback cannot be reached from elsewhere anyway
        assert status(f"http://{outside}:{port}/healthz") == 403


def refused(command: list[str], env: dict[str, str], expected: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0, done.stdout + done.stderr
    assert expected in done.stdout + done.stderr


def test_cli_refuses_a_public_keyless_bind_and_a_keyless_spec(tiny_model_dir: Path, tmp_path: Path) -> None:
    command = [str(BIN / "narrascope"), "serve", "--host", "0.0.0.0", "--port", str(free_port())]
    refused(command, launch_env(tiny_model_dir, tmp_path), "refusing to bind '0.0.0.0' without API keys")
    refused(command, launch_env(tiny_model_dir, tmp_path, NARRASCOPE_API_KEYS=";"), "holds no key")


def test_uvicorn_factory_on_all_interfaces_serves_loopback_only(tiny_model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    factory = "narrascope.serve.app:create_app"
    command = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "0.0.0.0", "--port", str(port)]
    with server(command, launch_env(tiny_model_dir, tmp_path), port):
        assert_loopback_only(port)


def test_gunicorn_on_all_interfaces_serves_loopback_only(tiny_model_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        "narrascope.serve.app:create_app()",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--bind",
        f"0.0.0.0:{port}",
        "--workers",
        "1",
    ]
    with server(command, launch_env(tiny_model_dir, tmp_path), port):
        assert_loopback_only(port)


def docker_command() -> tuple[list[str], dict[str, str]]:
    """The image's ENTRYPOINT + CMD and its ENV, read from the Dockerfile (no Docker daemon is needed)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert entry and cmd, "the Dockerfile must use the exec form of ENTRYPOINT and CMD"
    env: dict[str, str] = {}
    for block in re.findall(r"^ENV (.*)$", text, re.M):
        for pair in shlex.split(block):
            key, _, value = pair.partition("=")
            env[key] = value
    return [*json.loads(entry.group(1)), *json.loads(cmd.group(1))], env


def test_docker_command_needs_keys_and_then_requires_them(tiny_model_dir: Path, tmp_path: Path) -> None:
    argv, image_env = docker_command()
    assert argv[:2] == ["narrascope", "serve"] and "0.0.0.0" in argv
    port = free_port()
    argv = [str(BIN / argv[0]), *argv[1:]]
    argv[argv.index("--port") + 1] = str(port)
    # The image's own variables, with its volume paths pointed at this test's folders.
    env = launch_env(tiny_model_dir, tmp_path, **{k: v for k, v in image_env.items() if k.startswith("NARRASCOPE_")})
    env.update(NARRASCOPE_HOME=str(tmp_path), NARRASCOPE_MODEL_DIR=str(tiny_model_dir), NARRASCOPE_DATA_DIR="")
    refused(argv, env, "refusing to bind '0.0.0.0' without API keys")
    with server(argv, {**env, "NARRASCOPE_API_KEYS": f"{KEY}:score"}, port) as base:
        outside = outside_address()
        target = f"http://{outside}:{port}" if outside else base
        request = urllib.request.Request(f"{target}/v1/labels")
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("an unauthenticated request was served")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
