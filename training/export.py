"""``narrascope export``: write an ONNX graph (and optionally dynamic int8) into a model folder, gated.

One folder carries both the safetensors weights (what ``transformers.pipeline`` and training read) and the
graphs ONNX Runtime runs. The export then proves, on this machine, what each graph costs and gains:

- *equivalence*: the fp32 graph must give torch's logits on sample windows (an exporter bug fails loudly);
- *quality gate*: int8 may lose at most :data:`MAX_F1_DROP` micro-F1 on the test split and on the article
  evaluation in every language (``training.runtime_gate``); only then does it become the folder's default;
- *forward budget*: the best tokens-per-pass is measured for each runtime and saved beside it, so the
  service, batch jobs, Ray actors and eval all use the measured value.

Everything is recorded in ``config.json`` under ``narrascope.runtime`` (files with SHA-256, default, budgets,
gate) and in ``narrascope.json``, and the model card is re-rendered from it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from narrascope.model.classifier import CONFIG_KEY, METADATA_FILE, NarrativeClassifier, pad_batch
from narrascope.model.runtime import ONNX_FILES, RUNTIME_KEY, sha256_of
from narrascope.training.modelcard import render_model_card
from narrascope.training.tiny import SAMPLE_SENTENCES

logger = logging.getLogger(__name__)

OPSET = 17
# Budgets the sweep tries (tokens per forward pass = rows x longest window).
SWEEP_TOKENS = (256, 512, 1024, 2048, 4096, 8192)
SWEEP_SENTENCES = 400
# fp32 graph vs torch: the same arithmetic in another order, so only float noise may differ.
EQUIVALENCE_ATOL = 1e-3


class ExportError(RuntimeError):
    """The exported graph does not reproduce the model; nothing was recorded as usable."""


def export_onnx(model: torch.nn.Module, target: Path, sample: tuple[torch.Tensor, torch.Tensor]) -> None:
    """Trace the classifier into ONNX with dynamic batch and sequence axes (``logits`` out)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    # The tracer warns about Python branches on shapes (padding checks that are constant for this model);
    # the equivalence check after export is what proves the graph, at several batch shapes.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        torch.onnx.export(
            model,
            (sample[0], sample[1]),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "logits": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 weights, one scale per output channel (per-tensor scales cost more F1 on this model)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8)


def evaluation_texts(data_dir: Path | None) -> list[str]:
    """Test-split sentences (what the gate and the forward sweep run on), or sample sentences without data."""
    if data_dir is None:
        return list(SAMPLE_SENTENCES) * 8
    from narrascope.dataset.splits import load_splits
    from narrascope.labels import load_taxonomy

    return load_splits(Path(data_dir), load_taxonomy())["test"].texts


def _check_equivalence(torch_clf: NarrativeClassifier, onnx_clf: NarrativeClassifier, texts: list[str]) -> float:
    diff = float(np.max(np.abs(_logits(torch_clf, texts) - _logits(onnx_clf, texts))))
    if diff > EQUIVALENCE_ATOL:
        raise ExportError(f"the ONNX graph's logits differ from torch's by {diff:.2e} (> {EQUIVALENCE_ATOL})")
    return diff


def _logits(classifier: NarrativeClassifier, texts: list[str]) -> np.ndarray:
    encoded = classifier.tokenizer(texts, truncation=True, max_length=classifier.max_length)
    pad_id = classifier.tokenizer.pad_token_id or 0
    ids, mask = pad_batch(encoded["input_ids"], pad_id)
    return classifier.backend.forward(ids.numpy(), mask.numpy())


def sweep_forward_tokens(
    classifier: NarrativeClassifier, texts: list[str], budgets: tuple[int, ...] = SWEEP_TOKENS
) -> tuple[int, dict[str, float]]:
    """Sentences per second at each budget (best of two passes after a warm-up); returns the fastest budget."""
    classifier.predict_proba(texts[:32])
    rates: dict[str, float] = {}
    for budget in budgets:
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            classifier.predict_proba(texts, forward_tokens=budget)
            best = min(best, time.perf_counter() - started)
        rates[str(budget)] = round(len(texts) / best, 1)
    fastest = max(budgets, key=lambda budget: rates[str(budget)])
    return fastest, rates


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    os.replace(name, path)


