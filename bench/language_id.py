"""Language identification: accuracy, speed and memory of the lingua configurations the service could use.

Each configuration runs in its own Python process, so its resident memory is measured alone: RSS after
importing narrascope's language module (the baseline) and after building the detector (models preloaded)
and identifying every test sentence. Accuracy is on the dataset's sentences (their ``lang`` is the gold;
Cyrillic and English rows, ``--per-language`` of each) and on the native sentences written for the tests in
``tests/data/langid`` (fr, de, tr, ar, Latin-script Kazakh, plus Uzbek and Azerbaijani, which must *not*
come out as Kazakh). Results are appended to ``bench/RESULTS.md``.

    .venv/bin/python bench/language_id.py --per-language 250
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import append_results, machine_facts  # noqa: E402

LANGID_DIR = ROOT / "tests" / "data" / "langid"
CONFIGS = {
    "all languages, high accuracy": {"languages": None, "low_accuracy": False},
    "all languages, low accuracy": {"languages": None, "low_accuracy": True},
    "news subset, high accuracy": {"low_accuracy": False},
    "news subset, low accuracy": {"low_accuracy": True},
    "news subset, low accuracy, min distance 0.1": {"low_accuracy": True, "min_relative_distance": 0.1},
}


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def gold_sentences(per_language: int, seed: int = 0) -> list[tuple[str, str]]:
    """(gold tag, text): dataset rows sampled per language, then every native test sentence."""
    from narrascope.dataset.rows import load_sentences
    from narrascope.paths import default_data_dir

    rows = load_sentences(default_data_dir())
    rng = random.Random(seed)
    pairs: list[tuple[str, str]] = []
    for lang in ("en", "ru", "kk", "uk"):
        texts = [row.text for row in rows if row.lang == lang]
        pairs += [(lang, text) for text in rng.sample(texts, min(per_language, len(texts)))]
    for path in sorted(LANGID_DIR.glob("*.txt")):
        pairs += [(path.stem, line.strip()) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return pairs


def _correct(gold: str, tag: str) -> bool:
    if gold in ("uz", "az"):  # lingua has no Uzbek; both only need to stay apart from Kazakh
        return not tag.startswith("kk") and (gold != "az" or tag == "az")
    return tag == gold


def run_config(config: dict[str, Any], per_language: int) -> dict[str, Any]:
    """In this process: build the detector, identify every sentence, report memory, time and accuracy."""
    from narrascope.model.language import LanguageIdSettings, detector, identify_language

    settings = LanguageIdSettings(**config)
    pairs = gold_sentences(per_language)
    before = _rss_mib()
    start = time.perf_counter()
    detector(settings)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    tags = [identify_language(text, settings).tag for _, text in pairs]
    elapsed = time.perf_counter() - start
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    for (gold, _), tag in zip(pairs, tags, strict=True):
        total[gold] += 1
        if _correct(gold, tag):
            right[gold] += 1
        else:
            misses[f"{gold}->{tag}"] += 1
    return {
        "rss_added_mib": round(_rss_mib() - before, 1),
        "build_s": round(build_s, 2),
        "ms_per_1000": round(1000 * elapsed / len(pairs) * 1000, 1),
        "accuracy": {gold: round(right[gold] / total[gold], 3) for gold in total},
        "n": dict(total),
        "misses": dict(misses.most_common(8)),
    }


def service_rss(model_dir: Path, config: dict[str, Any]) -> dict[str, float]:
    """In this process: RSS with the real model loaded and scoring, then with the detector added as well."""
    from narrascope.model.classifier import NarrativeClassifier
    from narrascope.model.documents import Document, score_documents
    from narrascope.model.language import LanguageIdSettings, detector

    texts = [text for _, text in gold_sentences(25)]
    docs = [Document(id=str(i), text=" ".join(texts[i : i + 8]), lang="en") for i in range(0, len(texts), 8)]
    classifier = NarrativeClassifier.load(model_dir)
    score_documents(classifier, docs)
    with_model = _rss_mib()
    settings = LanguageIdSettings(**config)
    detector(settings)
    score_documents(classifier, [Document(id=d.id, text=d.text) for d in docs])
    return {"model_only_mib": round(with_model, 1), "with_detector_mib": round(_rss_mib(), 1)}


def _table(results: dict[str, dict[str, Any]]) -> str:
    golds = list(next(iter(results.values()))["accuracy"])
    head = "| configuration | RSS added MiB | build s | ms / 1,000 sentences | " + " | ".join(golds) + " |"
    lines = [head, "|" + "---|" * (4 + len(golds))]
    for name, row in results.items():
        accuracy = " | ".join(f"{row['accuracy'][g]:.3f}" for g in golds)
        lines.append(f"| {name} | {row['rss_added_mib']} | {row['build_s']} | {row['ms_per_1000']} | {accuracy} |")
    counts = next(iter(results.values()))["n"]
    lines += ["", "Sentences per column: " + ", ".join(f"{g} {n}" for g, n in counts.items()) + "."]
    for name, row in results.items():
        lines.append(f"- misses, {name}: {row['misses'] or 'none'}")
    return "\n".join(lines)


def _child(*args: str) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh process (so its memory is measured alone); its JSON answer."""
    out = subprocess.run(
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=250, help="dataset sentences per first-class language")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one configuration, print JSON
    parser.add_argument("--model", type=Path, default=None, help="also measure the scoring process RSS with it")
    parser.add_argument("--rss", help=argparse.SUPPRESS)  # internal: service RSS for one configuration
    parser.add_argument("--no-append", action="store_true", help="print the table, do not touch RESULTS.md")
    args = parser.parse_args()
    if args.rss:
        print(json.dumps(service_rss(args.model, CONFIGS[args.rss])))  # noqa: T201
        return 0
    if args.one:
        print(json.dumps(run_config(CONFIGS[args.one], args.per_language)))  # noqa: T201
        return 0
    results = {name: _child("--one", name, "--per-language", str(args.per_language)) for name in CONFIGS}
    markdown = _table(results)
    if args.model is not None:
        markdown += "\n\nScoring process with the model " + str(args.model) + " (RSS MiB, model only -> with detector):"
        for name in CONFIGS:
            row = _child("--rss", name, "--model", str(args.model))
            markdown += f"\n- {name}: {row['model_only_mib']} -> {row['with_detector_mib']}"
    load = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
    markdown += f"\n\nLoad average at the end of the run (1/5/15 min): {' / '.join(load)}."
    print(markdown)  # noqa: T201
    if not args.no_append:
        append_results("Language identification: lingua configurations", markdown, machine_facts())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
