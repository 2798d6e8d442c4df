"""Which parts of the graph can be int8 without moving decisions: dynamic quantisation variants side by side.

Full dynamic int8 (every MatMul and the embedding Gathers) fails the quality gate on the default model. This
bench quantises the exported fp32 graph of one model folder several ways, and for each reports the gate's
figures against PyTorch fp32 on the test split and the articles (micro-F1 drop overall and per first-class
language, decisions changed) and sentences/s of our engine on the test sentences, all in one run on one
machine. Results are appended to ``bench/RESULTS.md``.

    .venv/bin/python bench/int8_variants.py --model DIR   # DIR exported with `narrascope export` (fp32 graph)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import append_results, describe_model  # noqa: E402

FIRST_CLASS = ("all", "en", "ru", "kk", "uk")


def _matmuls(graph_path: Path) -> list[str]:
    import onnx

    graph = onnx.load(str(graph_path), load_external_data=False).graph
    return [node.name for node in graph.node if node.op_type in ("MatMul", "Gemm")]


def variants(fp32: Path) -> dict[str, dict[str, Any]]:
    """quantize_dynamic keyword arguments per variant; every variant is per-channel QInt8 weights."""
    names = _matmuls(fp32)
    attention = [n for n in names if "/attention/" in n]
    last_two = [n for n in names if "/layer.10/" in n or "/layer.11/" in n or "pooler" in n or "classifier" in n]
    return {
        "all ops (today's int8)": {},
        "MatMul only (embeddings fp32)": {"op_types_to_quantize": ["MatMul"]},
        "MatMul only, last two layers and head fp32": {
            "op_types_to_quantize": ["MatMul"],
            "nodes_to_exclude": last_two,
        },
        "feed-forward MatMuls only": {"op_types_to_quantize": ["MatMul"], "nodes_to_exclude": attention + last_two},
    }


def _timed(fn: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run(model: Path, data: Path, sentences: int) -> list[str]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from narrascope.model.classifier import NarrativeClassifier
    from narrascope.training.export import ONNX_FILES, evaluation_texts, record_runtime, sha256_of
    from narrascope.training.runtime_gate import MAX_F1_DROP, gate_runtimes

    work = Path(tempfile.mkdtemp(prefix="int8-variants-"))
    folder = work / "model"
    shutil.copytree(model, folder, ignore=shutil.ignore_patterns("eval", "*.checkpoints"))
    fp32 = folder / ONNX_FILES["onnx"]
    int8 = folder / ONNX_FILES["onnx-int8"]
    torch_clf = NarrativeClassifier.load(folder, device="cpu", runtime="torch")
    texts = evaluation_texts(data)[:sentences]
    torch_clf.predict_proba(texts[:32])
    torch_rate = len(texts) / _timed(lambda: torch_clf.predict_proba(texts))
    lines = [
        f"Model: {describe_model(model)}; gate: at most {MAX_F1_DROP:.2f} micro-F1 lost against PyTorch fp32 "
        f"on the test split and the articles, overall and per first-class language; speed on {len(texts)} test "
        f"sentences (PyTorch fp32: {torch_rate:.0f} sentences/s).",
        "",
        "| variant | worst first-class drop (where) | decisions changed | sentences/s | x torch | passes |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, kwargs in variants(fp32).items():
        quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8, **kwargs)
        record_runtime(
            folder,
            {
                "files": {
                    "onnx": {"path": ONNX_FILES["onnx"], "sha256": sha256_of(fp32)},
                    "onnx-int8": {"path": ONNX_FILES["onnx-int8"], "sha256": sha256_of(int8)},
                },
                "default": "torch",
            },
        )
        quantised = NarrativeClassifier.load(folder, device="cpu", runtime="onnx-int8")
        gate = gate_runtimes({"torch": torch_clf, "onnx-int8": quantised}, data)
        reference, row = gate["torch"], gate["onnx-int8"]
        drops = {
            f"{part.split('_')[0]}:{lang}": reference[part][lang] - row[part][lang]
            for part in ("test_micro_f1", "articles_micro_f1")
            for lang in FIRST_CLASS
            if lang in row[part]
        }
        worst = max(drops, key=lambda key: drops[key])
        quantised.predict_proba(texts[:32])
        rate = len(texts) / _timed(lambda c=quantised: c.predict_proba(texts))
        passed = drops[worst] <= MAX_F1_DROP
        lines.append(
            f"| {name} | {drops[worst]:+.3f} ({worst}) | {row['decisions_changed']:.2%} | {rate:.0f} | "
            f"{rate / torch_rate:.2f} | {'yes' if passed else 'no'} |"
        )
        sys.stdout.write(lines[-1] + "\n")
        sys.stdout.flush()
    shutil.rmtree(work)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="a model folder exported with narrascope export")
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--sentences", type=int, default=400)
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args()
    lines = run(args.model, args.data, args.sentences)
    sys.stdout.write("\n".join(lines) + "\n")
    if not args.no_append:
        append_results("int8 variants side by side (bench/int8_variants.py)", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
