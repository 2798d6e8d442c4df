from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from narrascope.dataset.rows import load_sentences
from narrascope.model.classifier import NarrativeClassifier
from narrascope.training.args import TrainingArguments
from narrascope.training.finetune import train
from narrascope.training.metrics import multilabel_report
from tests.datafactory import write_dataset

FAST = {
    # The tiny tests check the training machinery on data whose text encodes its labels; the Latin-script
    # Kazakh augmentation has its own tests (test_augment.py) and would only change what the tiny model sees.
    "latin_kazakh_augment": 0.0,
    "batch_size": 8,
    "learning_rate": 3e-3,
    "warmup_ratio": 0.0,
    "pos_weight_cap": 1.0,
    "freeze_embeddings": False,
    "max_length": 32,
    "head_warmup": False,
    # One intra-op thread: a tiny model gains nothing from more, and on a busy 2-core machine torch's spinning
    # thread pool made the 60-epoch fixture take over a minute instead of a few seconds.
    "num_threads": 1,
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, tiny_model_dir: Path) -> Path:
    output = tmp_path_factory.mktemp("run") / "model"
    # Evaluate only at the end so the saved weights are the most overfit ones.
    args = TrainingArguments(base_model=str(tiny_model_dir), epochs=60, eval_every_epochs=1000, **FAST)
    train(data_dir, output, args, progress=False)
    return output


def test_overfit_save_reload_compare(trained: Path, data_dir: Path, tiny_model_dir: Path) -> None:
    rows = [row for row in load_sentences(data_dir) if row.split == "train"]
    classifier = NarrativeClassifier.load(trained)
    probs = classifier.predict_proba([row.text for row in rows])
    gold = np.array([[label in row.labels for label in classifier.labels] for row in rows])
    pred = probs >= np.array([classifier.thresholds[label] for label in classifier.labels])
    untrained = NarrativeClassifier.load(tiny_model_dir).predict_proba([row.text for row in rows]) >= 0.5
    fitted = multilabel_report(gold, pred, classifier.labels)["summary"]["micro_f1"]
    assert fitted >= 0.8
    assert fitted >= multilabel_report(gold, untrained, classifier.labels)["summary"]["micro_f1"] + 0.5
    # The folder alone, through the plain transformers pipeline, gives the same probabilities.
    from transformers import pipeline

    pipe = pipeline("text-classification", model=str(trained), top_k=None, function_to_apply="sigmoid")
    out = pipe([rows[0].text])[0]
    by_label = {item["label"]: item["score"] for item in out}
    np.testing.assert_allclose([by_label[label] for label in classifier.labels], probs[0], atol=1e-5)


def test_model_folder_is_self_describing(trained: Path) -> None:
    config = json.loads((trained / "config.json").read_text(encoding="utf-8"))
    assert config["problem_type"] == "multi_label_classification"
    assert config["id2label"]["0"] == "war_preparation"
    assert set(config["narrascope"]["thresholds"]) == set(config["label2id"])
    meta = json.loads((trained / "narrascope.json").read_text(encoding="utf-8"))
    assert meta["mode"] == "full" and meta["data_hash"].startswith("sha256:")
    assert meta["training_args"]["epochs"] == 60
    # Every setting is recorded, in the metadata and on the card, so the folder alone reproduces the run.
    names = {field.name for field in fields(TrainingArguments)}
    assert set(meta["training_args"]) == names
    assert meta["metrics"]["test"]["summary"]["n"] > 0
    assert "train_seconds" in meta and len(meta["taxonomy"]["labels"]) == 11
    card = (trained / "README.md").read_text(encoding="utf-8")
    assert "## Test metrics (sentences)" in card and "| war_preparation | claim |" in card
    assert f"{meta['metrics']['test']['summary']['macro_f1']:.3f}" in card
    assert all(f"\n{name} = {meta['training_args'][name]}\n" in card for name in names)
    assert (Path(str(trained) + ".checkpoints") / "best" / "model.safetensors").is_file()


