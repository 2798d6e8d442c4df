"""The layout is the architecture: imports flow one way, ``labels`` -> ``dataset`` -> ``training`` -> ``model`` ->
``serve`` / ``batch`` -> ``annotate`` / ``report``, and no module imports itself back through a cycle.

Read from the source with ``ast`` (nothing is imported), so a forbidden arrow fails here, with the file and
line, before it fails as a circular import or a 2 GB training stack pulled into the service.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIRS: dict[str, str] = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]

# Which layers each layer may import (besides itself and the shared ``narrascope`` root modules such as paths).
ALLOWED: dict[str, set[str]] = {
    "labels": set(),
    "dataset": {"labels"},
    "model": {"labels"},
    "training": {"labels", "dataset", "model"},
    "serve": {"labels", "dataset", "model"},
    "batch": {"labels", "model"},
    # Choosing what to annotate: feeds in (batch readers), model scores and embeddings, dataset interchange out.
    "annotate": {"labels", "dataset", "model", "batch"},
    # Analysis of scored output: reads it with the batch layer's formats, embeds with the training layer's
    # encoder loading and pooling (one definition of how the encoder turns text into vectors).
    "report": {"labels", "model", "batch", "training"},
}
# Text primitives of the model layer that the dataset must share: feedback becomes rows split and tagged exactly
# as the model reads text, or retraining on it would teach a different segmentation.
SHARED_PRIMITIVES = {"narrascope.model.sentences", "narrascope.model.language"}
# Root modules that wire every layer together (the CLI) and may therefore import any of them.
WIRING = {"narrascope.cli"}


def modules() -> Iterator[tuple[str, Path]]:
    for package, folder in PACKAGE_DIRS.items():
        for path in sorted((REPO / folder).glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            yield name, path
    yield "narrascope.serve.routes", REPO / "serve" / "routes" / "__init__.py"
    for path in sorted((REPO / "serve" / "routes").glob("*.py")):
        if path.stem != "__init__":
            yield f"narrascope.serve.routes.{path.stem}", path


def imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Absolute ``narrascope.*`` targets of every import, lazy ones inside functions included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.stem == "__init__" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "narrascope" and parts[1] in ALLOWED else None


def graph() -> dict[str, set[str]]:
    known = dict(modules())
    edges: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imports(name, path):
            # ``from narrascope.model.classifier import X`` names a module; ``from narrascope.model import X`` may not.
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges[name].add(target)
    return edges


def test_every_layer_is_scanned() -> None:
    assert {layer(name) for name, _ in modules()} - {None} == set(ALLOWED)


@pytest.mark.parametrize("module,path", list(modules()), ids=lambda value: str(value).rsplit("/", 1)[-1])
def test_imports_flow_one_way(module: str, path: Path) -> None:
    own = layer(module)
    if own is None:
        return
    wrong = [
        f"{path.relative_to(REPO)}:{line}: {module} ({own}) imports {target}"
        for target, line in imports(module, path)
        if (other := layer(target)) is not None
        and other != own
        and other not in ALLOWED[own]
        and not any(target == shared or target.startswith(shared + ".") for shared in SHARED_PRIMITIVES)
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_cli_wires_layers_from_the_root() -> None:
    for name, path in modules():
        if layer(name) is None and name not in WIRING:
            used = {layer(target) for target, _ in imports(name, path)} - {None}
            assert not used, f"{path.relative_to(REPO)} is a root module but imports layers {sorted(used)}"


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
