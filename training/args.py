"""Training settings as one typed, validated object.

Hyperparameters are data, not module constants: they are validated here with messages that quote the bad
value, can be loaded from a JSON/YAML file (unknown keys rejected, so typos fail loudly), and are saved in
the model folder so a run can be reproduced.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

MODES = ("full", "head-only")


@dataclass
class TrainingArguments:
    mode: str = "full"
    base_model: str = "embedded"
    epochs: float = 6.0
    batch_size: int = 16
    learning_rate: float = 8e-5
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_length: int = 96
    freeze_embeddings: bool = True
    pos_weight_cap: float = 6.0
    seed: int = 13
    eval_every_epochs: float = 1.0
    checkpoint_every_steps: int = 50
    time_budget_minutes: float = 0.0
    num_threads: int = 0
    head_epochs: int = 100
    head_warmup: bool = True
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        positive = ("epochs", "batch_size", "learning_rate", "head_learning_rate", "max_length", "head_epochs")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be within [0, 1), got {self.warmup_ratio!r}")
        if self.max_length < 16 or self.max_length > 512:
            raise ValueError(f"max_length must be within [16, 512], got {self.max_length!r}")
        if self.pos_weight_cap < 1.0:
            raise ValueError(f"pos_weight_cap must be >= 1, got {self.pos_weight_cap!r}")
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be within [0, 0.5), got {self.label_smoothing!r}")
        if self.time_budget_minutes < 0:
            raise ValueError(f"time_budget_minutes must be >= 0 (0 = none), got {self.time_budget_minutes!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "arguments") -> TrainingArguments:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"{source}: unknown training argument(s) {unknown}; known: {sorted(known)}")
        return cls(**raw)

    @classmethod
    def from_file(cls, path: Path) -> TrainingArguments:
        text = Path(path).read_text(encoding="utf-8")
        raw = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping of training arguments")
        return cls.from_dict(raw, source=str(path))
