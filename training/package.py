"""Write a self-describing model folder.

The folder follows Hugging Face conventions (``save_pretrained`` weights as safetensors, ``id2label``,
``problem_type``) so ``transformers.pipeline`` can use it with no project code, and it carries what the
project needs beside the weights: tuned thresholds, label kinds and the risk policy in ``config.json``,
provenance and metrics in ``narrascope.json``, and a model card.
"""

from __future__ import annotations

import json
import platform
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
import transformers

from narrascope import __version__
from narrascope.labels import Taxonomy
from narrascope.model.aggregate import RiskPolicy
from narrascope.model.classifier import CONFIG_KEY, METADATA_FILE
from narrascope.training.modelcard import render_model_card


def configure_labels(config: Any, taxonomy: Taxonomy) -> None:
    """Labels travel with the model: set them on the config before the head is created or saved."""
    config.id2label = dict(enumerate(taxonomy.ids))
    config.label2id = {label: i for i, label in enumerate(taxonomy.ids)}
    config.num_labels = len(taxonomy)
    config.problem_type = "multi_label_classification"


def save_model_folder(
    output: Path,
    model: Any,
    tokenizer: Any,
    taxonomy: Taxonomy,
    thresholds: dict[str, float],
    metadata: dict[str, Any],
    max_length: int,
    model_name: str = "narrascope-to-narratives",
    risk_policy: RiskPolicy | None = None,
    calibration: dict[str, Any] | None = None,
) -> Path:
    """Write weights, tokenizer, config, ``narrascope.json`` and ``README.md`` atomically into ``output``.

    ``risk_policy`` (default: :class:`RiskPolicy`'s documented defaults) is written out explicitly, so the
    folder states the verdict rule it is served with instead of relying on the code's defaults.
    ``calibration`` is the record of a calibration already folded into ``model``'s head
    (``narrascope.calibration``), so it is never applied a second time.

    A half-written folder must never be picked up by the service, so everything goes to a sibling staging
    directory first and is renamed into place.
    """
    output = Path(output)
    staging = staging_folder(output)
    trained_at = metadata.get("trained_at") or datetime.now(UTC).isoformat(timespec="seconds")
    version = metadata.get("model_version") or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    policy = (risk_policy or RiskPolicy()).to_dict()
    configure_labels(model.config, taxonomy)
    setattr(
        model.config,
        CONFIG_KEY,
        {
            "thresholds": {label: round(float(thresholds[label]), 4) for label in taxonomy.ids},
            "label_kinds": {label.id: label.kind for label in taxonomy.labels},
            "risk_policy": policy,
            "model_name": model_name,
            "model_version": version,
            "base_model": metadata.get("base_model", "unknown"),
            "max_length": max_length,
            "taxonomy": f"{taxonomy.name} v{taxonomy.version}",
            **({"calibration": calibration} if calibration else {}),
        },
    )
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    full = {
        **metadata,
        "model_name": model_name,
        "model_version": version,
        "trained_at": trained_at,
        "thresholds": {label: round(float(thresholds[label]), 4) for label in taxonomy.ids},
        "risk_policy": policy,
        **({"calibration": calibration} if calibration else {}),
        "taxonomy": taxonomy.to_dict(),
        "versions": {
            "narrascope": __version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }
    (staging / METADATA_FILE).write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
    (staging / "README.md").write_text(render_model_card(full), encoding="utf-8")
    return swap_into_place(staging, output)


def staging_folder(output: Path) -> Path:
    """An empty sibling of ``output`` to write into before :func:`swap_into_place`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.parent / f".{output.name}.staging"
    if staging.exists():
        shutil.rmtree(staging)
    return staging


def swap_into_place(staging: Path, output: Path) -> Path:
    """Rename a finished ``staging`` folder to ``output``, replacing an old one only once the new one is whole."""
    if output.exists():
        backup = output.parent / f".{output.name}.old"
        if backup.exists():
            shutil.rmtree(backup)
        output.rename(backup)
        staging.rename(output)
        shutil.rmtree(backup)
    else:
        staging.rename(output)
    return output
