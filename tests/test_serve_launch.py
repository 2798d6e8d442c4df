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
from pathlib import Path
from typing import Any

import pytest

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


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """Output goes to a file: a long-lived server would block on a full pipe nobody reads."""
    with log.open("w", encoding="utf-8") as sink:
        return subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True)


def wait_ready(process: subprocess.Popen[str], port: int, log: Path, timeout: float = 90.0) -> None:
    """Return once /healthz answers on loopback, or fail with the server's output."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            output = log.read_text(encoding="utf-8", errors="replace")
            raise AssertionError(f"{process.args!r} exited with {process.returncode}:\n{output[-3000:]}")
        try:
            if status(f"http://127.0.0.1:{port}/healthz") == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{process.args!r} did not answer within {timeout} s")
        time.sleep(0.3)


def stop(process: subprocess.Popen[str]) -> None:
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


def docker_argv(port: int, tiny_model_dir: Path, home: Path) -> tuple[list[str], dict[str, str]]:
    """The image's command with its port, and its own variables with the volume paths pointed at ``home``."""
    argv, image_env = docker_command()
    assert argv[:2] == ["narrascope", "serve"] and "0.0.0.0" in argv
    argv = [str(BIN / argv[0]), *argv[1:]]
    argv[argv.index("--port") + 1] = str(port)
    env = launch_env(tiny_model_dir, home, **{k: v for k, v in image_env.items() if k.startswith("NARRASCOPE_")})
    env.update(NARRASCOPE_HOME=str(home), NARRASCOPE_MODEL_DIR=str(tiny_model_dir), NARRASCOPE_DATA_DIR="")
    return argv, env


@pytest.fixture(scope="module")
def launched(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Every launch at once (each costs seconds of imports): three servers that must come up on 0.0.0.0 and
    three commands that must refuse to start. Yields the servers' ports and the refusals' outputs."""
    home = tmp_path_factory.mktemp("launch-home")
    ports = {name: free_port() for name in ("uvicorn", "gunicorn", "docker")}
    serve_cli = [str(BIN / "narrascope"), "serve", "--host", "0.0.0.0", "--port", str(free_port())]
    docker, docker_env = docker_argv(ports["docker"], tiny_model_dir, home)
    logs = {name: home / f"{name}.log" for name in ("uvicorn", "gunicorn", "docker", "cli", "cli-keys", "refused")}
    servers = {
        "uvicorn": start(
            [sys.executable, "-m", "uvicorn", "narrascope.serve.app:create_app", "--factory"]
            + ["--host", "0.0.0.0", "--port", str(ports["uvicorn"])],
            launch_env(tiny_model_dir, home),
            logs["uvicorn"],
        ),
        "gunicorn": start(
            [str(BIN / "gunicorn"), "narrascope.serve.app:create_app()", "--worker-class"]
            + ["uvicorn_worker.UvicornWorker", "--bind", f"0.0.0.0:{ports['gunicorn']}", "--workers", "1"],
            launch_env(tiny_model_dir, home),
            logs["gunicorn"],
        ),
        "docker": start(docker, {**docker_env, "NARRASCOPE_API_KEYS": f"{KEY}:score"}, logs["docker"]),
    }
    refusing = {
        "cli": (start(serve_cli, launch_env(tiny_model_dir, home), logs["cli"]), logs["cli"]),
        "cli-keyless-spec": (
            start(serve_cli, launch_env(tiny_model_dir, home, NARRASCOPE_API_KEYS=";"), logs["cli-keys"]),
            logs["cli-keys"],
        ),
        "docker": (start(docker, docker_env, logs["refused"]), logs["refused"]),
    }
    try:
        refusals = {
            name: (process.wait(timeout=120), log.read_text(encoding="utf-8", errors="replace"))
            for name, (process, log) in refusing.items()
        }
        for name, process in servers.items():
            wait_ready(process, ports[name], logs[name])
        yield {"ports": ports, "refusals": refusals}
    finally:
        for process in [*servers.values(), *(process for process, _ in refusing.values())]:
            if process.poll() is None:
                stop(process)


def assert_refused(launched: dict[str, Any], name: str, expected: str) -> None:
    code, output = launched["refusals"][name]
    assert code != 0, output
    assert expected in output


def test_cli_refuses_a_public_keyless_bind_and_a_keyless_spec(launched: dict[str, Any]) -> None:
    assert_refused(launched, "cli", "refusing to bind '0.0.0.0' without API keys")
    assert_refused(launched, "cli-keyless-spec", "holds no key")


def test_uvicorn_factory_on_all_interfaces_serves_loopback_only(launched: dict[str, Any]) -> None:
    assert_loopback_only(launched["ports"]["uvicorn"])


def test_gunicorn_on_all_interfaces_serves_loopback_only(launched: dict[str, Any]) -> None:
    assert_loopback_only(launched["ports"]["gunicorn"])


def test_docker_command_needs_keys_and_then_requires_them(launched: dict[str, Any]) -> None:
    assert_refused(launched, "docker", "refusing to bind '0.0.0.0' without API keys")
    port = launched["ports"]["docker"]
    outside = outside_address()
    target = f"http://{outside}:{port}" if outside else f"http://127.0.0.1:{port}"
    assert status(f"{target}/v1/labels") == 401  # keys configured: nothing is served without one
    assert status(f"{target}/v1/labels", host="attacker.example") == 401
