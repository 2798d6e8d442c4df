"""The comparison's statistics and its data guard, on hand-made predictions and model folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from narrascope.training.bootstrap import BootstrapSettings, paired_comparison
from narrascope.training.compare import IncomparableModels, data_warnings, verdict

LABELS = ["a", "b"]


def _data(n: int = 200, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    return rng.random((n, 2)) < 0.3, ["en" if i % 2 else "kk" for i in range(n)]


def test_identical_models_differ_by_nothing() -> None:
    gold, langs = _data()
    pred = gold ^ (np.random.default_rng(1).random(gold.shape) < 0.2)
    out = paired_comparison(gold, pred, pred, langs, LABELS, BootstrapSettings(resamples=200))
    assert out["micro_f1"]["diff"] == 0 and out["micro_f1"]["change"] == "no significant change"
    assert verdict(out, LABELS) == "no significant change"


def test_a_clearly_better_label_is_called_and_the_interval_covers_the_difference() -> None:
    gold, langs = _data()
    noisy = gold ^ (np.random.default_rng(2).random(gold.shape) < 0.3)
    new = noisy.copy()
    new[:, 0] = gold[:, 0]  # label a fixed, label b unchanged
    out = paired_comparison(gold, noisy, new, langs, LABELS, BootstrapSettings(resamples=500))
    a = out["per_label"]["a"]
    assert a["change"] == "better" and a["ci_low"] > 0 and a["ci_low"] <= a["diff"] <= a["ci_high"]
    assert out["per_label"]["b"]["diff"] == 0 and out["per_label"]["b"]["change"] == "no significant change"
    assert set(out["per_stratum"]) == {"en", "kk"} and out["per_stratum"]["en"]["n"] == 100
    line = verdict(out, LABELS)
    assert line.startswith("better on a") and "worse" not in line and line.endswith("no significant change elsewhere")
    # Reversed, the same label is worse.
    assert (
        verdict(paired_comparison(gold, new, noisy, langs, LABELS, BootstrapSettings(resamples=500)), LABELS)[:11]
        == "worse on a,"
    )


def _folder(path: Path, hashes: dict[str, str]) -> Path:
    path.mkdir()
    (path / "narrascope.json").write_text(json.dumps({"data_hashes": hashes}), encoding="utf-8")
    return path


def test_different_test_data_is_refused_naming_the_split(tmp_path: Path) -> None:
    same = {"train": "t1", "dev": "d1", "test": "x1", "articles": "a1"}
    old = _folder(tmp_path / "old", same)
    new = _folder(tmp_path / "new", {**same, "train": "t2", "test": "x2"})
    with pytest.raises(IncomparableModels, match="the test split differs between OLD \\(x1\\) and NEW \\(x2\\)"):
        data_warnings(old, new, same, force=False)
    warnings = data_warnings(old, new, same, force=True)
    assert any(w.startswith("forced: the test split differs") for w in warnings)
    shutil.rmtree(new)
    new = _folder(tmp_path / "new", {**same, "train": "t2", "dev": "d2"})
    warnings = data_warnings(old, new, same, force=False)
    assert len(warnings) == 1 and "dev split differs" in warnings[0]  # train differing is the expected case
