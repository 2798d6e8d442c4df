"""Runtimes side by side in one run: what a user would write, our engine on each runtime, and the service.

On one model folder (exported with ``narrascope export --int8``; a copy of the folder is exported when it
was not) and the same inputs, one after the other:

* ``transformers.pipeline("text-classification")`` one text at a time and with ``batch_size=32``;
* our engine (:meth:`NarrativeClassifier.predict_proba`, length-sorted passes of the runtime's saved forward
  budget) on PyTorch fp32, ONNX Runtime fp32 and ONNX Runtime dynamic int8, plus PyTorch dynamic int8 of the
  Linear layers (a losing candidate, measured here only; OpenVINO too when it is installed);
* label decisions changed against PyTorch fp32 and the largest probability change, per runtime;
* the service on the folder's default runtime: single-client p50/p95 of ``/v1/score`` for one 600-word
  article, sentences/s under 32 clients against the batch engine's sentences/s on the same articles, and the
  service's resident memory after warm-up.

Inputs: ``--sentences`` test-split sentences, and 600-word articles built from test sentences of one
language. Results are appended to ``bench/RESULTS.md`` with the machine and the load average.

    .venv/bin/python bench/runtimes.py --model ~/.cache/narrascope/models/default     # or: make bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import append_results, describe_model, machine_facts  # noqa: E402
from narrascope.dataset.splits import load_splits  # noqa: E402
from narrascope.labels import load_taxonomy  # noqa: E402
from narrascope.model.classifier import NarrativeClassifier  # noqa: E402
from narrascope.model.documents import Document, score_documents  # noqa: E402
from narrascope.model.runtime import TorchBackend  # noqa: E402
from narrascope.model.sentences import split_sentences  # noqa: E402
from narrascope.model.threads import use_threads  # noqa: E402
from narrascope.paths import default_data_dir, default_model_dir  # noqa: E402

ARTICLE_WORDS = 600


def test_inputs(data_dir: Path, count: int, articles: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """Test sentences, their languages, and ``articles`` 600-word articles of one language each."""
    test = load_splits(data_dir, load_taxonomy())["test"]
    rng = random.Random(seed)
    order = list(range(len(test.texts)))
    rng.shuffle(order)
    picked = order[:count]
    by_lang: dict[str, list[str]] = {}
    for text, lang in zip(test.texts, test.languages, strict=True):
        by_lang.setdefault(lang, []).append(text)
    langs = sorted(by_lang)
    docs = []
    for i in range(articles):
        pool, words, parts = by_lang[langs[i % len(langs)]], 0, []
        while words < ARTICLE_WORDS:
            sentence = rng.choice(pool)
            parts.append(sentence)
            words += len(sentence.split())
        docs.append(" ".join(parts))
    return [test.texts[i] for i in picked], [test.languages[i] for i in picked], docs


def best_rate(run: Callable[[], Any], items: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return items / best


def pipeline_rates(model_dir: Path, sentences: list[str], one_at_a_time: int, repeats: int) -> dict[str, float]:
    from transformers import pipeline

    clf = pipeline("text-classification", model=str(model_dir), top_k=None, function_to_apply="sigmoid", device="cpu")
    clf(sentences[:8], batch_size=8)
    head = sentences[:one_at_a_time]
    return {
        "pipeline, one text at a time": best_rate(lambda: [clf(text) for text in head], len(head), repeats),
        "pipeline, batch_size=32": best_rate(lambda: clf(sentences, batch_size=32), len(sentences), repeats),
    }


def torch_dynamic_int8(model_dir: Path) -> NarrativeClassifier:
    """The losing candidate: PyTorch dynamic int8 of every Linear layer, behind our engine."""
    import torch

    classifier = NarrativeClassifier.load(model_dir, device="cpu", runtime="torch")
    model = classifier.backend.model  # type: ignore[attr-defined]
    quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    classifier.backend = TorchBackend(quantized, "cpu")
    classifier.backend.name = "torch-int8"  # type: ignore[misc]
    return classifier


def ensure_exported(model_dir: Path, workdir: Path) -> Path:
    config = (model_dir / "config.json").read_text(encoding="utf-8")
    if '"onnx-int8"' in config:
        return model_dir
    from narrascope.training.export import export_model

    copy = workdir / model_dir.name
    shutil.copytree(model_dir, copy)
    export_model(copy, int8=True, data_dir=default_data_dir(), progress=False)
    return copy


def engine_rows(
    model_dir: Path, sentences: list[str], articles: list[str], repeats: int
) -> tuple[list[dict[str, Any]], NarrativeClassifier]:
    classifiers = {
        name: NarrativeClassifier.load(model_dir, device="cpu", runtime=name) for name in ("torch", "onnx", "onnx-int8")
    }
    classifiers["torch-int8 (dynamic Linear)"] = torch_dynamic_int8(model_dir)
    reference = classifiers["torch"].predict_proba(sentences)
    limits = classifiers["torch"].threshold_vector()
    article_sentences = sum(len(split_sentences(text)) for text in articles)
    documents = [Document(str(i), text) for i, text in enumerate(articles)]
    rows = []
    for name, classifier in classifiers.items():
        classifier.predict_proba(sentences[:32])
        probs = classifier.predict_proba(sentences)
        rows.append(
            {
                "path": f"our engine, {name} (forward {classifier.forward_tokens} tokens)",
                "sentences/s": best_rate(lambda c=classifier: c.predict_proba(sentences), len(sentences), repeats),
                "article sentences/s": best_rate(
                    lambda c=classifier: score_documents(c, documents), article_sentences, repeats
                ),
                "changed": float(((probs >= limits) != (reference >= limits)).mean()),
                "max_delta": float(np.max(np.abs(probs - reference))),
            }
        )
    default = NarrativeClassifier.load(model_dir, device="cpu")
    return rows, default


async def service_numbers(model_dir: Path, articles: list[str], clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    from bench.load_test import drive, start_server, wait_ready
    from narrascope.serve.testing import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as work:
        process = start_server(model_dir, port, {}, Path(work))
        try:
            await wait_ready(base, process)
            await drive(base, articles, clients, 3.0, "warm-up")
            latencies = []
            async with httpx.AsyncClient(timeout=60) as client:
                for i in range(40):
                    body = {"documents": [{"id": "a", "text": articles[i % len(articles)]}]}
                    started = time.perf_counter()
                    response = await client.post(f"{base}/v1/score", json=body)
                    response.raise_for_status()
                    latencies.append(time.perf_counter() - started)
            loaded = await drive(base, articles, clients, seconds, f"{clients} clients")
            rss = _rss_mib(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=30)
    q = statistics.quantiles(latencies, n=20)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": q[18] * 1000,
        "clients_sentences_s": loaded.sentences / loaded.seconds,
        "rss_mib": rss,
    }


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def render(
    args: argparse.Namespace,
    model_dir: Path,
    rows: list[dict[str, Any]],
    pipelines: dict[str, float],
    default: NarrativeClassifier,
    batch_rate: float,
    service: dict[str, Any] | None,
) -> str:
    torch_rate = next(r["sentences/s"] for r in rows if "torch (" in r["path"])
    default_row = next(r for r in rows if f", {default.info.runtime} (" in r["path"])
    lines = [
        f"Model: {describe_model(model_dir)}; default runtime **{default.info.runtime}**. Load average before the "
        f"run: {args.load_before}; after: {os.getloadavg()[0]:.2f}. {args.sentences} test-split sentences; "
        f"{args.articles} articles of about {ARTICLE_WORDS} words; best of {args.repeats}; "
        f"{args.threads or 'all'} threads.",
        "",
        "| path | sentences/s (test split) | sentences/s (600-word articles) | label decisions changed vs torch fp32 "
        "| largest probability change |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, rate in pipelines.items():
        lines.append(f"| `transformers.{name}` | {rate:.0f} | — | — | — |")
    for row in rows:
        lines.append(
            f"| {row['path']} | {row['sentences/s']:.0f} | {row['article sentences/s']:.0f} | {row['changed']:.2%} "
            f"| {row['max_delta']:.3f} |"
        )
    bs32 = pipelines.get("pipeline, batch_size=32", float("nan"))
    lines += [
        "",
        f"- Default engine vs torch fp32 engine: **{default_row['sentences/s'] / torch_rate:.2f}x** (target >= 3.5x)",
        f"- Default engine vs `pipeline(batch_size=32)`: **{default_row['sentences/s'] / bs32:.2f}x** (target >= 6x)",
    ]
    if service:
        lines += [
            f"- Service, one 600-word article from an idle single client: p50 {service['p50_ms']:.0f} ms, "
            f"p95 **{service['p95_ms']:.0f} ms** (target <= 150 ms)",
            f"- Service under {args.clients} clients: {service['clients_sentences_s']:.0f} sentences/s vs the batch "
            f"engine's {batch_rate:.0f} on the same articles: **{service['clients_sentences_s'] / batch_rate:.0%}** "
            "(target >= 90%)",
            f"- Service resident memory after warm-up: **{service['rss_mib']:.0f} MiB** (target <= 1536 MiB)",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--sentences", type=int, default=400)
    parser.add_argument("--one-at-a-time", type=int, default=100, help="sentences for the one-at-a-time pipeline")
    parser.add_argument("--articles", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the 32-client service run")
    parser.add_argument("--no-service", action="store_true")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args(argv)
    args.load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    use_threads(args.threads)
    with tempfile.TemporaryDirectory() as work:
        model_dir = ensure_exported(args.model.expanduser(), Path(work))
        sentences, _, articles = test_inputs(default_data_dir(), args.sentences, args.articles, args.seed)
        pipelines = pipeline_rates(model_dir, sentences, args.one_at_a_time, args.repeats)
        rows, default = engine_rows(model_dir, sentences, articles, args.repeats)
        documents = [Document(str(i), text) for i, text in enumerate(articles)]
        article_sentences = sum(len(split_sentences(text)) for text in articles)
        batch_rate = best_rate(lambda: score_documents(default, documents), article_sentences, args.repeats)
        service = (
            None if args.no_service else asyncio.run(service_numbers(model_dir, articles, args.clients, args.duration))
        )
        text = render(args, model_dir, rows, pipelines, default, batch_rate, service)
    sys.stdout.write(text + "\n")
    if not args.no_append:
        append_results("Runtimes side by side (bench/runtimes.py)", text, machine_facts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
