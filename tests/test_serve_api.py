"""HTTP behaviour of the service with the tiny model: every endpoint and every error path."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from narrascope.model.classifier import ModelFolderError, NarrativeClassifier
from narrascope.serve.app import create_app
from narrascope.serve.batcher import OverloadedError
from narrascope.serve.logs import JsonFormatter
from narrascope.serve.testing import isolated_settings

LIMITS = {"max_documents": 4, "max_document_chars": 3000, "max_body_bytes": 64 * 1024}
TEXT = (
    "Kazakhstan is preparing for war, anonymous channels claim. "
    "The Ministry of Defense called the reports fake. "
    "Self-defence units will protect settlements during emergencies."
)


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = isolated_settings(tiny_model_dir, tmp_path_factory.mktemp("store"), **LIMITS)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def score(client: TestClient, documents: list[dict], **options: object) -> dict:
    body: dict = {"documents": documents}
    if options:
        body["options"] = options
    response = client.post("/v1/score", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def messages(response: Any) -> list[str]:
    """The ``msg`` of every validation error (TestClient responses)."""
    return [item["msg"] for item in response.json()["detail"]]


# --- scoring -------------------------------------------------------------------------------------------


def test_score_returns_every_field_in_input_order(client: TestClient, tiny_classifier: NarrativeClassifier) -> None:
    data = score(client, [{"id": "b", "text": TEXT}, {"id": "a", "text": "Казахстан не готовится к войне."}])
    assert data["model"]["name"] == tiny_classifier.info.name
    assert set(data["model"]) == {"name", "version", "base_model", "trained_at"}  # no metrics per response
    assert [r["id"] for r in data["results"]] == ["b", "a"]
    first = data["results"][0]
    assert set(first["scores"]) == set(tiny_classifier.labels)
    assert all(label in first["scores"] for label in first["labels"])
    assert first["risk"]["level"] in {"none", "debunk", "low", "high"}
    assert {"claims_pushed", "claims_rebutted", "counter_labels"} <= set(first["risk"])
    assert first["n_sentences"] == 3 == len(first["sentences"])
    for sentence in first["sentences"]:
        assert TEXT[sentence["start"] : sentence["end"]] == sentence["text"]
        assert set(sentence["scores"]) == set(tiny_classifier.labels)
    assert first["language"] == "en"
    assert data["results"][1]["language"] == "ru"


def test_ids_default_to_position_and_lang_is_respected(client: TestClient) -> None:
    data = score(client, [{"text": "One sentence."}, {"text": "Another one.", "lang": "kk"}])
    assert [r["id"] for r in data["results"]] == ["0", "1"]
    assert data["results"][1]["language"] == "kk"


def test_plain_sentence_is_a_one_sentence_document(client: TestClient) -> None:
    result = score(client, [{"text": "The law creates territorial defence units"}])["results"][0]
    assert result["n_sentences"] == 1


def test_sentences_can_be_turned_off(client: TestClient) -> None:
    result = score(client, [{"text": TEXT}], include_sentences=False)["results"][0]
    assert "sentences" not in result
    assert result["n_sentences"] == 3


def test_options_pick_labels_and_override_thresholds(client: TestClient, tiny_classifier: NarrativeClassifier) -> None:
    wanted = tiny_classifier.labels[:2]
    result = score(client, [{"text": TEXT}], labels=wanted)["results"][0]
    assert list(result["scores"]) == wanted
    everything = {label: 0.0 for label in tiny_classifier.labels}
    assert score(client, [{"text": TEXT}], thresholds=everything)["results"][0]["labels"] == tiny_classifier.labels
    nothing = {label: 1.0 for label in tiny_classifier.labels}
    result = score(client, [{"text": TEXT}], thresholds=nothing)["results"][0]
    assert result["labels"] == [] and result["risk"]["level"] == "none"


def test_long_article_is_chunked_not_truncated(client: TestClient) -> None:
    sentences = [f"Sentence number {i} talks about the territorial defence law." for i in range(40)]
    article = " ".join(sentences)[:2990]
    result = score(client, [{"text": article}])["results"][0]
    assert result["n_sentences"] == len(result["sentences"]) >= 40 - 1
    assert result["sentences"][-1]["end"] == len(article.rstrip())
    # One "sentence" far longer than the model's window is scored over overlapping windows.
    run_on = " ".join(["brigades border army peace"] * 100)
    assert score(client, [{"text": run_on}])["results"][0]["n_sentences"] == 1


# --- input errors ----------------------------------------------------------------------------------------


def test_too_many_documents(client: TestClient) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "x"}] * 5})
    assert response.status_code == 422
    assert messages(response) == ["documents: List should have at most 4 items after validation, not 5"]
    response = client.post("/v1/score", json={"documents": [{"text": "x"}] * 300})
    assert response.status_code == 422 and messages(response)[0].startswith("documents:")
    response = client.post("/v1/score", json={"documents": []})
    assert response.status_code == 422 and messages(response)[0].startswith("documents:")


def test_too_long_document_names_its_index(client: TestClient) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "ok"}, {"text": "x" * 3001}]})
    assert response.status_code == 422
    assert messages(response) == ["documents[1].text: String should have at most 3000 characters, not 3001"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_or_whitespace_text_names_its_index(client: TestClient, text: str) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "fine"}, {"text": "fine"}, {"text": text}]})
    assert response.status_code == 422
    assert messages(response) == ["documents[2].text: text is empty or whitespace-only"]


def test_schema_errors_name_the_field(client: TestClient) -> None:
    response = client.post("/v1/score", json={"documents": [{"id": "a"}]})
    assert response.status_code == 422 and messages(response) == ["documents[0].text: Field required"]
    response = client.post("/v1/score", json={"documents": [{"text": "a"}], "options": {"thresold": {}}})
    assert response.status_code == 422 and messages(response)[0].startswith("options.thresold:")
    response = client.post("/v1/score", json={"documents": [{"text": "a", "lang": "not a code"}]})
    assert response.status_code == 422 and messages(response)[0].startswith("documents[0].lang:")


def test_lone_surrogate_is_rejected_with_index(client: TestClient) -> None:
    body = b'{"documents": [{"text": "fine"}, {"text": "bad \\ud800 char"}]}'
    response = client.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert messages(response)[0].startswith("documents[1].text: ")


def test_invalid_json_is_422(client: TestClient) -> None:
    response = client.post("/v1/score", content=b'{"documents": [', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert messages(response) == ["body: invalid JSON at line 1 column 16 (Expecting value)"]
    assert response.json()["detail"][0]["loc"] == ["body", 15]


def test_non_utf8_body_is_400(client: TestClient) -> None:
    body = '{"documents": [{"text": "Казахстан"}]}'.encode("cp1251")
    response = client.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid UTF-8" in response.json()["detail"]


def test_body_too_large_is_413_by_declared_length(client: TestClient) -> None:
    body = json.dumps({"documents": [{"text": "x" * 70_000}]}).encode()
    response = client.post("/v1/score", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"] == "request body exceeds 65536 bytes"


def test_body_too_large_is_413_when_streamed(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"documents": [{"text": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}]}'

    response = client.post("/v1/score", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"labels": ["no_such_label"]}, "options: unknown label 'no_such_label'"),
        ({"thresholds": {"no_such_label": 0.5}}, "options: unknown label 'no_such_label'"),
        ({"thresholds": {"war_preparation": 1.5}}, "options.thresholds.war_preparation:"),
        ({"labels": ["war_preparation", "war_preparation"]}, "options.labels: labels repeat an id"),
    ],
)
def test_bad_options_are_422(client: TestClient, options: dict, expected: str) -> None:
    response = client.post("/v1/score", json={"documents": [{"text": "a"}], "options": options})
    assert response.status_code == 422
    assert messages(response)[0].startswith(expected)


# --- other endpoints ------------------------------------------------------------------------------------


def test_labels_come_from_the_model(client: TestClient, tiny_classifier: NarrativeClassifier) -> None:
    data = client.get("/v1/labels").json()
    assert [item["id"] for item in data["labels"]] == tiny_classifier.labels
    assert set(data["model"]) == {"name", "version", "base_model", "trained_at"}
    assert {item["kind"] for item in data["labels"]} == {"claim", "counter", "framing"}
    assert all(0.0 <= item["threshold"] <= 1.0 and item["name"] for item in data["labels"])


def test_model_endpoint(client: TestClient, tiny_model_dir: Path) -> None:
    data = client.get("/v1/model").json()
    assert data["name"] == "tiny-random" and data["version"] == "tiny-0"
    assert data["base_model"] == "tiny-random-bert" and data["trained_at"]
    assert Path(data["path"]) == tiny_model_dir.resolve()
    assert data["device"] == "cpu" and len(data["labels"]) == 11 and data["loaded_at"] > 0


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["model"]["version"] == "tiny-0"


def test_readiness_is_503_while_draining_and_startup_needs_a_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    app = create_app(isolated_settings(tiny_model_dir, tmp_path))
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        service = app.state.service
        service.draining = True
        assert test_client.get("/readyz").status_code == 503
        service.draining = False
        assert test_client.get("/readyz").status_code == 200
    assert not service.batcher.running
    with pytest.raises(ModelFolderError, match="no config.json"):
        with TestClient(create_app(isolated_settings(tmp_path / "missing", tmp_path)), base_url="http://127.0.0.1"):
            pass


def test_overload_and_missing_model_are_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def overloaded(*_args: object, **_kwargs: object) -> None:
        raise OverloadedError("queue full")

    service = client.app.state.service  # type: ignore[attr-defined]
    with monkeypatch.context() as patch:
        patch.setattr(service.scorer, "score", overloaded)
        response = client.post("/v1/score", json={"documents": [{"text": "hello"}]})
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
    with monkeypatch.context() as patch:
        patch.setattr(service.registry, "_current", None)
        response = client.post("/v1/score", json={"documents": [{"text": "hello"}]})
        assert response.status_code == 503 and response.json()["detail"] == "no model is loaded yet"
        assert client.get("/readyz").json() == {"status": "loading"}
    assert client.post("/v1/score", json={"documents": [{"text": "hello"}]}).status_code == 200


def test_feedback_text_limit_follows_settings(client: TestClient) -> None:
    response = client.post("/v1/feedback", json={"text": "x" * 3001, "labels": []})
    assert response.status_code == 422
    assert messages(response) == ["text: String should have at most 3000 characters, not 3001"]


def test_page_and_static_files(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'src="/static/app.js"' in page.text
    for name, kind in (("app.js", "javascript"), ("style.css", "css")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]


def test_openapi_documents_the_api_and_its_limits(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/v1/score", "/v1/labels", "/v1/model", "/v1/feedback", "/v1/admin/reload", "/healthz", "/readyz"):
        assert path in spec["paths"], path
    documents = spec["components"]["schemas"]["ScoreRequest"]["properties"]["documents"]
    assert documents["maxItems"] == 256


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert len(generated) == 32 and " " not in generated


def test_internal_errors_do_not_leak(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(client.app.state.service.scorer, "score", explode)  # type: ignore[attr-defined]
    response = client.post("/v1/score", json={"documents": [{"text": "hello"}]}, headers={"X-Request-ID": "r-500"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error", "request_id": "r-500"}
    assert "secret" not in response.text


def test_access_logs_are_json_with_request_id_and_no_text(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret_text = "A very private sentence that must not be logged."
    with caplog.at_level(logging.INFO, logger="narrascope.access"):
        client.post("/v1/score", json={"documents": [{"text": secret_text}]}, headers={"X-Request-ID": "log-1"})
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines, "no access log line"
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "log-1" and entry["path"] == "/v1/score" and entry["status"] == 200
    assert "duration_ms" in entry
    assert all("private sentence" not in line for line in lines)
    assert all("private sentence" not in record.getMessage() for record in caplog.records)


def test_metrics_expose_the_series(client: TestClient) -> None:
    score(client, [{"text": TEXT}], thresholds={"war_preparation": 0.0})
    client.post("/v1/score", content=b"x" * 70_000, headers={"content-type": "application/json"})
    text = client.get("/metrics").text
    for series in (
        'narrascope_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/score",status="200"}',
        "narrascope_documents_scored_total",
        "narrascope_sentences_scored_total",
        "narrascope_batch_documents_bucket",
        "narrascope_batch_requests_bucket",
        "narrascope_queue_wait_seconds_bucket",
        "narrascope_inference_duration_seconds_bucket",
        'narrascope_predicted_labels_total{label="war_preparation"}',
        "narrascope_risk_levels_total",
        'narrascope_model_info{base_model="tiny-random-bert",name="tiny-random",version="tiny-0"} 1.0',
        'narrascope_rejected_requests_total{reason="body_too_large"}',
    ):
        assert series in text, series
