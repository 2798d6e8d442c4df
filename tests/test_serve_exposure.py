"""A keyless service is a loopback-only service, however it is started, and bad key specs fail closed.

The unit part drives the app in-process (TestClient's ``base_url`` sets the ASGI server address and the Host
header). The launch part starts real servers the four ways operators do (``narrascope serve``, ``uvicorn
--factory``, gunicorn, the Docker image's command) bound to 0.0.0.0 without keys, and checks that nothing
answers a request arriving on a non-loopback address.
"""

from __future__ import annotations

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

import pytest
from fastapi.testclient import TestClient

from narrascope.serve.app import create_app
from narrascope.serve.auth import ApiKeyConfigError
from narrascope.serve.exposure import host_name, is_loopback_literal
from narrascope.serve.testing import free_port, isolated_settings

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KEY = "exposure-test-key-0123456789"
FEEDBACK = {"text": "The law creates territorial defence units.", "labels": ["defensive_purpose"]}


@pytest.fixture(scope="module")
def keyless(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = isolated_settings(tiny_model_dir, tmp_path_factory.mktemp("exposure"))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client


def test_loopback_literals_are_recognised_without_dns() -> None:
    for host in ("localhost", "LOCALHOST.", "app.localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"):
        assert is_loopback_literal(host), host
    for host in ("attacker.example", "127.0.0.1.nip.io", "0.0.0.0", "10.0.0.1", "::", "localhost.example", ""):
        assert not is_loopback_literal(host), host
    assert [host_name(h) for h in ("[::1]:8000", "localhost:80", "127.0.0.1", "::1")] == [
        "::1",
        "localhost",
        "127.0.0.1",
        "::1",
    ]


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "app.localhost"])
def test_keyless_service_answers_loopback_hosts(keyless: TestClient, host: str) -> None:
    assert keyless.get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "method,path,body",
    [("post", "/v1/admin/reload", None), ("post", "/v1/feedback", FEEDBACK), ("get", "/healthz", None)],
)
def test_keyless_service_refuses_a_rebound_host(keyless: TestClient, method: str, path: str, body: object) -> None:
    response = keyless.request(method, path, json=body, headers={"Host": "attacker.example"})
    assert response.status_code == 421
    assert "not a loopback name" in response.json()["detail"]
    assert response.headers["x-request-id"]  # refusals are logged and counted like any response


def test_keyless_service_refuses_connections_on_other_interfaces(tiny_model_dir: Path, tmp_path: Path) -> None:
    app = create_app(isolated_settings(tiny_model_dir, tmp_path))
    with TestClient(app, base_url="http://10.1.2.3") as client:  # the server address the request arrived on
        response = client.get("/healthz", headers={"Host": "localhost"})
    assert response.status_code == 403
    assert "answers only on loopback" in response.json()["detail"]


def test_with_keys_or_explicit_opt_in_any_host_may_call(tiny_model_dir: Path, tmp_path: Path) -> None:
    keyed = create_app(isolated_settings(tiny_model_dir, tmp_path, api_keys=f"{KEY}:score,feedback,admin"))
    with TestClient(keyed, base_url="http://10.1.2.3") as client:
        assert client.get("/healthz", headers={"Host": "narrascope.example"}).status_code == 200
        assert client.post("/v1/feedback", json=FEEDBACK).status_code == 401
    opted = create_app(isolated_settings(tiny_model_dir, tmp_path, host="0.0.0.0", allow_unauthenticated=True))
    with TestClient(opted, base_url="http://10.1.2.3") as client:
        assert client.get("/healthz", headers={"Host": "narrascope.example"}).status_code == 200


@pytest.mark.parametrize("spec", [";", " ; ;", "#none", "# keys go here\n\n"])
def test_a_key_spec_without_keys_is_a_startup_error(tiny_model_dir: Path, tmp_path: Path, spec: str) -> None:
    for host in ("0.0.0.0", "127.0.0.1"):
        with pytest.raises(ApiKeyConfigError, match="NARRASCOPE_API_KEYS is set but holds no key"):
            create_app(isolated_settings(tiny_model_dir, tmp_path, host=host, api_keys=spec))


def test_an_empty_keys_file_is_a_startup_error(tiny_model_dir: Path, tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("# nobody yet\n", encoding="utf-8")
    keys_file.chmod(0o600)
    with pytest.raises(ApiKeyConfigError, match=r"keys\.txt \(NARRASCOPE_API_KEYS_FILE\) is set but holds no key"):
        create_app(isolated_settings(tiny_model_dir, tmp_path, host="0.0.0.0", api_keys_file=keys_file))


# --- real launches -------------------------------------------------------------------------------------


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
    import json

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
