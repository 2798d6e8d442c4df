"""The challenge suite: exact-set pass rates per capability, the recorded figures, and the gate CI runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from narrascope.cli import main
from narrascope.dataset.challenge import ChallengeItem
from narrascope.model.classifier import NarrativeClassifier
from narrascope.training.challenge import Outcome, challenge_report, gate_failures, score_challenge
from tests.datafactory import sentence_rows, write_dataset

ALWAYS = "war_preparation"  # threshold 0: predicted for every text
ITEMS = [
    ("ch-1", "entity_neutrality", "President Tokayev met the governor of Kostanay.", "en", []),
    ("ch-2", "polarity", "Critics say the law is a blueprint for war.", "en", [ALWAYS]),
    ("ch-3", "polarity", "Сынақ: заң ешкімге қарсы емес.", "kk", ["reassurance"]),
    ("ch-4", "script_language", "Qazaqstan soğysqa daiyndalyp jatyr.", "kk", [ALWAYS]),
]


def _model(tiny_model_dir: Path, target: Path) -> Path:
    """The tiny model with thresholds that make its predictions exact: one label always on, the rest never."""
    shutil.copytree(tiny_model_dir, target)
    config = json.loads((target / "config.json").read_text())
    thresholds = config["narrascope"]["thresholds"]
    config["narrascope"]["thresholds"] = {label: (0.0 if label == ALWAYS else 1.0) for label in thresholds}
    (target / "config.json").write_text(json.dumps(config))
    return target


def _dataset(folder: Path) -> Path:
    write_dataset(folder, sentence_rows(6))
    (folder / "challenge").mkdir()
    with open(folder / "challenge" / "mixed.jsonl", "w", encoding="utf-8") as handle:
        for item_id, capability, text, lang, labels in ITEMS:
            item = {"id": item_id, "capability": capability, "text": text, "lang": lang, "labels": labels}
            handle.write(json.dumps({**item, **({"script": "Latn"} if item_id == "ch-4" else {})}) + "\n")
    return folder


def test_items_pass_only_on_the_exact_label_set(tiny_model_dir: Path, tmp_path: Path) -> None:
    classifier = NarrativeClassifier.load(_model(tiny_model_dir, tmp_path / "model"))
    items = [ChallengeItem(i, c, t, lang, tuple(labels)) for i, c, t, lang, labels in ITEMS]
    outcomes = score_challenge(classifier, items)
    assert [o.predicted for o in outcomes] == [(ALWAYS,)] * 4
    assert [o.passed for o in outcomes] == [False, True, False, True]
    report = challenge_report(outcomes)
    assert report["capabilities"]["polarity"] == {"n": 2, "passed": 1, "pass_rate": 0.5}
    assert report["capabilities"]["entity_neutrality"]["pass_rate"] == 0.0
    assert report["neutral_entity_fpr"] == 1.0
    assert [f["id"] for f in report["failures"]] == ["ch-1", "ch-3"]
    assert report["failures"][1]["expected"] == ["reassurance"] and report["failures"][1]["predicted"] == [ALWAYS]


def test_the_gate_fails_only_beyond_its_tolerance() -> None:
    item = ChallengeItem("a", "noise", "x", "en", ())
    report = challenge_report([Outcome(item, ()), Outcome(item, ()), Outcome(item, ("reassurance",))])
    assert gate_failures(report, {"pass_rate": {"noise": 0.68}}) == []  # 0.667 is within 3 points of 0.68
    (failure,) = gate_failures(report, {"pass_rate": {"noise": 0.75}})
    assert failure.startswith("noise: 66.7% (2/3) against 75.0% recorded")
    assert gate_failures(report, {"pass_rate": {"hedging": 0.5}}) == [
        "hedging: recorded at 50.0% but the suite has no such items now"
    ]


def test_record_then_gate_from_the_command_line(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tiny_model_dir, tmp_path / "model")
    data = _dataset(tmp_path / "data")
    argv = ["challenge", "--model", str(model), "--data", str(data)]
    with pytest.raises(SystemExit) as refused:  # nothing recorded yet: a clear error, not a pass
        main([*argv, "--gate"])
    assert refused.value.code == 2
    assert "record the default model's figures with --record" in capsys.readouterr().err
    assert main([*argv, "--record"]) == 0
    recorded = json.loads((data / "challenge" / "recorded.json").read_text())
    assert recorded["pass_rate"] == {"entity_neutrality": 0.0, "polarity": 0.5, "script_language": 1.0}
    assert main([*argv, "--gate", "--failures"]) == 0
    out = capsys.readouterr().out
    assert "| polarity | 50.0% | 1/2 | 50.0% |" in out and "FAIL ch-3 [kk] expected ['reassurance']" in out
    recorded["pass_rate"]["polarity"] = 0.9
    (data / "challenge" / "recorded.json").write_text(json.dumps(recorded))
    assert main([*argv, "--gate"]) == 1
    assert "challenge regression: polarity: 50.0% (1/2) against 90.0% recorded" in capsys.readouterr().out
