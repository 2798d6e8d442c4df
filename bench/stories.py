"""Story clustering measured: pairwise precision/recall/F1 and ARI on ``bench/story_set.py``, plus timings.

For each document pooling (``sentence-mean``, ``document``) the set is embedded once with the real embedded
encoder; then each clustering method and similarity threshold is scored against the gold stories, overall and
by kind of story (recall of re-posts, of cross-lingual stories, of paraphrases). Timings, same run:
embedding per 10,000 documents (extrapolated from the set), clustering 100,000 vectors (the set's vectors
tiled with noise, so neighbourhoods stay realistic), and ``narrascope report`` over 10,000 scored rows.

    .venv/bin/python bench/stories.py                 # appends to bench/RESULTS.md
    .venv/bin/python bench/stories.py --no-append --thresholds 0.9 0.92
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _common import append_results, machine_facts  # noqa: E402
from story_set import EvalDoc, build  # noqa: E402

from narrascope.report.centering import center_by_language  # noqa: E402
from narrascope.report.cluster import METHODS, ClusterSettings, cluster  # noqa: E402
from narrascope.report.embed import EmbedSettings, embed_texts, load_encoder  # noqa: E402


def pairwise(gold: list[str], found: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import adjusted_rand_score
    from sklearn.metrics.cluster import pair_confusion_matrix

    (_, fp), (fn, tp) = pair_confusion_matrix(gold, found) / 2
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "ari": adjusted_rand_score(gold, found)}


def recall_of(docs: list[EvalDoc], found: np.ndarray, kind: str) -> float:
    """Share of same-story pairs of one kind that ended up together."""
    hit = total = 0
    for i, a in enumerate(docs):
        for j in range(i + 1, len(docs)):
            b = docs[j]
            if a.kind == kind and a.story == b.story:
                total += 1
                hit += int(found[i] == found[j])
    return hit / total if total else float("nan")


def scored_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """Synthetic scored rows shaped like `narrascope score` output, for timing the report."""
    rng = random.Random(seed)
    claims = ["war_preparation", "anti_russia_intent", "border_buildup", "foreign_fighters", "western_pivot"]
    others = ["reassurance", "defensive_purpose", "alliance_framing", "peace_diplomacy", "leader_praise"]
    rows = []
    for i in range(count):
        found = rng.sample(claims, rng.randint(0, 2))
        pushed = rng.random() < 0.5
        labels = found + rng.sample(others, rng.randint(0, 2))
        rows.append(
            {
                "id": f"d{i}",
                "date": f"2026-01-{1 + rng.randrange(28):02d}T{rng.randrange(24):02d}:00",
                "source": f"outlet {rng.randrange(40)}",
                "link": f"https://news.example/{i}",
                "language": rng.choice(["en", "ru", "kk", "uk"]),
                "labels": labels,
                "scores": {},
                "risk": {
                    "level": "high" if found and pushed else ("debunk" if found else "none"),
                    "score": 0.9,
                    "claims_pushed": found if pushed else [],
                    "claims_rebutted": [] if pushed else found,
                    "counter_labels": [],
                    "claim_sentences": 1,
                    "counter_sentences": 0,
                },
                "evidence": {
                    label: [{"start": 0, "end": 10, "text": f"sentence {rng.randrange(5000)}", "score": rng.random()}]
                    for label in labels
                },
                "n_sentences": 5,
                "story": f"s{rng.randrange(count // 3)}",
            }
        )
    return rows


def time_report(count: int) -> float:
    import json

    from narrascope.report.build import ReportSettings, build_report

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scored.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in scored_rows(count, 5)), encoding="utf-8")
        began = time.perf_counter()
        build_report(ReportSettings(inputs=[str(path)], output=Path(tmp) / "report"))
        return time.perf_counter() - began


def time_clustering(vectors: np.ndarray, settings: ClusterSettings, count: int) -> float:
    rng = np.random.default_rng(0)
    tiled = np.resize(vectors, (count, vectors.shape[1])) + rng.normal(0, 0.02, (count, vectors.shape[1]))
    tiled = (tiled / np.linalg.norm(tiled, axis=1, keepdims=True)).astype(np.float32)
    began = time.perf_counter()
    cluster(tiled, settings)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.9, 0.92, 0.93, 0.95])
    parser.add_argument("--centred-thresholds", type=float, nargs="+", default=[0.4, 0.45, 0.5, 0.55, 0.6])
    parser.add_argument("--poolings", nargs="+", default=["sentence-mean", "document"])
    parser.add_argument("--scale", type=int, default=100_000, help="vectors for the clustering timing")
    parser.add_argument("--no-append", action="store_true")
    parser.add_argument("--cache", type=Path, default=None, help="keep the set's vectors here (.npz per pooling)")
    args = parser.parse_args(argv)
    docs = build(ROOT / "data")
    gold = [d.story for d in docs]
    model = load_encoder(EmbedSettings().encoder)
    lines = [
        f"Set: {len(docs)} documents, {len(set(gold))} gold stories "
        f"({sum(d.kind == 'repost' for d in docs)} article re-posts, {sum(d.kind == 'crosslingual' for d in docs)} "
        f"cross-lingual, {sum(d.kind == 'paraphrase' for d in docs)} paraphrase documents, "
        f"{sum(d.kind == 'lone' for d in docs)} distractors); encoder: embedded multilingual-e5-small (q4), "
        f"'query: ' prefix; language-centred vectors subtract each language's mean (report/centering.py); "
        f"load average before: {os.getloadavg()[0]:.2f}.",
        "",
        "| pooling | vectors | method | threshold | precision | recall | F1 | ARI | recall re-posts "
        "| recall cross-lingual | recall paraphrases | stories found |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    timings = []
    best: tuple[float, str, str, float, np.ndarray, str] | None = None
    for pooling in args.poolings:
        settings = EmbedSettings(pooling=pooling)
        cached = args.cache / f"{pooling}.npz" if args.cache else None
        if cached is not None and cached.is_file():
            vectors = np.load(cached)["vectors"]
        else:
            began = time.perf_counter()
            vectors = embed_texts([d.text for d in docs], settings, model, progress=True)
            per_10k = (time.perf_counter() - began) / len(docs) * 10_000
            timings.append(f"| embedding ({pooling}) per 10,000 documents | {per_10k:.0f} s |")
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cached, vectors=vectors)
        centred, _ = center_by_language(vectors, [d.lang for d in docs], settings.center_min_documents)
        for space, space_vectors, thresholds in (
            ("plain", vectors, args.thresholds),
            ("language-centred", centred, args.centred_thresholds),
        ):
            for method in METHODS:
                for threshold in thresholds:
                    found = cluster(space_vectors, ClusterSettings(method=method, threshold=threshold))
                    m = pairwise(gold, found)
                    lines.append(
                        f"| {pooling} | {space} | {method} | {threshold:.2f} | {m['precision']:.3f} | "
                        f"{m['recall']:.3f} | {m['f1']:.3f} | {m['ari']:.3f} | "
                        f"{recall_of(docs, found, 'repost'):.3f} | "
                        f"{recall_of(docs, found, 'crosslingual'):.3f} | {recall_of(docs, found, 'paraphrase'):.3f} | "
                        f"{len(set(found.tolist()))} |"
                    )
                    if best is None or m["ari"] > best[0]:
                        best = (m["ari"], pooling, method, threshold, space_vectors, space)
    assert best is not None
    ari, pooling, method, threshold, vectors, space = best
    chosen = ClusterSettings(method=method, threshold=threshold)
    timings.append(
        f"| clustering {args.scale:,} vectors ({method}, HNSW, threshold {threshold:.2f}) | "
        f"{time_clustering(vectors, chosen, args.scale):.1f} s |"
    )
    exact = time_clustering(vectors, chosen, 10_000)
    timings.append(f"| clustering 10,000 vectors ({method}, exact) | {exact:.1f} s |")
    timings.append(f"| `narrascope report` over 10,000 scored rows | {time_report(10_000):.1f} s |")
    lines += [
        "",
        f"Best by ARI: **{pooling} / {space} / {method} / {threshold:.2f}** (ARI {ari:.3f}).",
        "",
        "| timing | seconds |",
        "|---|---:|",
        *timings,
        "",
        f"Load average after: {os.getloadavg()[0]:.2f} on 2 cores.",
    ]
    text = "\n".join(lines)
    print(text)  # noqa: T201
    if not args.no_append:
        append_results("Story clustering: pairwise P/R, ARI and timings", text, machine_facts())
    return 0


if __name__ == "__main__":
    sys.exit(main())
