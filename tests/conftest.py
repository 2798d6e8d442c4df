"""Shared fixtures: a tiny random model folder in the real format, built once per session (no downloads),
and a temporary home for the whole session so no test writes outside a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from narrascope.dataset.feedback_store import FeedbackStore
from narrascope.model.classifier import NarrativeClassifier
from narrascope.paths import ENV_HOME
from narrascope.training.tiny import build_tiny_model_dir
from tests.datafactory import fill_feedback_store


@pytest.fixture(scope="session", autouse=True)
def temporary_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME, the XDG cache/config folders and NARRASCOPE_HOME all point into a session temp folder.

    The code under test and the libraries it drives keep caches beside the user's files (narrascope's
    ``~/.cache/narrascope``, matplotlib's font cache, Ray's ``~/.ray``, Chromium's profile); a test run
    must leave the machine as it found it and must not pick up a developer's own trained default model.
    Subprocesses (Ray workers, the killed batch job, Chromium) inherit the same environment.
    """
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
        patch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        patch.setenv("MPLCONFIGDIR", str(home / ".config" / "matplotlib"))
        patch.setenv(ENV_HOME, str(home / ".cache" / "narrascope"))
        yield home


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model_dir(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture()
def filled_store(tmp_path: Path) -> Iterator[FeedbackStore]:
    """A SQLite feedback store with the corrections ``tests.datafactory.fill_feedback_store`` describes."""
    store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.sqlite'}")
    fill_feedback_store(store)
    yield store
    store.close()


@pytest.fixture(scope="session")
def tiny_classifier(tiny_model_dir: Path) -> NarrativeClassifier:
    return NarrativeClassifier.load(tiny_model_dir)


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT encoder folder (no classifier head), for the story embedding tests."""
    import torch
    from transformers import BertConfig, BertModel

    from narrascope.training.tiny import build_tiny_tokenizer

    folder = tmp_path_factory.mktemp("encoder") / "tiny-encoder"
    tokenizer = build_tiny_tokenizer()
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, pad_token_id=1,
    )  # fmt: skip
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
