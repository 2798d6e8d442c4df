"""The benchmarks describe the model they measured from its folder, never from a literal."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bench_common():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("bench_common", ROOT / "bench" / "_common.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_description_comes_from_the_folder_config(tiny_model_dir: Path) -> None:
    config = json.loads((tiny_model_dir / "config.json").read_text(encoding="utf-8"))
    described = _bench_common().describe_model(tiny_model_dir)
    assert f"{config['num_hidden_layers']} layers" in described
    assert f"hidden {config['hidden_size']}," in described
    assert config["narrascope"]["model_name"] in described
