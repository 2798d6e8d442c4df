"""``narrascope calibrate``: fit and fold the dev calibration into an existing model folder.

For folders trained before training calibrated (or with ``calibration: none``). The folder is rewritten the
way training writes it (staging folder, atomic rename), thresholds are re-tuned on the calibrated scale with
the search the model was trained with, and dev/test metrics are recomputed, so the folder never carries
numbers measured on scores it no longer produces.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from narrascope.dataset.splits import load_splits, split_hashes
from narrascope.labels import load_taxonomy
from narrascope.model.classifier import CONFIG_KEY, METADATA_FILE, NarrativeClassifier
from narrascope.model.runtime import RUNTIME_KEY
from narrascope.training.args import threshold_search_from
from narrascope.training.calibration import (
    CalibrationSettings,
    calibrate_in_place,
    ece_summary,
)
from narrascope.training.modelcard import render_model_card
from narrascope.training.package import staging_folder, swap_into_place
from narrascope.training.scoring import dev_score, evaluate_split

# Files calibration writes anew; every other file of the folder (tokenizer) is copied. Subfolders (an old
# ``eval/`` report) are not: they describe scores the calibrated folder no longer produces.
_REWRITTEN = {"config.json", "model.safetensors", METADATA_FILE, "README.md"}

logger = logging.getLogger(__name__)


def already_calibrated(folder: Path) -> dict[str, Any] | None:
    """The folded calibration recorded in ``config.json``, if any (applying it twice would compound it)."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    record = (config.get(CONFIG_KEY) or {}).get("calibration")
    return record if isinstance(record, dict) and record.get("folded") else None


def _settings_for(meta: dict[str, Any]) -> CalibrationSettings:
    args = meta.get("training_args") or {}
    defaults = CalibrationSettings()
    return CalibrationSettings(
        folds=int(args.get("calibration_folds", defaults.folds)),
        prior_strength=float(args.get("calibration_prior", defaults.prior_strength)),
        seed=int(args.get("seed", defaults.seed)),
    )


def calibrate_folder(model_dir: Path, data_dir: Path, output: Path | None = None) -> dict[str, Any]:
    """Calibrate ``model_dir`` on ``data_dir``'s dev split into ``output`` (default: in place); return the record.

    The record gains ``test_before``/``test_after`` ECE figures, measured on the test split of the same data.
    """
    model_dir = Path(model_dir)
    output = Path(output) if output else model_dir
    previous = already_calibrated(model_dir)
    if previous is not None:
        raise ValueError(
            f"{model_dir}/config.json: {CONFIG_KEY}.calibration says this folder is already calibrated (fitted on "
            f"dev {previous.get('dev_hash')}); calibrating again would compound it"
        )
    meta_path = model_dir / METADATA_FILE
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    # PyTorch: the calibration is folded into its weights (an exported graph would be left stale, see _save).
    classifier = NarrativeClassifier.load(model_dir, device="cpu", runtime="torch")
    splits = load_splits(data_dir, load_taxonomy(), classifier.labels)
    test = splits["test"]
    test_before = classifier.predict_proba(test.texts)
    settings = _settings_for(meta)
    record = calibrate_in_place(
        classifier, splits["dev"].texts, splits["dev"].targets, settings, split_hashes(data_dir)["dev"]
    )
    thresholds, dev_report = dev_score(
        classifier, splits["dev"], threshold_search_from(meta.get("training_args") or {})
    )
    test_report = evaluate_split(classifier, test, thresholds)
    after = classifier.predict_proba(test.texts)
    gold = test.targets > 0.5
    for name, probs in (("test_before", test_before), ("test_after", after)):
        record[name] = ece_summary(probs, gold, settings.bins)
    _save(classifier, model_dir, output, meta, thresholds, record, {"dev": dev_report, "test": test_report})
    return record


def _save(
    classifier: NarrativeClassifier,
    source: Path,
    output: Path,
    meta: dict[str, Any],
    thresholds: dict[str, float],
    record: dict[str, Any],
    metrics: dict[str, Any],
) -> None:
    staging = staging_folder(output)
    rounded = {label: round(float(thresholds[label]), 4) for label in classifier.labels}
    model = classifier.torch_model  # a transformers model (save_pretrained, config)
    config = model.config
    # Exported graphs (narrascope export) hold the uncalibrated head: they are not carried over, and neither is
    # their record, or the folder would name a default runtime it no longer has. Export again after calibrating.
    extra = {k: v for k, v in (getattr(config, CONFIG_KEY, None) or {}).items() if k != RUNTIME_KEY}
    meta = {k: v for k, v in meta.items() if k != RUNTIME_KEY}
    if (source / "onnx").is_dir():
        logger.warning("%s: exported graphs predate the calibration and are left out; run narrascope export", output)
    # A calibrated folder scores differently: it gets its own version, so results stamped with it are told apart.
    version = f"{extra.get('model_version') or meta.get('model_version') or '0'}-calibrated"
    setattr(
        config,
        CONFIG_KEY,
        {**extra, "thresholds": rounded, "calibration": record, "model_version": version},
    )
    model.save_pretrained(staging, safe_serialization=True)
    for path in source.iterdir():
        if path.is_file() and path.name not in _REWRITTEN:
            shutil.copy2(path, staging / path.name)
    full = {
        **meta,
        "model_version": version,
        "thresholds": rounded,
        "calibration": record,
        "metrics": {**(meta.get("metrics") or {}), **metrics},
    }
    (staging / METADATA_FILE).write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
    (staging / "README.md").write_text(render_model_card(full), encoding="utf-8")
    swap_into_place(staging, output)
