"""The quality gate of an optimised runtime: what it changes against PyTorch fp32, per language.

A faster graph is only a win if moderators get the same answers. Each runtime scores the test sentences
and the article evaluation (``training.articles.evaluate_articles``, dev + test articles) with the folder's
tuned thresholds; a runtime passes when its micro-F1 is at most :data:`MAX_F1_DROP` below torch's on both,
overall and in every first-class language (:data:`GATED`; the other languages' drops are recorded too).
``narrascope export`` records the result (and makes int8 the default only if it passed) and
``narrascope eval`` reports the same table side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from narrascope.dataset.rows import LANGUAGES
from narrascope.dataset.splits import load_splits
from narrascope.labels import load_taxonomy
from narrascope.model.classifier import NarrativeClassifier
from narrascope.training.articles import evaluate_articles
from narrascope.training.metrics import report_by_language
from narrascope.training.thresholds import apply_thresholds

# One point of micro-F1: the most an optimised runtime may cost on any language, test split or articles.
MAX_F1_DROP = 0.01
# The languages the gate holds to that point: overall and the first-class ones. The repost languages and
# Latin-script Kazakh have 12-50 test sentences each, where one changed decision moves micro-F1 by several
# points; their figures are reported beside the others but do not decide the gate.
GATED = ("all", *LANGUAGES)


def _micro_by_language(report: dict[str, Any]) -> dict[str, float]:
    out = {"all": float(report["summary"]["micro_f1"])}
    out.update({lang: float(row["micro_f1"]) for lang, row in report.get("per_language", {}).items()})
    return out


def score_runtime(classifier: NarrativeClassifier, data_dir: Path) -> dict[str, Any]:
    """Micro-F1 overall and per language on the test sentences and on the articles, plus the test probabilities."""
    labels = classifier.labels
    test = load_splits(data_dir, load_taxonomy(), labels)["test"]
    probs = classifier.predict_proba(test.texts)
    report = report_by_language(
        test.targets > 0.5, apply_thresholds(probs, classifier.thresholds, labels), test.languages, labels
    )
    articles = evaluate_articles(classifier, data_dir)
    return {
        "test_micro_f1": _micro_by_language(report),
        "articles_micro_f1": _micro_by_language(articles) if articles else {},
        "probs": probs,
    }


def gate_runtimes(
    classifiers: dict[str, NarrativeClassifier], data_dir: Path, progress: bool = False
) -> dict[str, dict[str, Any]]:
    """Every runtime's figures; the ones other than ``torch`` also get their drops and ``passed``."""
    from tqdm.auto import tqdm

    scored = {
        name: score_runtime(classifier, data_dir)
        for name, classifier in tqdm(classifiers.items(), desc="quality gate", disable=not progress)
    }
    reference = scored["torch"]
    limits = next(iter(classifiers.values())).threshold_vector()
    out: dict[str, dict[str, Any]] = {}
    for name, figures in scored.items():
        row: dict[str, Any] = {key: figures[key] for key in ("test_micro_f1", "articles_micro_f1")}
        if name != "torch":
            changed = (figures["probs"] >= limits) != (reference["probs"] >= limits)
            row.update(judge(reference, figures))
            row["decisions_changed"] = round(float(changed.mean()), 5)
            row["max_probability_change"] = round(float(np.max(np.abs(figures["probs"] - reference["probs"]))), 4)
        out[name] = row
    return out


def judge(reference: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    """Drops against the reference per part and language; the worst gated one decides ``passed``."""
    drops = {
        f"{part}:{lang}": round(reference[part][lang] - value, 4)
        for part in ("test_micro_f1", "articles_micro_f1")
        for lang, value in figures[part].items()
        if lang in reference[part]
    }
    gated = {key: drop for key, drop in drops.items() if key.split(":", 1)[1] in GATED}
    worst = max(gated, key=lambda key: gated[key]) if gated else None
    return {
        "max_drop": gated[worst] if worst else 0.0,
        "max_drop_at": worst,
        "passed": all(drop <= MAX_F1_DROP for drop in gated.values()),
        "drops": drops,
    }


def compare_folder_runtimes(model_dir: Path, data_dir: Path, progress: bool = False) -> dict[str, dict[str, Any]]:
    """The gate over every runtime a folder carries (empty when nothing was exported): ``narrascope eval``."""
    import json

    from narrascope.model.classifier import CONFIG_KEY
    from narrascope.model.runtime import RUNTIME_KEY

    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    files = ((config.get(CONFIG_KEY) or {}).get(RUNTIME_KEY) or {}).get("files") or {}
    if not files:
        return {}
    names = ["torch", *files]
    loaded = {name: NarrativeClassifier.load(model_dir, device="cpu", runtime=name) for name in names}
    return gate_runtimes(loaded, data_dir, progress=progress)


def gate_lines(gate: dict[str, dict[str, Any]]) -> list[str]:
    """A Markdown table of the gate, for the model card and the eval report."""
    lines = [
        f"| runtime | test micro-F1 (all / per language) | article micro-F1 (all / per language) | "
        f"label decisions changed | worst drop | passes (<= {MAX_F1_DROP:.2f}) |",
        "|---|---|---|---:|---:|---|",
    ]
    for name, row in gate.items():

        def fmt(values: dict[str, float]) -> str:
            return ", ".join(f"{lang} {value:.3f}" for lang, value in values.items()) or "n/a"

        if name == "torch":
            tail = "— | — | reference"
        else:
            tail = (
                f"{row['decisions_changed']:.2%} | {row['max_drop']:+.3f} ({row['max_drop_at']}) | "
                f"{'yes' if row['passed'] else '**no**'}"
            )
        lines.append(f"| {name} | {fmt(row['test_micro_f1'])} | {fmt(row['articles_micro_f1'])} | {tail} |")
    return lines
