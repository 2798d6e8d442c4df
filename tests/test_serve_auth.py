"""API keys and scopes, and the refusal to expose an open service beyond loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.serve.app import create_app
from narrascope.serve.auth import ApiKeyConfigError, parse_api_keys
from narrascope.serve.settings import UnsafeSettingsError, is_loopback
from narrascope.serve.testing import isolated_settings

SCORER = "moderator-key-0123456789"
ADMIN = "deploy-admin-key-0123456789"
FEEDBACK_ONLY = "feedback-only-key-0123456789"
KEYS = f"{SCORER}:score,feedback; {ADMIN}:admin"


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = tmp_path_factory.mktemp("auth-store")
    keys_file = store / "keys.txt"
    keys_file.write_text(f"# extra keys\n{FEEDBACK_ONLY}:feedback\n", encoding="utf-8")
    keys_file.chmod(0o600)
    settings = isolated_settings(tiny_model_dir, store, api_keys=KEYS, api_keys_file=keys_file)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


SCORE_BODY = {"documents": [{"text": "The law creates territorial defence units."}]}
FEEDBACK_BODY = {"text": "The law creates territorial defence units.", "labels": ["defensive_purpose"]}


def test_missing_or_wrong_key_is_401(client: TestClient) -> None:
    for headers in ({}, bearer("not-a-real-key-000000000"), {"Authorization": f"Basic {SCORER}"}):
        response = client.post("/v1/score", json=SCORE_BODY, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/labels").status_code == 401
    assert client.get("/v1/model").status_code == 401


def test_scopes_are_enforced(client: TestClient) -> None:
    assert client.post("/v1/score", json=SCORE_BODY, headers=bearer(SCORER)).status_code == 200
    assert client.post("/v1/feedback", json=FEEDBACK_BODY, headers=bearer(SCORER)).status_code == 201
    forbidden = client.post("/v1/admin/reload", json={}, headers=bearer(SCORER))
    assert forbidden.status_code == 403 and "admin" in forbidden.json()["detail"]
    assert client.post("/v1/score", json=SCORE_BODY, headers=bearer(ADMIN)).status_code == 403
    assert client.post("/v1/feedback", json=FEEDBACK_BODY, headers=bearer(ADMIN)).status_code == 403
    assert client.post("/v1/admin/reload", json={}, headers=bearer(ADMIN)).status_code == 200


def test_keys_file_adds_keys(client: TestClient) -> None:
    assert client.post("/v1/feedback", json=FEEDBACK_BODY, headers=bearer(FEEDBACK_ONLY)).status_code == 201
    assert client.post("/v1/score", json=SCORE_BODY, headers=bearer(FEEDBACK_ONLY)).status_code == 403


def test_any_valid_key_reads_labels_and_model(client: TestClient) -> None:
    for key in (SCORER, ADMIN, FEEDBACK_ONLY):
        assert client.get("/v1/labels", headers=bearer(key)).status_code == 200
        assert client.get("/v1/model", headers=bearer(key)).status_code == 200


def test_probes_metrics_and_page_stay_open(client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/", "/static/app.js"):
        assert client.get(path).status_code == 200, path


def test_feedback_records_the_key_id_not_the_key(client: TestClient) -> None:
    client.post("/v1/feedback", json=FEEDBACK_BODY, headers=bearer(SCORER))
    stored = list(client.app.state.service.store.iter_all())  # type: ignore[attr-defined]
    submitters = {item.record.submitted_by for item in stored}
    assert submitters and all(s and len(s) == 12 and s not in SCORER for s in submitters)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("short:score", "at least 16 characters"),
        ("a-long-enough-key-123:score,delete", "unknown or missing scope"),
        ("a-long-enough-key-123:", "unknown or missing scope"),
        ("no-colon-in-this-entry", "must look like"),
        ("a-long-enough-key-123:score;a-long-enough-key-123:admin", "repeats an earlier key"),
    ],
)
def test_bad_key_specs_are_refused_without_echoing_keys(spec: str, problem: str) -> None:
    with pytest.raises(ApiKeyConfigError, match=problem) as info:
        parse_api_keys(spec)
    assert "a-long-enough-key-123" not in str(info.value)


def test_open_service_on_public_address_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UnsafeSettingsError, match="refusing to bind '0.0.0.0' without API keys"):
        create_app(isolated_settings(tiny_model_dir, tmp_path, host="0.0.0.0"))
    create_app(isolated_settings(tiny_model_dir, tmp_path, host="0.0.0.0", allow_unauthenticated=True))
    create_app(isolated_settings(tiny_model_dir, tmp_path, host="0.0.0.0", api_keys=KEYS))


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("::")
