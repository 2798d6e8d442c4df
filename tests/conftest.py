"""Shared fixtures: a tiny random model folder in the real format, built once per session (no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope.model.classifier import NarrativeClassifier
from narrascope.training.tiny import build_tiny_model_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model_dir(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="session")
def tiny_classifier(tiny_model_dir: Path) -> NarrativeClassifier:
    return NarrativeClassifier.load(tiny_model_dir)
