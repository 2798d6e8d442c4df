"""Every recorded training setting really steers training: change one and the trained model changes.

A setting that is saved in the model folder but ignored by the code would make the provenance lie, so each
knob that used to be a constant is checked against a reference run that is first shown to be reproducible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from narrascope.dataset.splits import load_splits
from narrascope.labels import load_taxonomy
from narrascope.training.args import TrainingArguments, threshold_search_from
from narrascope.training.baselines import BaselineSettings, tfidf_baseline
from narrascope.training.finetune import train
from narrascope.training.thresholds import ThresholdSearch
from tests.datafactory import write_dataset

BASE: dict[str, Any] = {
    "epochs": 1,
    "batch_size": 8,
    "learning_rate": 3e-3,
    "max_length": 32,
    "head_warmup": False,
    "num_threads": 1,
}
HEAD_ONLY: dict[str, Any] = {"mode": "head-only", "head_epochs": 3, "max_length": 32, "num_threads": 1}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, tiny_model_dir: Path) -> Any:
    """Train with the given arguments into a fresh folder; return the folder."""

    def _run(**arguments: Any) -> Path:
        output = tmp_path_factory.mktemp("run") / "model"
        train(data_dir, output, TrainingArguments(base_model=str(tiny_model_dir), **arguments), progress=False)
        return output

    return _run


def weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def same_weights(a: Path, b: Path) -> bool:
    left, right = weights(a), weights(b)
    return left.keys() == right.keys() and all(np.array_equal(left[k], right[k]) for k in left)


@pytest.fixture(scope="module")
def reference(run: Any) -> dict[str, Path]:
    return {"full": run(**BASE), "head-only": run(**HEAD_ONLY)}


@pytest.mark.parametrize("mode", ["full", "head-only"])
def test_reference_runs_are_reproducible(run: Any, reference: dict[str, Path], mode: str) -> None:
    assert same_weights(run(**(BASE if mode == "full" else HEAD_ONLY)), reference[mode])


@pytest.mark.parametrize(
    ("mode", "change"),
    [
        ("full", {"head_lr_scale": 1.0}),
        ("full", {"max_grad_norm": 0.01}),
        ("full", {"bucket_window_batches": 1}),
        ("head-only", {"head_batch_size": 8}),
        ("head-only", {"head_learning_rate": 1e-4}),
    ],
)
def test_each_setting_changes_the_trained_weights(
    run: Any, reference: dict[str, Path], mode: str, change: dict[str, Any]
) -> None:
    arguments = {**(BASE if mode == "full" else HEAD_ONLY), **change}
    assert not same_weights(run(**arguments), reference[mode])


def test_head_rate_is_a_multiple_of_the_encoder_rate(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    from narrascope.training.loop import build_optimizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir)
    args = TrainingArguments(learning_rate=1e-4, head_lr_scale=3.0, head_learning_rate=0.5, warmup_ratio=0.0)
    optimizer, _ = build_optimizer(model, args, total_steps=10)
    body, head = optimizer.param_groups
    assert body["lr"] == pytest.approx(1e-4) and head["lr"] == pytest.approx(3e-4)
    expected = {id(p) for p in [*model.classifier.parameters(), *model.base_model.pooler.parameters()]}
    assert {id(p) for p in head["params"]} == expected


def test_threshold_search_settings_decide_the_saved_thresholds(run: Any, data_dir: Path) -> None:
    import json

    dev = load_splits(data_dir, load_taxonomy())["dev"]
    labels = load_taxonomy().ids
    with_positives = {label for i, label in enumerate(labels) if dev.targets[:, i].sum() >= 1}
    assert with_positives and with_positives != set(labels), "the fixture needs labels with and without dev positives"
    grid = {"threshold_grid_start": 0.3, "threshold_grid_stop": 0.35, "threshold_grid_step": 0.05}
    folder = run(**BASE, **grid, threshold_min_positives=1, threshold_fallback=0.6)
    thresholds = json.loads((folder / "config.json").read_text(encoding="utf-8"))["narrascope"]["thresholds"]
    for label in labels:
        assert thresholds[label] in ({0.3, 0.35} if label in with_positives else {0.6}), label


def test_threshold_grid_is_inclusive_and_partial_records_default() -> None:
    np.testing.assert_allclose(ThresholdSearch(start=0.1, stop=0.9, step=0.2).grid(), [0.1, 0.3, 0.5, 0.7, 0.9])
    assert len(ThresholdSearch().grid()) == 37
    # A model folder from before the threshold_* arguments existed is evaluated with the defaults.
    assert threshold_search_from({"epochs": 6}) == ThresholdSearch()
    assert threshold_search_from({"threshold_min_positives": 2}) == ThresholdSearch(min_positives=2)


def test_baselines_follow_their_settings_and_the_models_threshold_search(data_dir: Path) -> None:
    settings = BaselineSettings.for_model({"threshold_min_positives": 2, "threshold_fallback": 0.4})
    assert settings.thresholds == ThresholdSearch(min_positives=2, fallback=0.4)
    taxonomy = load_taxonomy()
    splits = load_splits(data_dir, taxonomy)
    default = tfidf_baseline(splits, taxonomy.ids)
    weak = tfidf_baseline(splits, taxonomy.ids, BaselineSettings(logreg_c=0.01))
    assert not np.allclose(default["test_probs"], weak["test_probs"])
    assert weak["settings"]["logreg_c"] == 0.01 and default["settings"] == BaselineSettings().to_dict()
