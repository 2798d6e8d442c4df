"""Crash-safe training checkpoints, so an interrupted CPU run resumes where it stopped.

A checkpoint folder holds the weights (safetensors), the optimizer and scheduler state, and the loop's own
state (step, best dev score, history). It is written to a sibling staging folder and renamed into place, so
a kill mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "state.json"
WEIGHTS_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.pt"


@dataclass
class LoopState:
    """What the training loop needs to continue exactly where a checkpoint was taken."""

    step: int = 0
    best: float = -1.0
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "best": self.best, "history": self.history}


def checkpoint_root(output: Path) -> Path:
    """Checkpoints live beside the model folder (``OUTPUT.checkpoints``), never inside what gets served."""
    return Path(str(output) + ".checkpoints")


def has_checkpoint(folder: Path) -> bool:
    return (folder / STATE_FILE).is_file()


def save_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any, state: LoopState) -> None:
    from safetensors.torch import save_file

    staging = folder.with_name(folder.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(staging / WEIGHTS_FILE))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, staging / OPTIMIZER_FILE)
    (staging / STATE_FILE).write_text(json.dumps(state.to_dict(), indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)


def load_weights(folder: Path, model: Any) -> None:
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))


def has_weights(folder: Path) -> bool:
    return (folder / WEIGHTS_FILE).is_file()


def restore_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any) -> LoopState:
    """Load weights, optimizer and scheduler from ``folder`` and return the loop state saved with them."""
    state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    load_weights(folder, model)
    saved = torch.load(folder / OPTIMIZER_FILE, weights_only=False)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    return LoopState(step=int(state["step"]), best=float(state["best"]), history=list(state["history"]))
