"""Hot reload: a valid folder is swapped in atomically; a bad one is refused and the old model keeps serving."""

from __future__ import annotations

import json
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from narrascope.model.classifier import NarrativeClassifier
from narrascope.serve.app import create_app
from narrascope.serve.registry import ModelValidationError, validate_classifier
from narrascope.serve.testing import isolated_settings
from narrascope.training.tiny import build_tiny_model_dir

TEXT = {"documents": [{"text": "Kazakhstan is preparing for war. The law is defensive."}]}


@pytest.fixture(scope="module")
def second_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model_dir(tmp_path_factory.mktemp("models-b") / "tiny-b", seed=1)


@pytest.fixture()
def client(tiny_model_dir: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # Every fixture folder lives under pytest's base temp, which is therefore this service's models root.
    settings = isolated_settings(tiny_model_dir, tmp_path, models_root=tmp_path_factory.getbasetemp())
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as test_client:
        yield test_client


def serving_path(client: TestClient) -> Path:
    return Path(client.get("/v1/model").json()["path"])


def scores(client: TestClient) -> dict[str, float]:
    return client.post("/v1/score", json=TEXT).json()["results"][0]["scores"]


def test_reload_swaps_in_the_new_model(client: TestClient, tiny_model_dir: Path, second_model_dir: Path) -> None:
    before = scores(client)
    response = client.post("/v1/admin/reload", json={"path": str(second_model_dir)})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["status"] == "reloaded" and data["reason"] is None and not data["labels_changed"]
    assert Path(data["serving"]["path"]) == second_model_dir.resolve()
    assert Path(data["previous"]["path"]) == tiny_model_dir.resolve()
    assert serving_path(client) == second_model_dir.resolve()
    assert scores(client) != before  # other weights, other probabilities
    assert 'narrascope_model_reloads_total{outcome="ok"} 1.0' in client.get("/metrics").text


def test_reload_without_path_rereads_the_current_folder(client: TestClient, tiny_model_dir: Path) -> None:
    response = client.post("/v1/admin/reload")
    assert response.status_code == 200 and response.json()["status"] == "reloaded"
    assert serving_path(client) == tiny_model_dir.resolve()


def broken_copies(source: Path, root: Path) -> dict[str, tuple[Path, str]]:
    """Folders that must be refused, with a fragment of the reason each must give."""
    cases: dict[str, tuple[Path, str]] = {"missing": (root / "nowhere", "no config.json")}
    no_kinds = root / "no-kinds"
    shutil.copytree(source, no_kinds)
    config = json.loads((no_kinds / "config.json").read_text())
    config["narrascope"]["label_kinds"].pop("war_preparation")
    (no_kinds / "config.json").write_text(json.dumps(config))
    cases["no_kinds"] = (no_kinds, "label_kinds lacks ['war_preparation']")
    bad_threshold = root / "bad-threshold"
    shutil.copytree(source, bad_threshold)
    config = json.loads((bad_threshold / "config.json").read_text())
    config["narrascope"]["thresholds"]["war_preparation"] = 7
    (bad_threshold / "config.json").write_text(json.dumps(config))
    cases["bad_threshold"] = (bad_threshold, "label 'war_preparation' has threshold 7.0")
    no_weights = root / "no-weights"
    shutil.copytree(source, no_weights)
    (no_weights / "model.safetensors").unlink()
    cases["no_weights"] = (no_weights, "no file named model.safetensors")
    corrupt = root / "corrupt-weights"
    shutil.copytree(source, corrupt)
    (corrupt / "model.safetensors").write_bytes(b"\x00" * 64)
    cases["corrupt"] = (corrupt, "")
    return cases


def test_failed_reload_keeps_the_old_model_and_says_why(
    client: TestClient, tiny_model_dir: Path, tmp_path: Path
) -> None:
    before = scores(client)
    for name, (folder, reason) in broken_copies(tiny_model_dir, tmp_path).items():
        response = client.post("/v1/admin/reload", json={"path": str(folder)})
        assert response.status_code == 422, name
        data = response.json()
        assert data["status"] == "failed" and data["reason"], name
        assert reason in data["reason"], (name, data["reason"])
        assert Path(data["serving"]["path"]) == tiny_model_dir.resolve()
        assert serving_path(client) == tiny_model_dir.resolve()
        assert client.get("/readyz").status_code == 200
    assert scores(client) == before
    assert 'narrascope_model_reloads_total{outcome="failed"} 5.0' in client.get("/metrics").text


def test_reload_rejects_unknown_fields(client: TestClient) -> None:
    response = client.post("/v1/admin/reload", json={"folder": "/tmp"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("folder:")


def test_validation_rejects_models_without_labels(tiny_classifier: NarrativeClassifier) -> None:
    validate_classifier(tiny_classifier)
    hollow = NarrativeClassifier(tiny_classifier.backend, tiny_classifier.tokenizer, [], {}, {}, tiny_classifier.info)
    with pytest.raises(ModelValidationError, match="no labels"):
        validate_classifier(hollow)


class _Planted:
    """Unpickling this creates a file: proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (shutil.copyfile, ("/dev/null", str(self.marker)))


def test_reload_refuses_folders_outside_the_models_root(client: TestClient, tiny_model_dir: Path) -> None:
    outside = Path(tempfile.mkdtemp(prefix="narrascope-outside-"))
    try:
        copy = outside / "tiny"
        shutil.copytree(tiny_model_dir, copy)
        response = client.post("/v1/admin/reload", json={"path": str(copy)})
        assert response.status_code == 403
        assert "outside the models root" in response.json()["detail"]
        assert serving_path(client) == tiny_model_dir.resolve()
    finally:
        shutil.rmtree(outside)


def test_reload_resolves_symlinks_before_checking_the_root(
    client: TestClient, tiny_model_dir: Path, tmp_path: Path
) -> None:
    outside = Path(tempfile.mkdtemp(prefix="narrascope-outside-"))
    try:
        shutil.copytree(tiny_model_dir, outside / "tiny")
        link = tmp_path / "looks-inside"
        link.symlink_to(outside / "tiny", target_is_directory=True)
        response = client.post("/v1/admin/reload", json={"path": str(link)})
        assert response.status_code == 403, response.text
    finally:
        shutil.rmtree(outside)


def test_reload_never_unpickles_weights(client: TestClient, tiny_model_dir: Path, tmp_path: Path) -> None:
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, pickled)
    (pickled / "model.safetensors").unlink()
    marker = tmp_path / "executed"
    with open(pickled / "pytorch_model.bin", "wb") as handle:
        pickle.dump(_Planted(marker), handle)
    response = client.post("/v1/admin/reload", json={"path": str(pickled)})
    assert response.status_code == 422
    assert "safetensors" in response.json()["reason"]
    assert not marker.exists()
    assert serving_path(client) == tiny_model_dir.resolve()


@pytest.mark.parametrize("path", ["models\x00/evil", "\udb6cmodel"])
def test_reload_refuses_paths_no_file_can_have(client: TestClient, tiny_model_dir: Path, path: str) -> None:
    """Found by the schema fuzzer: a NUL byte used to reach the file system and come back as a 500."""
    response = client.post(
        "/v1/admin/reload", content=json.dumps({"path": path}), headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert serving_path(client) == tiny_model_dir.resolve()