def record_runtime(folder: Path, record: dict[str, Any]) -> None:
    """Write ``narrascope.runtime`` into config.json and narrascope.json, then re-render the model card."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config.setdefault(CONFIG_KEY, {})[RUNTIME_KEY] = record
    _write_json_atomic(folder / "config.json", config)
    meta_path = folder / METADATA_FILE
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    meta[RUNTIME_KEY] = record
    _write_json_atomic(meta_path, meta)
    (folder / "README.md").write_text(render_model_card(meta), encoding="utf-8")


def _export_graphs(folder: Path, int8: bool, sample_texts: list[str]) -> dict[str, dict[str, str]]:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
    torch_clf = NarrativeClassifier.load(folder, device="cpu", runtime="torch")
    encoded = torch_clf.tokenizer(sample_texts[:2], truncation=True, max_length=torch_clf.max_length)
    sample = pad_batch(encoded["input_ids"], torch_clf.tokenizer.pad_token_id or 0)
    fp32 = folder / ONNX_FILES["onnx"]
    export_onnx(model, fp32, sample)
    files = {"onnx": {"path": ONNX_FILES["onnx"], "sha256": sha256_of(fp32)}}
    if int8:
        quantize_int8(fp32, folder / ONNX_FILES["onnx-int8"])
        files["onnx-int8"] = {"path": ONNX_FILES["onnx-int8"], "sha256": sha256_of(folder / ONNX_FILES["onnx-int8"])}
    elif (folder / ONNX_FILES["onnx-int8"]).exists():
        (folder / ONNX_FILES["onnx-int8"]).unlink()  # a stale int8 graph of older weights must not linger
    return files


def export_model(
    folder: Path, int8: bool = False, data_dir: Path | None = None, sweep: bool = True, progress: bool = True
) -> dict[str, Any]:
    """Export, check, gate and sweep; returns the ``narrascope.runtime`` record written into the folder.

    ``data_dir`` holds the splits and articles the gate scores; without it int8 is exported but not gated,
    so it stays opt-in (``--runtime onnx-int8``) and fp32 ONNX is the default.
    """
    from narrascope.training.runtime_gate import MAX_F1_DROP, gate_runtimes

    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder}: no config.json; not a model folder (train one with narrascope train)")
    texts = evaluation_texts(data_dir)
    started = time.perf_counter()
    record: dict[str, Any] = {"files": _export_graphs(folder, int8, texts), "opset": OPSET, "default": "torch"}
    # Record the files first: loading a runtime checks the recorded SHA-256 of its graph.
    record_runtime(folder, record)
    runtimes = ["torch", *record["files"]]
    loaded = {name: NarrativeClassifier.load(folder, device="cpu", runtime=name) for name in runtimes}
    record["max_logit_diff_fp32"] = _check_equivalence(loaded["torch"], loaded["onnx"], texts[:16])
    if data_dir is not None:
        record["quality_gate"] = gate_runtimes(loaded, data_dir, progress=progress)
    int8_passed = bool(((record.get("quality_gate") or {}).get("onnx-int8") or {}).get("passed"))
    record["default"] = "onnx-int8" if int8_passed else "onnx"
    record["max_f1_drop"] = MAX_F1_DROP
    if sweep:
        sample = texts[:SWEEP_SENTENCES]
        sweeps = {name: sweep_forward_tokens(classifier, sample) for name, classifier in loaded.items()}
        record["forward_tokens"] = {name: best for name, (best, _) in sweeps.items()}
        record["forward_sweep"] = {"sentences": len(sample), "per_second": {n: r for n, (_, r) in sweeps.items()}}
    record["export_seconds"] = round(time.perf_counter() - started, 1)
    record_runtime(folder, record)
    logger.info("exported %s: default runtime %s", folder, record["default"])
    return record
