"""The HTTP contract with exact expectations: a keyword classifier behind ``create_app(settings, loader=...)``.

The tiny random model proves the service runs a real model folder; it cannot say which label a sentence
gets. With the fake, the risk verdict, the evidence offsets, per-call thresholds and policies are checked to
the value, and a regression in aggregation or the response shape fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.serve.app import create_app
from narrascope.serve.testing import isolated_settings
from tests.fakes import KeywordClassifier

CLAIM = "Kazakhstan is preparing for war, channels claim."
REBUTTAL = "The ministry called the reports fake."
NEUTRAL = "Units will help during floods."


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    loaded: list[Path] = []

    def loader(path: Path) -> KeywordClassifier:
        loaded.append(path)
        return KeywordClassifier(path)

    settings = isolated_settings(tmp_path / "fake-model", tmp_path)
    with TestClient(create_app(settings, loader=loader), base_url="http://127.0.0.1") as test_client:
        assert loaded == [tmp_path / "fake-model"]  # the lifespan loaded the configured folder through it
        yield test_client


def score(client: TestClient, text: str, **options: object) -> dict:
    body: dict = {"documents": [{"id": "d", "text": text}]}
    if options:
        body["options"] = options
    response = client.post("/v1/score", json=body)
    assert response.status_code == 200, response.text
    result: dict = response.json()["results"][0]
    return result


def test_a_pushed_claim_is_high_risk_with_exact_evidence(client: TestClient) -> None:
    text = f"{NEUTRAL} {CLAIM}"
    result = score(client, text)
    assert result["labels"] == ["war_preparation"]
    assert result["scores"]["war_preparation"] == pytest.approx(0.9)
    assert result["risk"]["level"] == "high" and result["risk"]["claims_pushed"] == ["war_preparation"]
    (evidence,) = result["evidence"]["war_preparation"]
    assert text[evidence["start"] : evidence["end"]] == CLAIM == evidence["text"]
    assert [s["text"] for s in result["sentences"]] == [NEUTRAL, CLAIM]


def test_a_claim_quoted_to_be_rebutted_is_a_debunk(client: TestClient) -> None:
    result = score(client, f"{CLAIM} {REBUTTAL} Officials repeated that the video was fake.")
    assert set(result["labels"]) == {"war_preparation", "reassurance"}
    assert result["risk"]["level"] == "debunk"
    assert result["risk"]["claims_rebutted"] == ["war_preparation"] and result["risk"]["claims_pushed"] == []


def test_a_weak_claim_is_low_risk_and_the_policy_can_be_overridden_per_call(client: TestClient) -> None:
    text = "Russia is the target of the law."
    assert score(client, text)["risk"]["level"] == "low"  # 0.6 < high_risk_at 0.8
    assert score(client, text, high_risk_at=0.5)["risk"]["level"] == "high"


def test_per_call_thresholds_and_label_filters_apply(client: TestClient) -> None:
    assert score(client, CLAIM, thresholds={"war_preparation": 0.95})["labels"] == []
    filtered = score(client, f"{CLAIM} {REBUTTAL}", labels=["reassurance"])
    assert filtered["labels"] == ["reassurance"] and set(filtered["scores"]) == {"reassurance"}


def test_model_and_labels_endpoints_describe_the_loaded_classifier(client: TestClient) -> None:
    model = client.get("/v1/model").json()
    assert model["name"] == "keyword-fake" and model["labels"] == [
        "war_preparation",
        "anti_russia_intent",
        "reassurance",
    ]
    kinds = {item["id"]: item["kind"] for item in client.get("/v1/labels").json()["labels"]}
    assert kinds == {"war_preparation": "claim", "anti_russia_intent": "claim", "reassurance": "counter"}
