"""Where the CLI finds the dataset, so a regular install (the Docker image) can train and evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope import paths


def test_data_dir_prefers_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_DATA, str(tmp_path / "mine"))
    assert paths.default_data_dir() == tmp_path / "mine"


def test_data_dir_is_the_repository_folder_in_a_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ENV_DATA, raising=False)
    assert paths.default_data_dir() == paths.REPO_ROOT / "data"


def test_data_dir_falls_back_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ENV_DATA, raising=False)
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "site-packages")
    monkeypatch.chdir(tmp_path)
    assert paths.default_data_dir() == tmp_path / "data"


def test_feedback_url_is_the_environment_else_sqlite_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(paths.ENV_FEEDBACK_URL, "postgresql://db/feedback")
    assert paths.default_feedback_url() == "postgresql://db/feedback"
    monkeypatch.delenv(paths.ENV_FEEDBACK_URL)
    monkeypatch.setenv(paths.ENV_HOME, str(tmp_path))
    assert paths.default_feedback_url() == f"sqlite:///{tmp_path / 'feedback.sqlite'}"


def test_the_service_and_the_export_share_the_feedback_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from narrascope.serve.settings import Settings

    monkeypatch.delenv(paths.ENV_FEEDBACK_URL, raising=False)
    monkeypatch.setenv(paths.ENV_HOME, str(tmp_path))
    assert Settings().resolved_feedback_url == paths.default_feedback_url()
    assert Settings(feedback_url="sqlite:///x.sqlite").resolved_feedback_url == "sqlite:///x.sqlite"
