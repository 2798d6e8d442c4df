"""Calibration: the ECE figures, fitting on overconfident scores, folding into the head, the folder command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from narrascope.model.classifier import NarrativeClassifier
from narrascope.training.args import TrainingArguments
from narrascope.training.calibration import (
    CalibrationSettings,
    LabelCalibration,
    apply_calibration,
    expected_calibration_error,
    fit_calibration,
    fold_into_head,
    sigmoid,
)
from narrascope.training.recalibrate import calibrate_folder
from narrascope.training.reliability import calibration_report
from narrascope.training.tiny import SAMPLE_SENTENCES
from tests.datafactory import write_dataset


def test_ece_of_a_known_case() -> None:
    probs = np.array([0.8, 0.8, 0.8, 0.8, 0.01, 0.01])
    gold = np.array([1, 1, 0, 0, 0, 0])
    # The 0.8 bin is right half the time (0.3 off), the 0.01 bin 0.01 off: (4 * 0.3 + 2 * 0.01) / 6.
    assert expected_calibration_error(probs, gold)[0] == pytest.approx((4 * 0.3 + 2 * 0.01) / 6)
    assert expected_calibration_error(probs, gold, min_score=0.1) == (pytest.approx(0.3), 4)


def test_overconfident_scores_are_recalibrated() -> None:
    rng = np.random.default_rng(0)
    true_logit = rng.normal(-2.0, 2.0, size=(3000, 2))
    gold = rng.random(true_logit.shape) < sigmoid(true_logit)
    overconfident = sigmoid(3.0 * true_logit)  # what a model trained to a sharp loss reports
    labels = ["a", "b"]
    calibration, evidence = fit_calibration(overconfident, gold, labels, CalibrationSettings())
    assert {c.method for c in calibration.values()} <= {"temperature", "platt"}
    assert all(c.a == pytest.approx(1 / 3, rel=0.15) for c in calibration.values())
    assert set(evidence["a"]) == {"identity", "temperature", "platt", "isotonic"}
    assert evidence["a"]["platt"] < evidence["a"]["identity"]
    after = apply_calibration(overconfident, calibration, labels)
    before_ece = expected_calibration_error(overconfident, gold, min_score=0.1)[0]
    after_ece = expected_calibration_error(after, gold, min_score=0.1)[0]
    assert after_ece < 0.03 < before_ece
    report = calibration_report(after, gold, ["en"] * 1500 + ["kk"] * 1500, labels)
    assert report["target"]["met"] and set(report["per_language"]) == {"en", "kk"}


def test_a_label_with_too_few_dev_positives_is_left_alone() -> None:
    probs = np.full((40, 1), 0.9)
    gold = np.zeros((40, 1), dtype=bool)
    gold[:2] = True
    calibration, _ = fit_calibration(probs, gold, ["a"], CalibrationSettings())
    assert calibration["a"] == LabelCalibration("identity")


def test_folding_changes_the_head_exactly_as_the_formula(tiny_model_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(tiny_model_dir, tmp_path / "m")
    classifier = NarrativeClassifier.load(tmp_path / "m", device="cpu")
    labels = classifier.labels
    before = classifier.predict_proba(SAMPLE_SENTENCES)
    calibration = {label: LabelCalibration("platt", 0.5 + i / 10, -0.3 + i / 20) for i, label in enumerate(labels)}
    fold_into_head(classifier.torch_model, calibration, labels)
    after = classifier.predict_proba(SAMPLE_SENTENCES)
    assert np.allclose(after, apply_calibration(before, calibration, labels), atol=1e-5)
    assert not np.allclose(after, before, atol=1e-3)


def test_calibrate_folder_records_once_and_refuses_twice(tiny_model_dir: Path, tmp_path: Path) -> None:
    data_dir = write_dataset(tmp_path / "data")
    out = tmp_path / "calibrated"
    record = calibrate_folder(tiny_model_dir, data_dir, out)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))["narrascope"]
    assert config["calibration"]["folded"] is True and config["calibration"]["dev_hash"].startswith("sha256:")
    assert set(record) >= {"dev_before", "dev_after", "test_before", "test_after"}
    assert set(config["thresholds"]) == set(config["label_kinds"])
    loaded = NarrativeClassifier.load(out)  # still a loadable folder, tokenizer copied
    assert loaded.info.version == NarrativeClassifier.load(tiny_model_dir).info.version + "-calibrated"
    with pytest.raises(ValueError, match="already calibrated"):
        calibrate_folder(out, data_dir)


def test_calibration_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="calibration must be one of"):
        TrainingArguments(calibration="isotonic")
    with pytest.raises(ValueError, match="calibration_folds"):
        TrainingArguments(calibration_folds=1)


def test_noise_floor_is_what_perfect_calibration_shows_by_chance() -> None:
    rng = np.random.default_rng(3)
    probs = rng.uniform(0.1, 1.0, size=(150, 1))
    gold = rng.random(probs.shape) < probs  # perfectly calibrated by construction
    report = calibration_report(probs, gold, ["en"] * 150, ["a"])
    floor = report["overall"]["ece_visible_floor"]
    assert 0.02 < floor["mean"] < floor["p95"] < 0.15
    assert report["overall"]["ece_visible"] < floor["p95"] + 0.02
    # A badly overconfident model is far above its floor.
    sharp = np.where(probs > 0.55, 0.99, 0.11)
    assert calibration_report(sharp, gold, ["en"] * 150, ["a"])["overall"]["ece_visible"] > floor["p95"] * 2
