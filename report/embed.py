"""Document vectors from the project's own multilingual encoder, for grouping documents into stories.

A document's vector is the e5-style mean-pooled state of its first ``max_length`` tokens, with the ``query: ``
prefix e5 was trained with for symmetric similarity (``pooling="document"``, the default). The alternative,
``sentence-mean`` (the normalised mean of every sentence's vector) is blind to sentence order, but on this
project's news it pulls every article towards the topic's centroid: measured on ``bench/story_set.py`` its
best ARI was 0.58 against 0.85 for the document vector (``bench/RESULTS.md``), so it is kept as an option only.
:class:`EmbedSettings` holds everything that changes a vector and is recorded with the story ids.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.model.sentences import split_sentences
from narrascope.paths import default_encoder_dir
from narrascope.training.embeddings import encode_frozen, mean_pooling

POOLINGS = ("sentence-mean", "document")


@dataclass(frozen=True)
class EmbedSettings:
    encoder: Path = field(default_factory=default_encoder_dir)
    prefix: str = "query: "
    pooling: str = "document"
    max_length: int = 128
    max_sentences: int = 64
    batch_size: int = 64
    # Subtract each language's mean vector before clustering (report/centering.py); a language needs this many
    # documents in the feed for its mean to be estimated.
    center_languages: bool = True
    center_min_documents: int = 20

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}")
        if self.center_min_documents < 2:
            raise ValueError(f"center_min_documents must be >= 2, got {self.center_min_documents}")
        if self.max_length < 8 or self.max_sentences < 1 or self.batch_size < 1:
            raise ValueError(
                f"max_length must be >= 8, max_sentences and batch_size >= 1; got {self.max_length}, "
                f"{self.max_sentences}, {self.batch_size}"
            )

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["encoder"] = str(self.encoder)
        return raw


def load_encoder(folder: Path) -> tuple[Any, Any]:
    """The bare encoder (no classification head) and its tokenizer, from a local folder only."""
    from transformers import AutoModel, AutoTokenizer

    if not (Path(folder) / "config.json").is_file():
        raise FileNotFoundError(f"no encoder at {folder}; run `narrascope encoder prepare` first")
    encoder = AutoModel.from_pretrained(str(folder), local_files_only=True)
    encoder.eval()
    return encoder, AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def units(text: str, settings: EmbedSettings) -> list[str]:
    """What is embedded for one document: its first ``max_sentences`` sentences, or the text itself."""
    if settings.pooling == "document":
        return [settings.prefix + " ".join(text.split())]
    sentences = [span.text for span in split_sentences(text)][: settings.max_sentences]
    return [settings.prefix + s for s in sentences] or [settings.prefix + text.strip()]


def embed_texts(
    texts: list[str], settings: EmbedSettings, model: tuple[Any, Any] | None = None, progress: bool = False
) -> np.ndarray:
    """``(len(texts), hidden)`` float32 unit vectors, in input order."""
    encoder, tokenizer = model or load_encoder(settings.encoder)
    pieces: list[str] = []
    owner: list[int] = []
    for index, text in enumerate(texts):
        chunk = units(text, settings)
        pieces.extend(chunk)
        owner.extend([index] * len(chunk))
    hidden = encoder.config.hidden_size
    if not pieces:
        return np.zeros((0, hidden), dtype=np.float32)
    vectors = encode_frozen(
        encoder, tokenizer, pieces, settings.max_length, mean_pooling, progress, "embedding", settings.batch_size
    ).numpy()
    sums = np.zeros((len(texts), hidden), dtype=np.float64)
    np.add.at(sums, np.asarray(owner), vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms == 0, 1.0, norms)).astype(np.float32)
