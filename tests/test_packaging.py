"""The distribution as users get it: one top-level package, importable from outside the checkout.

The layers keep their top-level folders in the repository, mapped to ``narrascope.*`` subpackages by
``package-dir``; an editable install hides mistakes in that mapping (a missing subpackage, package data left
out), so this builds a real wheel, installs it into an empty target and imports it from a foreign directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SKIP = (".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "data", "bench")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools writes build/ and *.egg-info beside the sources: build from a copy, never in the checkout.
    source = tmp_path_factory.mktemp("source") / "narrascope"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*SKIP))
    # --no-build-isolation: the build backend (setuptools) is already in the venv and PyPI may be slow.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), "."],
        cwd=source,
        check=True,
    )
    (path,) = out.glob("narrascope-*.whl")
    return path


def test_wheel_has_one_top_level_package_and_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert {entry for entry in top if not entry.endswith(".dist-info")} == {"narrascope"}
    for needed in ("narrascope/py.typed", "narrascope/labels/taxonomy.yaml", "narrascope/serve/static/app.js"):
        assert needed in names, f"{needed} is missing from the wheel"


def test_installed_wheel_imports_from_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
    )
    probe = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "import narrascope, narrascope.cli, narrascope.serve.app, narrascope.batch.run, narrascope.training.cli;"
        "from narrascope.labels import load_taxonomy;"
        "print(json.dumps({'file': narrascope.__file__, 'labels': len(load_taxonomy().ids),"
        " 'commands': sorted(narrascope.cli.build_parser()._subparsers._group_actions[0].choices)}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(target)], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    assert Path(found["file"]).is_relative_to(target), found["file"]
    assert found["labels"] > 0
    assert {"serve", "score", "train", "data"} <= set(found["commands"])
