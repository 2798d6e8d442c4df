"""The risk policy travels in the model folder: saved by training, read by the loader, shown by the service,
overridable per request, and old folders without one load with the documented defaults and say so."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from narrascope.labels import load_taxonomy
from narrascope.model.aggregate import RiskPolicy
from narrascope.model.classifier import ModelFolderError, NarrativeClassifier
from narrascope.model.documents import Document, ScoringOptions, ScoringOptionsError, score_documents
from narrascope.serve.app import create_app
from narrascope.serve.testing import isolated_settings
from narrascope.training.modelcard import render_model_card
from narrascope.training.package import save_model_folder
from narrascope.training.tiny import build_tiny_model, build_tiny_tokenizer

TEXT = "Kazakhstan is preparing for war."
CLAIM = "war_preparation"


def _folder(source: Path, target: Path, edit: Callable[[dict[str, Any]], Any]) -> Path:
    """A copy of the tiny model where only ``CLAIM`` is ever predicted (so the claim is always pushed)."""
    shutil.copytree(source, target)
    config = json.loads((target / "config.json").read_text())
    config["narrascope"]["thresholds"] = {label: 1.0 for label in config["narrascope"]["thresholds"]}
    config["narrascope"]["thresholds"][CLAIM] = 0.0
    edit(config["narrascope"])
    (target / "config.json").write_text(json.dumps(config))
    return target


def _set_policy(high_risk_at: float) -> Callable[[dict[str, Any]], None]:
    return lambda extra: extra.update(risk_policy={"high_risk_at": high_risk_at, "push_ratio": 1.5})


def test_training_saves_the_policy_in_the_folder_and_its_card(tmp_path: Path) -> None:
    taxonomy = load_taxonomy()
    tokenizer = build_tiny_tokenizer(extra_words=taxonomy.ids)
    policy = RiskPolicy(high_risk_at=0.65, push_ratio=2.0)
    folder = save_model_folder(
        tmp_path / "model",
        build_tiny_model(taxonomy, len(tokenizer)),
        tokenizer,
        taxonomy,
        thresholds=dict.fromkeys(taxonomy.ids, 0.5),
        metadata={},
        max_length=32,
        risk_policy=policy,
    )
    config = json.loads((folder / "config.json").read_text())
    assert config["narrascope"]["risk_policy"] == {"high_risk_at": 0.65, "push_ratio": 2.0}
    assert json.loads((folder / "narrascope.json").read_text())["risk_policy"] == policy.to_dict()
    card = (folder / "README.md").read_text()
    assert "**2.0x**" in card and "**0.65**" in card
    loaded = NarrativeClassifier.load(folder)
    assert loaded.risk_policy == policy and loaded.info.risk_policy_source == "model folder"


def test_the_saved_policy_decides_the_verdict(tiny_model_dir: Path, tmp_path: Path) -> None:
    strict = NarrativeClassifier.load(_folder(tiny_model_dir, tmp_path / "strict", _set_policy(1.0)))
    lenient = NarrativeClassifier.load(_folder(tiny_model_dir, tmp_path / "lenient", _set_policy(0.0)))
    doc = [Document("x", TEXT)]
    assert score_documents(strict, doc)[0].risk.level == "low"
    assert score_documents(lenient, doc)[0].risk.level == "high"
    # A caller may still override the saved policy for one call.
    assert score_documents(lenient, doc, ScoringOptions(high_risk_at=1.0))[0].risk.level == "low"
    assert score_documents(lenient, doc, ScoringOptions(push_ratio=5.0))[0].risk.level == "high"


def test_old_folder_without_a_policy_loads_with_the_defaults_and_says_so(
    tiny_model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _folder(tiny_model_dir, tmp_path / "old", lambda extra: extra.pop("risk_policy"))
    with caplog.at_level(logging.WARNING, logger="narrascope.model.classifier"):
        classifier = NarrativeClassifier.load(folder)
    assert classifier.risk_policy == RiskPolicy()
    assert classifier.info.to_dict()["risk_policy_source"] == "defaults"
    assert any("no narrascope.risk_policy" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"high_risk_at": 0.5}, r"expected exactly the keys .*missing \['push_ratio'\]"),
        ({"high_risk_at": 0.5, "push_ratio": 1.5, "high_at": 0.9}, r"unknown \['high_at'\]"),
        ({"high_risk_at": 2, "push_ratio": 1.5}, r"high_risk_at must be within \[0, 1\], got 2"),
        ({"high_risk_at": 0.5, "push_ratio": "1.5"}, "push_ratio must be a number"),
        ([0.8, 1.5], "expected an object"),
    ],
)
def test_a_broken_saved_policy_is_refused_naming_the_file(
    tiny_model_dir: Path, tmp_path: Path, policy: Any, message: str
) -> None:
    folder = _folder(tiny_model_dir, tmp_path / "bad", lambda extra: extra.update(risk_policy=policy))
    with pytest.raises(ModelFolderError, match=r"bad/config.json: narrascope.risk_policy: .*" + message):
        NarrativeClassifier.load(folder)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ScoringOptions(high_risk_at=1.5), r"high_risk_at must be within \[0, 1\]"),
        (ScoringOptions(push_ratio=-1.0), "push_ratio must be >= 0"),
        (ScoringOptions(evidence_per_label=-1), "evidence_per_label must be >= 0"),
    ],
)
def test_bad_overrides_are_option_errors(options: ScoringOptions, message: str) -> None:
    with pytest.raises(ScoringOptionsError, match=message):
        options.validate([CLAIM])


def test_service_shows_the_policy_and_applies_it(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _folder(tiny_model_dir, tmp_path / "model", _set_policy(0.0))
    with TestClient(create_app(isolated_settings(folder, tmp_path)), base_url="http://127.0.0.1") as client:
        model = client.get("/v1/model").json()
        assert model["risk_policy"] == {"high_risk_at": 0.0, "push_ratio": 1.5}
        assert model["risk_policy_source"] == "model folder"
        body = {"documents": [{"text": TEXT}]}
        assert client.post("/v1/score", json=body).json()["results"][0]["risk"]["level"] == "high"
        body["options"] = {"high_risk_at": 1.0}
        assert client.post("/v1/score", json=body).json()["results"][0]["risk"]["level"] == "low"


def test_model_card_says_when_no_policy_was_recorded() -> None:
    assert "Not recorded in this folder" in render_model_card({})
