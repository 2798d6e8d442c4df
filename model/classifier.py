"""Load a trained model folder once and score sentences in length-sorted, token-bounded batches.

Everything that defines "what the model predicts" (labels, kinds, thresholds, risk policy) is read from the
folder, never from code, so a served model always agrees with the run that trained it. A label without a kind
or a threshold is an error rather than a guessed default. The one exception is the risk policy of folders
saved before it was recorded: they get :class:`RiskPolicy`'s defaults (what every earlier release applied),
and :class:`ModelInfo` says so (``risk_policy_source = "defaults"``), which ``/v1/model`` shows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from narrascope.model.aggregate import RiskPolicy
from narrascope.model.runtime import (
    RUNTIME_KEY,
    Backend,
    OnnxBackend,
    TorchBackend,
    forward_tokens_for,
    onnx_path,
    requested_runtime,
    resolve_runtime,
)

CONFIG_KEY = "narrascope"
METADATA_FILE = "narrascope.json"

RiskPolicySource = Literal["model folder", "defaults"]

logger = logging.getLogger(__name__)


class ModelFolderError(ValueError):
    """The folder is not a usable narrascope model; the message says which file or field is wrong."""


@dataclass(frozen=True)
class ModelInfo:
    """What a caller may want to show about the loaded model (service ``/v1/model``, batch output)."""

    name: str
    version: str
    path: str
    base_model: str
    trained_at: str | None
    mode: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    risk_policy: RiskPolicy = field(default_factory=RiskPolicy)
    risk_policy_source: RiskPolicySource = "defaults"
    runtime: str = "torch"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "path": self.path,
            "base_model": self.base_model,
            "trained_at": self.trained_at,
            "mode": self.mode,
            "metrics": self.metrics,
            "risk_policy": self.risk_policy.to_dict(),
            "risk_policy_source": self.risk_policy_source,
            "runtime": self.runtime,
        }


class NarrativeClassifier:
    """A sentence-level multi-label classifier read from a ``save_pretrained`` folder.

    ``backend`` runs the forward pass (PyTorch or an exported ONNX graph, see ``model.runtime``); everything
    before it (tokenising, windows, length-sorted passes of ``forward_tokens``) and after it (probabilities,
    thresholds) is this class's, so both runtimes are scored by one code path.
    """

    def __init__(
        self,
        backend: Backend,
        tokenizer: Any,
        labels: list[str],
        kinds: dict[str, str],
        thresholds: dict[str, float],
        info: ModelInfo,
        label_details: dict[str, dict[str, Any]] | None = None,
        max_length: int = 128,
        window_stride: int = 32,
        device: str = "cpu",
        forward_tokens: int | None = None,
    ) -> None:
        self.backend = backend
        self.tokenizer = tokenizer
        self.labels = labels
        self.kinds = kinds
        self.thresholds = thresholds
        self.info = info
        self.label_details = label_details or {}
        self.max_length = max_length
        self.window_stride = window_stride
        self.device = device
        # Tokens per forward pass (rows x longest window) unless a call passes its own: the folder's measured
        # best for the runtime (config.json, narrascope.runtime.forward_tokens), else the device default.
        self.forward_tokens = forward_tokens or forward_tokens_for({}, backend.name, device)

    @property
    def torch_model(self) -> Any:
        """The PyTorch ``transformers`` model behind a ``torch`` backend, for work on the weights themselves
        (folding a calibration into the head, encoder embeddings). An exported graph has no such model: load the
        folder with ``runtime="torch"`` for that work, rather than silently reading other weights."""
        model = getattr(self.backend, "model", None)
        if not isinstance(model, torch.nn.Module):
            raise ValueError(
                f"{self.info.path}: loaded with the {self.backend.name!r} runtime, which has no PyTorch model; "
                "load it with runtime='torch'"
            )
        return model

    @classmethod
    def load(cls, path: str | Path, device: str | None = None, runtime: str | None = None) -> NarrativeClassifier:
        """Read a model folder with the fastest runtime it carries (``runtime``: see ``model.runtime``;
        ``None`` reads ``NARRASCOPE_RUNTIME``, else ``auto``). Thread counts are the process owner's choice
        (see ``model.threads``), not ours."""
        from transformers import AutoConfig, AutoTokenizer

        folder = Path(path)
        if not (folder / "config.json").is_file():
            raise ModelFolderError(f"{folder}: no config.json; not a model folder (train one with narrascope train)")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        config = AutoConfig.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if getattr(config, "problem_type", None) != "multi_label_classification":
            raise ModelFolderError(f"{folder}/config.json: problem_type must be multi_label_classification")
        labels = [config.id2label[i] for i in range(config.num_labels)]
        extra = getattr(config, CONFIG_KEY, None) or {}
        kinds = dict(extra.get("label_kinds") or {})
        if len(set(labels)) != len(labels):
            raise ModelFolderError(f"{folder}/config.json: id2label repeats labels: {labels}")
        missing = [label for label in labels if label not in kinds]
        if missing:
            raise ModelFolderError(f"{folder}/config.json: {CONFIG_KEY}.label_kinds lacks {missing}")
        thresholds = _read_thresholds(folder, extra, labels)
        risk_policy, policy_source = _read_risk_policy(folder, extra)
        record = dict(extra.get(RUNTIME_KEY) or {})
        backend = _load_backend(
            folder, record, resolve_runtime(folder, record, requested_runtime(runtime), device), device
        )
        meta: dict[str, Any] = {}
        if (folder / METADATA_FILE).is_file():
            meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
        info = ModelInfo(
            name=str(extra.get("model_name") or folder.name),
            version=str(extra.get("model_version") or "0"),
            path=str(folder.resolve()),
            base_model=str(extra.get("base_model") or "unknown"),
            trained_at=meta.get("trained_at"),
            mode=meta.get("mode"),
            metrics=meta.get("metrics") or {},
            risk_policy=risk_policy,
            risk_policy_source=policy_source,
            runtime=backend.name,
        )
        snapshot = {item["id"]: item for item in (meta.get("taxonomy") or {}).get("labels", [])}
        return cls(
            backend,
            tokenizer,
            labels,
            kinds,
            thresholds,
            info,
            label_details=snapshot,
            max_length=int(extra.get("max_length") or 128),
            device=device,
            forward_tokens=forward_tokens_for(record, backend.name, device),
        )

    @property
    def risk_policy(self) -> RiskPolicy:
        """The policy read from the model folder (see :class:`ModelInfo` for where it came from)."""
        return self.info.risk_policy

    def describe_labels(self) -> list[dict[str, Any]]:
        """Labels as this model knows them (taxonomy snapshot saved at training time) with thresholds."""
        return [
            {
                "id": label,
                "kind": self.kinds[label],
                "name": self.label_details.get(label, {}).get("name", label),
                "description": self.label_details.get(label, {}).get("description", ""),
                "threshold": self.thresholds[label],
            }
            for label in self.labels
        ]

    def threshold_vector(self, overrides: dict[str, float] | None = None) -> np.ndarray:
        merged = {**self.thresholds, **(overrides or {})}
        return np.array([merged[label] for label in self.labels], dtype=np.float32)

    def predict_proba(
        self, texts: Sequence[str], forward_tokens: int | None = None, max_batch_size: int = 64
    ) -> np.ndarray:
        """Probabilities ``(len(texts), n_labels)``; passes hold ``forward_tokens`` (default: the model's own).

        Texts longer than ``max_length`` tokens are cut into overlapping windows and each label takes its
        maximum over the windows, so nothing is silently truncated.
        """
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        encoded = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_length,
            stride=min(self.window_stride, self.max_length // 4),
            return_overflowing_tokens=True,
            padding=False,
        )
        windows: list[list[int]] = encoded["input_ids"]
        owner: list[int] = list(encoded.get("overflow_to_sample_mapping", range(len(windows))))
        logits = self._forward_windows(windows, forward_tokens or self.forward_tokens, max_batch_size)
        probs = 1.0 / (1.0 + np.exp(-logits))
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        np.maximum.at(out, np.asarray(owner), probs)
        return out

    def _forward_windows(self, windows: list[list[int]], forward_tokens: int, max_batch_size: int) -> np.ndarray:
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        logits = np.zeros((len(windows), len(self.labels)), dtype=np.float32)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        for batch in _token_bounded_batches(order, windows, forward_tokens, max_batch_size):
            ids, mask = pad_batch([windows[i] for i in batch], pad_id)
            logits[batch] = self.backend.forward(ids.numpy(), mask.numpy())
        return logits

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Token count as the model sees it; the service uses it to size coalesced batches."""
        return sum(len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=True)["input_ids"])