def test_resume_continues_from_the_last_checkpoint(tmp_path: Path, data_dir: Path, tiny_model_dir: Path) -> None:
    output = tmp_path / "model"
    short = TrainingArguments(base_model=str(tiny_model_dir), epochs=2, checkpoint_every_steps=2, **FAST)
    train(data_dir, output, short, progress=False)
    state = json.loads((Path(str(output) + ".checkpoints") / "last" / "state.json").read_text())
    longer = TrainingArguments(base_model=str(tiny_model_dir), epochs=4, checkpoint_every_steps=2, **FAST)
    meta = train(data_dir, output, longer, resume=True, progress=False)
    steps = [entry["step"] for entry in meta["history"]]
    assert steps[0] <= state["step"] < steps[-1]
    assert len(steps) == len(set(steps)), "resumed run repeated evaluation steps"


def test_head_only_mode_trains_the_heads_only(tmp_path: Path, data_dir: Path, tiny_model_dir: Path) -> None:
    output = tmp_path / "model"
    args = TrainingArguments(mode="head-only", base_model=str(tiny_model_dir), head_epochs=30, max_length=32)
    meta = train(data_dir, output, args, progress=False)
    assert meta["mode"] == "head-only"
    from safetensors.numpy import load_file

    before = load_file(str(tiny_model_dir / "model.safetensors"))
    after = load_file(str(output / "model.safetensors"))
    assert np.array_equal(
        before["bert.encoder.layer.0.attention.self.query.weight"],
        after["bert.encoder.layer.0.attention.self.query.weight"],
    )
    assert not np.array_equal(before["classifier.weight"], after["classifier.weight"])
    assert "**head-only**" in (output / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"mode": "partial"}, "mode must be one of"),
        ({"epochs": 0}, "epochs must be positive, got 0"),
        ({"max_length": 4}, "max_length must be within"),
        ({"learning_rte": 1e-4}, "unknown training argument"),
        ({"head_batch_size": 0}, "head_batch_size must be positive, got 0"),
        ({"max_grad_norm": -1.0}, "max_grad_norm must be positive"),
        ({"threshold_grid_step": 0.0}, "threshold_grid_step must be positive"),
        ({"threshold_grid_start": 0.9, "threshold_grid_stop": 0.5}, "threshold_grid_start and threshold_grid_stop"),
        ({"threshold_fallback": 1.0}, "threshold_fallback must be within"),
    ],
)
def test_training_arguments_are_validated(raw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainingArguments.from_dict(raw)


def test_thresholds_tuned_per_label() -> None:
    from narrascope.training.thresholds import ThresholdSearch, tune_thresholds

    probs = np.array([[0.2, 0.9], [0.3, 0.8], [0.1, 0.2], [0.05, 0.1]] * 3)
    gold = np.array([[1, 1], [1, 1], [0, 0], [0, 0]] * 3).astype(bool)
    thresholds = tune_thresholds(probs, gold, ["a", "b"], ThresholdSearch(min_positives=2))
    assert 0.1 < thresholds["a"] <= 0.2
    assert 0.2 < thresholds["b"] <= 0.8


def test_eval_report_with_baselines_plots_and_articles(trained: Path, data_dir: Path, tmp_path: Path) -> None:
    from narrascope.training.evaluate import run_evaluation

    result = run_evaluation(trained, data_dir, tmp_path / "eval", progress=False)
    report = (tmp_path / "eval" / "report.md").read_text(encoding="utf-8")
    assert "char n-gram TF-IDF + logistic regression" in report
    assert "frozen mean-pooled encoder + logistic regression" in report
    assert "## Articles" in report and "Splitter recovers 100.0%" in report
    for name in ("f1_by_language.png", "threshold_curves.png", "cooccurrence.png"):
        assert (tmp_path / "eval" / name).stat().st_size > 1000
    assert set(result["targets"]) == {"macro_f1_overall", "macro_f1_en", "macro_f1_ru", "macro_f1_kk", "macro_f1_uk"}
    assert set(result["test"]["per_language"]) == {"en", "ru", "kk", "uk"}
    assert result["articles"]["summary"]["n"] == 4
    # Each baseline's settings are in eval.json, with thresholds searched as the model's were.
    from narrascope.training.baselines import BaselineSettings

    meta = json.loads((trained / "narrascope.json").read_text(encoding="utf-8"))
    expected = BaselineSettings.for_model(meta["training_args"]).to_dict()
    saved = json.loads((tmp_path / "eval" / "eval.json").read_text(encoding="utf-8"))
    assert [report["settings"] for report in saved["baselines"].values()] == [expected, expected]
