"""A keyless service is a loopback-only service, however it is started, and bad key specs fail closed.

Driven in-process: TestClient's ``base_url`` sets the ASGI server address and the Host header. Real servers
started the four ways operators do are in ``test_serve_launch.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.serve.app import create_app
from narrascope.serve.auth import ApiKeyConfigError
from narrascope.serve.exposure import host_name, is_loopback_literal
from narrascope.serve.testing import isolated_settings

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
