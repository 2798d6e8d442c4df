"""Where generated artefacts live: outside git, in one cache root that users can move with an env var."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "NARRASCOPE_HOME"
ENV_DATA = "NARRASCOPE_DATA_DIR"
ENV_FEEDBACK_URL = "NARRASCOPE_FEEDBACK_URL"
REPO_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    """Cache root (``$NARRASCOPE_HOME`` or ``~/.cache/narrascope``); model folders are too big for git."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".cache" / "narrascope").expanduser()


def default_encoder_dir() -> Path:
    return home() / "encoders" / "multilingual-e5-small-q4"


def default_models_root() -> Path:
    """Where trained model folders live; the only tree the service's reload endpoint may load from."""
    return home() / "models"


def default_model_dir() -> Path:
    return default_models_root() / "default"


def default_feedback_url() -> str:
    """``$NARRASCOPE_FEEDBACK_URL``, else a SQLite file in the cache root, beside the models, outside git.

    The service writes the store and ``narrascope data feedback`` reads it; both resolve it here so they meet.
    """
    return os.environ.get(ENV_FEEDBACK_URL) or f"sqlite:///{home() / 'feedback.sqlite'}"


def default_data_dir() -> Path:
    """``$NARRASCOPE_DATA_DIR``, else the repository's ``data/``, else ``./data``.

    An editable install finds the dataset beside the code; a regular install (the Docker image) has no repository
    around its modules, so it needs the variable or a ``data/`` folder in the working directory.
    """
    if os.environ.get(ENV_DATA):
        return Path(os.environ[ENV_DATA]).expanduser()
    beside_code = REPO_ROOT / "data"
    return beside_code if beside_code.is_dir() else Path.cwd() / "data"
