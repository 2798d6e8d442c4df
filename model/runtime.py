"""The forward pass behind :class:`~narrascope.model.classifier.NarrativeClassifier`: PyTorch or ONNX Runtime.

A model folder may carry an exported graph beside its safetensors weights (``narrascope export``):
``onnx/model.onnx`` (fp32) and ``onnx/model_int8.onnx`` (dynamic int8, per channel). ``config.json`` records
them under ``narrascope.runtime`` with their SHA-256, the runtime the export chose as the default (int8 only
when it passed the quality gate), and the forward budget measured for each runtime. Everything after the
logits (sigmoid, windows, thresholds) stays in the classifier, so every runtime is scored by the same code.

ONNX Runtime was picked by measurement (``bench/runtimes.py``, ``bench/RESULTS.md``): on a 2-core CPU it runs
the same graph 2-4x faster than eager PyTorch; PyTorch's own dynamic int8 and OpenVINO are only benchmarked.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal, Protocol, cast, get_args

import numpy as np
import torch

# What a caller may ask for; ``auto`` takes the folder's recorded default (torch when nothing is exported).
Runtime = Literal["auto", "torch", "onnx", "onnx-int8"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
RUNTIME_ENV = "NARRASCOPE_RUNTIME"
RUNTIME_KEY = "runtime"  # config.json -> narrascope.runtime
ONNX_FILES = {"onnx": "onnx/model.onnx", "onnx-int8": "onnx/model_int8.onnx"}
# Forward-pass token budget (rows x longest sequence) for folders that recorded none: on CPU, padding is pure
# waste and 512-token passes measured fastest; a GPU prefers fewer, bigger passes.
CPU_FORWARD_TOKENS = 512
GPU_FORWARD_TOKENS = 8192


class RuntimeUnavailableError(ValueError):
    """The requested runtime cannot run this folder (not exported, file changed, or not installed)."""


class Backend(Protocol):
    """One forward pass: padded ``input_ids`` and ``attention_mask`` (int64, rows x width) to float32 logits."""

    name: str

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class TorchBackend:
    """Eager PyTorch on any device; also what training scores its in-progress model with."""

    name = "torch"

    def __init__(self, model: torch.nn.Module, device: str = "cpu") -> None:
        self.model = model.eval()
        self.device = device

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            output = self.model(
                input_ids=torch.from_numpy(input_ids).to(self.device),
                attention_mask=torch.from_numpy(attention_mask).to(self.device),
            )
        return cast(np.ndarray, output.logits.float().cpu().numpy())


class OnnxBackend:
    """An ONNX Runtime CPU session over an exported graph.

    Its intra-op threads follow torch's (set by whoever owns the process, see ``model.threads``), so one
    setting sizes both runtimes and loading a model still changes no process state.
    """

    def __init__(self, path: Path, name: str = "onnx", threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.name = name
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        (logits,) = self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": attention_mask})
        return np.asarray(logits, dtype=np.float32)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def requested_runtime(value: str | None = None) -> Runtime:
    """The one place a runtime request is read: the caller's value, else ``NARRASCOPE_RUNTIME``, else ``auto``."""
    raw = (value if value is not None else os.environ.get(RUNTIME_ENV, "")).strip() or "auto"
    if raw not in RUNTIMES:
        raise ValueError(f"{RUNTIME_ENV}/--runtime must be one of {', '.join(RUNTIMES)}, got {raw!r}")
    return cast(Runtime, raw)


def resolve_runtime(folder: Path, record: dict[str, Any], requested: Runtime, device: str) -> str:
    """The runtime to load: an explicit request, else the folder's recorded default on CPU, else torch.

    An explicit ``onnx``/``onnx-int8`` that the folder lacks is an error naming the command that makes it;
    ``auto`` silently stays on torch for folders without an export and on GPUs (the ONNX session is CPU only).
    """
    if requested == "torch":
        return "torch"
    if requested == "auto":
        default = str(record.get("default") or "torch")
        if default == "torch" or not device.startswith("cpu"):
            return "torch"
        requested = cast(Runtime, default)
    if requested not in ONNX_FILES:
        raise RuntimeUnavailableError(f"{folder}/config.json: unknown runtime {requested!r} in narrascope.runtime")
    if not device.startswith("cpu"):
        raise RuntimeUnavailableError(f"runtime {requested!r} runs on CPU only, but device {device!r} was asked for")
    files = record.get("files") or {}
    if requested not in files:
        raise RuntimeUnavailableError(
            f"{folder}: runtime {requested!r} is not exported here; run "
            f"narrascope export --model {folder}{' --int8' if requested == 'onnx-int8' else ''}"
        )
    return requested


def onnx_path(folder: Path, record: dict[str, Any], runtime: str) -> Path:
    """The graph file of ``runtime``, checked against the SHA-256 recorded at export (a stale copy is refused)."""
    entry = (record.get("files") or {})[runtime]
    path = folder / str(entry["path"])
    if not path.is_file():
        raise RuntimeUnavailableError(f"{path}: recorded in config.json (narrascope.runtime) but missing")
    if sha256_of(path) != entry.get("sha256"):
        raise RuntimeUnavailableError(f"{path}: SHA-256 differs from config.json; re-run narrascope export")
    return path


def forward_tokens_for(record: dict[str, Any], runtime: str, device: str) -> int:
    """The folder's measured forward budget for ``runtime``, else the documented default for the device."""
    measured = (record.get("forward_tokens") or {}).get(runtime)
    if isinstance(measured, int) and not isinstance(measured, bool) and measured >= 16:
        return measured
    return CPU_FORWARD_TOKENS if device.startswith("cpu") else GPU_FORWARD_TOKENS
