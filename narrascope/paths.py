"""Where generated artefacts live: outside git, in one cache root that users can move with an env var."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "NARRASCOPE_HOME"
REPO_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    """Cache root (``$NARRASCOPE_HOME`` or ``~/.cache/narrascope``); model folders are too big for git."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".cache" / "narrascope").expanduser()


def default_encoder_dir() -> Path:
    return home() / "encoders" / "multilingual-e5-small-q4"


def default_model_dir() -> Path:
    return home() / "models" / "default"


def default_data_dir() -> Path:
    """The dataset shipped in the repository (``data/``)."""
    return REPO_ROOT / "data"
