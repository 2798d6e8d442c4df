"""``POST /v1/extract``: the moderator page's file drop gets the article and its metadata, never the menus."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.serve.app import create_app
from narrascope.serve.testing import isolated_settings

PAGES = Path(__file__).resolve().parent / "data" / "pages"
KEY = "extract-key-for-the-tests"


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = isolated_settings(tiny_model_dir, tmp_path_factory.mktemp("store"), api_keys=f"{KEY}:score")
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _post(client: TestClient, body: object) -> tuple[int, dict]:
    response = client.post("/v1/extract", json=body, headers={"Authorization": f"Bearer {KEY}"})
    return response.status_code, response.json()


def test_a_page_becomes_its_article_with_metadata(client: TestClient) -> None:
    status, data = _post(client, {"html": (PAGES / "uk.html").read_text(encoding="utf-8")})
    assert status == 200, data
    assert data["title"] == "Фейк про мобілізацію в Казахстані: що насправді сказано в законі"
    assert (data["author"], data["date"]) == ("Олена Мельник", "2024-05-10")
    assert (data["language"], data["script"]) == ("uk", "Cyrl")
    assert "не спрямований проти жодної країни" in data["text"]
    assert "cookie" not in data["text"] and "Інші матеріали" not in data["text"]
    # What comes back is what /v1/score is meant to be given.
    scored = client.post(
        "/v1/score", json={"documents": [{"text": data["text"]}]}, headers={"Authorization": f"Bearer {KEY}"}
    )
    assert scored.status_code == 200 and scored.json()["results"][0]["n_sentences"] >= 4


def test_a_page_without_an_article_is_a_422_naming_html(client: TestClient) -> None:
    status, data = _post(client, {"html": (PAGES / "no-article.html").read_text(encoding="utf-8")})
    assert status == 422
    (error,) = data["detail"]
    assert error["loc"] == ["body", "html"] and error["msg"].startswith("html: no main content")


@pytest.mark.parametrize(
    ("body", "where"),
    [({"html": ""}, "html"), ({"page": "<p>x</p>"}, "page"), ({}, "html")],
)
def test_bad_bodies_name_the_field(client: TestClient, body: dict, where: str) -> None:
    status, data = _post(client, body)
    assert status == 422
    assert any(error["msg"].startswith(where) for error in data["detail"]), data


def test_a_lone_surrogate_is_refused_not_a_500(client: TestClient) -> None:
    response = client.post(
        "/v1/extract",
        content=b'{"html": "<p>\\ud800</p>"}',
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["detail"][0]["msg"].startswith("html")


def test_extract_needs_the_score_scope(client: TestClient) -> None:
    assert client.post("/v1/extract", json={"html": "<p>x</p>"}).status_code == 401
