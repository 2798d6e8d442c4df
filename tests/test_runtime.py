"""The exported ONNX runtimes against PyTorch on the tiny model: same predictions, a recorded gate and budget."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.documents import Document, score_documents
from narrascope.model.runtime import RUNTIME_ENV, RuntimeUnavailableError, requested_runtime
from narrascope.training.export import export_model
from narrascope.training.tiny import SAMPLE_SENTENCES
from tests.datafactory import write_dataset

# Lengths from a few tokens to several windows (max_length is 64), so padding and windowing both vary.
TEXTS = [
    "War.",
    *SAMPLE_SENTENCES,
    " ".join(SAMPLE_SENTENCES),
    " ".join(SAMPLE_SENTENCES[2:5]) + " Brigades, border, Russia, NATO.",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("export") / "tiny"
    shutil.copytree(tiny_model_dir, folder)
    data = write_dataset(tmp_path_factory.mktemp("data"))
    return folder, export_model(folder, int8=True, data_dir=data, progress=False)


def test_onnx_runtimes_predict_what_torch_predicts(exported: tuple[Path, dict]) -> None:
    folder, _ = exported
    torch_clf = NarrativeClassifier.load(folder, runtime="torch")
    fp32 = NarrativeClassifier.load(folder, runtime="onnx")
    int8 = NarrativeClassifier.load(folder, runtime="onnx-int8")
    assert (torch_clf.info.runtime, fp32.info.runtime, int8.info.runtime) == ("torch", "onnx", "onnx-int8")
    reference = torch_clf.predict_proba(TEXTS, forward_tokens=256)
    # Any pass size gives the same numbers: batch shapes are dynamic in the graph, not traced constants.
    for budget in (64, 256, 4096):
        np.testing.assert_allclose(fp32.predict_proba(TEXTS, forward_tokens=budget), reference, atol=1e-4)
    assert np.max(np.abs(int8.predict_proba(TEXTS) - reference)) < 0.05
    documents = [Document(str(i), text) for i, text in enumerate(TEXTS)]
    for ours, theirs in zip(score_documents(fp32, documents), score_documents(torch_clf, documents), strict=True):
        assert ours.labels == theirs.labels and ours.risk == theirs.risk


def test_the_export_is_recorded_with_hashes_gate_and_budgets(exported: tuple[Path, dict]) -> None:
    folder, record = exported
    saved = json.loads((folder / "config.json").read_text(encoding="utf-8"))["narrascope"]["runtime"]
    assert saved == record
    assert set(record["files"]) == {"onnx", "onnx-int8"}
    assert all((folder / entry["path"]).is_file() and len(entry["sha256"]) == 64 for entry in record["files"].values())
    gate = record["quality_gate"]
    assert set(gate) == {"torch", "onnx", "onnx-int8"}
    assert set(gate["onnx-int8"]["test_micro_f1"]) == {"all", "en", "ru", "kk", "uk"}
    assert set(gate["onnx-int8"]["articles_micro_f1"]) == {"all", "en", "ru", "kk", "uk"}
    assert record["default"] == ("onnx-int8" if gate["onnx-int8"]["passed"] else "onnx")
    assert record["max_logit_diff_fp32"] < 1e-3
    assert set(record["forward_tokens"]) == {"torch", "onnx", "onnx-int8"}
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "## Runtimes" in card and f"Default runtime: **{record['default']}**" in card
    assert json.loads((folder / "narrascope.json").read_text(encoding="utf-8"))["runtime"] == record


def test_load_picks_the_recorded_default_and_its_budget(
    exported: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, record = exported
    monkeypatch.delenv(RUNTIME_ENV, raising=False)
    default = NarrativeClassifier.load(folder)
    assert default.info.runtime == record["default"]
    assert default.forward_tokens == record["forward_tokens"][record["default"]]
    assert default.info.to_dict()["runtime"] == record["default"]
    monkeypatch.setenv(RUNTIME_ENV, "torch")
    forced = NarrativeClassifier.load(folder)
    assert forced.info.runtime == "torch" and forced.forward_tokens == record["forward_tokens"]["torch"]


def test_unknown_or_missing_runtimes_fail_with_the_fix(tiny_model_dir: Path, exported: tuple[Path, dict]) -> None:
    with pytest.raises(ValueError, match="must be one of auto, torch, onnx, onnx-int8, got 'tensorrt'"):
        requested_runtime("tensorrt")
    with pytest.raises(RuntimeUnavailableError, match="narrascope export --model .* --int8"):
        NarrativeClassifier.load(tiny_model_dir, runtime="onnx-int8")
    assert NarrativeClassifier.load(tiny_model_dir, runtime="auto").info.runtime == "torch"
    with pytest.raises(RuntimeUnavailableError, match="CPU only"):
        NarrativeClassifier.load(exported[0], device="cuda", runtime="onnx")


def test_a_graph_that_changed_after_export_is_refused(exported: tuple[Path, dict], tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(exported[0], folder)
    with open(folder / "onnx" / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(RuntimeUnavailableError, match="SHA-256 differs"):
        NarrativeClassifier.load(folder, runtime="onnx")


def test_eval_reports_every_runtime_side_by_side(exported: tuple[Path, dict], tmp_path: Path) -> None:
    from narrascope.training.evaluate import run_evaluation

    data = write_dataset(tmp_path / "data")
    result = run_evaluation(exported[0], data, tmp_path / "eval", baselines=False, progress=False)
    assert set(result["runtimes"]) == {"torch", "onnx", "onnx-int8"}
    assert result["runtimes"]["onnx"]["decisions_changed"] == 0.0
    report = (tmp_path / "eval" / "report.md").read_text(encoding="utf-8")
    assert "## Runtimes side by side" in report and "| onnx-int8 |" in report


def test_settings_name_the_two_budgets_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    from narrascope.batch.run import ScoreSettings
    from narrascope.serve.settings import Settings

    monkeypatch.setenv("NARRASCOPE_MAX_COALESCE_TOKENS", "4096")
    monkeypatch.setenv("NARRASCOPE_FORWARD_TOKENS", "768")
    monkeypatch.setenv(RUNTIME_ENV, "torch")
    settings = Settings()
    assert (settings.max_coalesce_tokens, settings.forward_tokens, settings.runtime) == (4096, 768, "torch")
    monkeypatch.setenv("NARRASCOPE_MAX_BATCH_TOKENS", "4096")
    with pytest.raises(ValueError, match="NARRASCOPE_MAX_BATCH_TOKENS was renamed: set NARRASCOPE_MAX_COALESCE_TOKENS"):
        Settings()
    monkeypatch.delenv("NARRASCOPE_MAX_BATCH_TOKENS")
    monkeypatch.setenv(RUNTIME_ENV, "fast")
    with pytest.raises(ValueError, match="got 'fast'"):
        Settings()
    assert ScoreSettings(input="in.jsonl", output="out.jsonl", runtime="onnx").runtime == "onnx"
    with pytest.raises(ValueError, match="got 'fast'"):
        ScoreSettings(input="in.jsonl", output="out.jsonl")


def test_the_service_serves_the_default_runtime_and_says_so(exported: tuple[Path, dict], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from narrascope.serve.app import create_app
    from narrascope.serve.testing import isolated_settings

    folder, record = exported
    for runtime, expected in ((None, record["default"]), ("torch", "torch")):
        settings = isolated_settings(folder, tmp_path / str(runtime), runtime=runtime)
        with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
            assert client.get("/v1/model").json()["runtime"] == expected
            body = {"documents": [{"id": "1", "text": TEXTS[-1]}]}
            assert client.post("/v1/score", json=body).status_code == 200


def test_calibrating_an_exported_folder_drops_its_stale_graphs(exported: tuple[Path, dict], tmp_path: Path) -> None:
    """The graphs hold the uncalibrated head: carried over, they would serve other scores than the weights."""
    from narrascope.training.recalibrate import calibrate_folder

    folder, _ = exported
    out = tmp_path / "calibrated"
    calibrate_folder(folder, write_dataset(tmp_path / "data"), out)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))["narrascope"]
    assert "runtime" not in config and "calibration" in config
    assert not (out / "onnx").exists()
    loaded = NarrativeClassifier.load(out)
    assert loaded.backend.name == "torch" and loaded.torch_model is not None
    with pytest.raises(ValueError, match="runtime='torch'"):
        _ = NarrativeClassifier.load(folder, runtime="onnx").torch_model


def test_the_gate_holds_first_class_languages_and_reports_the_rest() -> None:
    from narrascope.training.runtime_gate import judge

    reference = {"test_micro_f1": {"all": 0.9, "en": 0.9, "tr": 0.8}, "articles_micro_f1": {"all": 0.9, "kk": 0.9}}
    small_tr_drop = {
        "test_micro_f1": {"all": 0.895, "en": 0.9, "tr": 0.7},
        "articles_micro_f1": {"all": 0.9, "kk": 0.9},
    }
    verdict = judge(reference, small_tr_drop)
    assert verdict["passed"] and verdict["drops"]["test_micro_f1:tr"] == 0.1  # reported, not gating
    assert verdict["max_drop_at"] == "test_micro_f1:all"
    kk_drop = {"test_micro_f1": {"all": 0.9, "en": 0.9, "tr": 0.8}, "articles_micro_f1": {"all": 0.9, "kk": 0.88}}
    failed = judge(reference, kk_drop)
    assert not failed["passed"] and failed["max_drop_at"] == "articles_micro_f1:kk" and failed["max_drop"] == 0.02
