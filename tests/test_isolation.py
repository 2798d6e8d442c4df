"""The test session runs under a temporary home, so no test can write into the user's real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope import paths


def test_every_default_location_is_inside_the_session_temp_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    for location in (Path.home(), paths.home(), paths.default_model_dir(), paths.default_encoder_dir()):
        assert location.is_relative_to(base), location