def _load_backend(folder: Path, record: dict[str, Any], runtime: str, device: str) -> Backend:
    if runtime == "torch":
        from transformers import AutoModelForSequenceClassification

        # safetensors only: pickled weights (pytorch_model.bin) can execute code when loaded.
        model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True).to(device)
        return TorchBackend(model, device)
    return OnnxBackend(onnx_path(folder, record, runtime), runtime)


def _read_thresholds(folder: Path, extra: dict[str, Any], labels: list[str]) -> dict[str, float]:
    """Every label's tuned threshold; a missing one is an error, like a missing kind (never a silent 0.5)."""
    saved = extra.get("thresholds") or {}
    missing = [label for label in labels if label not in saved]
    if missing:
        raise ModelFolderError(
            f"{folder}/config.json: {CONFIG_KEY}.thresholds has no threshold for {', '.join(map(repr, missing))}"
        )
    thresholds: dict[str, float] = {}
    for label in labels:
        value = saved[label]
        if not isinstance(value, bool) and isinstance(value, int | float):
            value = float(value)
        if not isinstance(value, float) or not 0.0 <= value <= 1.0:
            raise ModelFolderError(
                f"{folder}/config.json: label {label!r} has threshold {value!r}, expected a value in [0, 1]"
            )
        thresholds[label] = value
    return thresholds


def _read_risk_policy(folder: Path, extra: dict[str, Any]) -> tuple[RiskPolicy, RiskPolicySource]:
    """The saved policy, or the documented defaults for folders written before the policy was saved."""
    raw = extra.get("risk_policy")
    if raw is None:
        logger.warning(
            "%s/config.json has no %s.risk_policy (saved by an older narrascope); using the defaults %s",
            folder,
            CONFIG_KEY,
            RiskPolicy().to_dict(),
        )
        return RiskPolicy(), "defaults"
    try:
        return RiskPolicy.from_dict(raw), "model folder"
    except (TypeError, ValueError) as exc:
        raise ModelFolderError(f"{folder}/config.json: {CONFIG_KEY}.risk_policy: {exc}") from None


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``input_ids`` and ``attention_mask`` as wide as the longest sequence (dynamic padding).

    Training pads exactly as inference does, so a model never sees padding it was not trained with.
    """
    width = max(len(seq) for seq in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids, mask


def _token_bounded_batches(
    order: list[int], windows: list[list[int]], forward_tokens: int, max_batch_size: int
) -> list[list[int]]:
    """Consecutive length-sorted items while ``rows x longest`` stays within the token budget."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        width = len(windows[index])
        if current and ((len(current) + 1) * width > forward_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
