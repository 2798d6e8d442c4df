"""``narrascope eval``: sentence and article metrics, both baselines, plots and ``report.md`` in one run.

Researchers compare models by per-label, per-language numbers; the report puts the model, the baselines and
the targets side by side so a regression is visible without reading JSON.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.dataset.rows import LANGUAGES, LATIN_KAZAKH
from narrascope.dataset.splits import load_splits
from narrascope.labels import load_taxonomy
from narrascope.model.classifier import NarrativeClassifier
from narrascope.training.articles import EXPECTED_RISK, evaluate_articles
from narrascope.training.challenge import (
    TARGET_NEUTRAL_ENTITY_FPR,
    TARGET_PASS_RATE,
    challenge_lines,
    evaluate_challenge,
    load_recorded,
)
from narrascope.training.metrics import multilabel_report, report_by_language
from narrascope.training.provenance import machine_description
from narrascope.training.recalibrate import already_calibrated as classifier_calibration
from narrascope.training.reliability import calibration_lines, calibration_report, plot_reliability
from narrascope.training.runtime_gate import compare_folder_runtimes, gate_lines
from narrascope.training.scoring import evaluate_split
from narrascope.training.thresholds import GRID, apply_thresholds

logger = logging.getLogger(__name__)

TARGET_MACRO = 0.85
TARGET_MACRO_PER_LANGUAGE = 0.80
# Issue 11's idea-held-out targets (micro-F1): overall, first-class languages and Latin-script Kazakh, the rest.
TARGET_IDEA_MICRO = 0.85
TARGET_IDEA_MICRO_PER_LANGUAGE = 0.80
TARGET_IDEA_MICRO_REPOST = 0.75
IDEA_FIRST_CLASS = (*LANGUAGES, LATIN_KAZAKH)


def _idea_targets(idea_report: dict[str, Any] | None) -> dict[str, tuple[float, float]]:
    if not idea_report:
        return {}
    targets = {"idea_micro_f1_overall": (idea_report["summary"]["micro_f1"], TARGET_IDEA_MICRO)}
    for lang, row in idea_report["per_language"].items():
        floor = TARGET_IDEA_MICRO_PER_LANGUAGE if lang in IDEA_FIRST_CLASS else TARGET_IDEA_MICRO_REPOST
        targets[f"idea_micro_f1_{lang}"] = (row["micro_f1"], floor)
    return targets


def _challenge_targets(challenge: dict[str, Any]) -> dict[str, tuple[float, float]]:
    if not challenge:
        return {}
    targets = {
        f"challenge_{cap}": (row["pass_rate"], TARGET_PASS_RATE) for cap, row in challenge["capabilities"].items()
    }
    # Stated as specificity so every target reads "value >= required".
    targets["challenge_neutral_entity_specificity"] = (
        1.0 - challenge["neutral_entity_fpr"],
        1.0 - TARGET_NEUTRAL_ENTITY_FPR,
    )
    return targets


def _plots(
    out: Path,
    test_report: dict[str, Any],
    dev_probs: np.ndarray,
    dev_gold: np.ndarray,
    labels: list[str],
    train_gold: np.ndarray,
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from narrascope.training.metrics import f1_score_1d

    files = []
    langs = list(test_report["per_language"])
    fig, ax = plt.subplots(figsize=(12, 5))
    width = 0.8 / max(1, len(langs))
    for k, lang in enumerate(langs):
        values = [test_report["per_language"][lang]["per_label_f1"][label] for label in labels]
        ax.bar(np.arange(len(labels)) + k * width, values, width, label=lang)
    ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels, rotation=40, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("test F1")
    ax.axhline(TARGET_MACRO_PER_LANGUAGE, color="grey", linestyle="--", linewidth=1)
    ax.legend(ncol=len(langs))
    ax.set_title("Per-label F1 by language (test sentences)")
    fig.tight_layout()
    fig.savefig(out / "f1_by_language.png", dpi=110)
    plt.close(fig)
    files.append("f1_by_language.png")

    fig, ax = plt.subplots(figsize=(9, 5))
    for i, label in enumerate(labels):
        ax.plot(GRID, [f1_score_1d(dev_gold[:, i], dev_probs[:, i] >= t) for t in GRID], label=label)
    ax.set_xlabel("threshold")
    ax.set_ylabel("dev F1")
    ax.set_title("Threshold curves (dev)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "threshold_curves.png", dpi=110)
    plt.close(fig)
    files.append("threshold_curves.png")

    co = train_gold.T.astype(int) @ train_gold.astype(int)
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(np.log1p(co), cmap="viridis")
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(co[i, j]), ha="center", va="center", fontsize=6, color="white")
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    ax.set_title("Label co-occurrence (train)")
    fig.tight_layout()
    fig.savefig(out / "cooccurrence.png", dpi=110)
    plt.close(fig)
    files.append("cooccurrence.png")
    return files


def run_evaluation(
    model_dir: Path, data_dir: Path, output: Path, baselines: bool = True, progress: bool = True
) -> dict[str, Any]:
    from narrascope.training.baselines import BaselineSettings, embedding_baseline, tfidf_baseline
    from narrascope.training.encoder import resolve_base_model

    output.mkdir(parents=True, exist_ok=True)
    classifier = NarrativeClassifier.load(model_dir)
    taxonomy = load_taxonomy()
    if classifier.labels != taxonomy.ids:
        logger.warning("model labels differ from labels/taxonomy.yaml; evaluating the model's own labels")
    labels = classifier.labels
    splits = load_splits(data_dir, taxonomy, labels)
    thresholds = classifier.thresholds
    test = splits["test"]
    test_probs = classifier.predict_proba(test.texts)
    test_report = report_by_language(
        test.targets > 0.5, apply_thresholds(test_probs, thresholds, labels), test.languages, labels
    )
    dev_probs = classifier.predict_proba(splits["dev"].texts)
    idea = splits["idea_test"]
    idea_report = evaluate_split(classifier, idea, thresholds) if idea.texts else None
    challenge = evaluate_challenge(classifier, data_dir)

    systems = {"fine-tuned model": test_report["summary"]}
    baseline_reports: dict[str, Any] = {}
    if baselines:
        meta = (
            json.loads((model_dir / "narrascope.json").read_text(encoding="utf-8"))
            if (model_dir / "narrascope.json").is_file()
            else {}
        )
        training_args = meta.get("training_args") or {}
        base = training_args.get("base_model", "embedded")
        settings = BaselineSettings.for_model(training_args)
        for result in (
            tfidf_baseline(splits, labels, settings),
            embedding_baseline(splits, labels, resolve_base_model(base), settings, progress=progress),
        ):
            pred = apply_thresholds(result["test_probs"], result["thresholds"], labels)
            report = report_by_language(test.targets > 0.5, pred, test.languages, labels)
            report["settings"] = result["settings"]
            baseline_reports[result["name"]] = report
            systems[result["name"]] = report["summary"]
    articles = evaluate_articles(classifier, data_dir)
    runtimes = compare_folder_runtimes(model_dir, data_dir, progress=progress)
    plots = _plots(output, test_report, dev_probs, splits["dev"].targets > 0.5, labels, splits["train"].targets > 0.5)
    calibration = calibration_report(test_probs, test.targets > 0.5, test.languages, labels)
    plots.append(plot_reliability(output, {"model": calibration}))

    # The issue-4 per-language macro target is for the first-class languages; the repost languages' test rows
    # are too few for a macro-F1 over 11 labels and are held to the idea-held-out micro target instead.
    per_lang = {lang: row["macro_f1"] for lang, row in test_report["per_language"].items() if lang in LANGUAGES}
    targets = {
        "macro_f1_overall": (test_report["summary"]["macro_f1"], TARGET_MACRO),
        **{f"macro_f1_{lang}": (value, TARGET_MACRO_PER_LANGUAGE) for lang, value in per_lang.items()},
        **_idea_targets(idea_report),
        **_challenge_targets(challenge),
    }
    beats = {
        name: {
            "micro": test_report["summary"]["micro_f1"] > summary["micro_f1"],
            "macro": test_report["summary"]["macro_f1"] > summary["macro_f1"],
        }
        for name, summary in systems.items()
        if name != "fine-tuned model"
    }
    result = {
        "model": classifier.info.to_dict(),
        "machine": machine_description(),
        "test": test_report,
        "idea_test": idea_report,
        "challenge": challenge,
        "challenge_recorded": load_recorded(data_dir),
        "baselines": baseline_reports,
        "articles": articles,
        "calibration": calibration,
        "calibration_fitted": classifier_calibration(model_dir),
        "runtimes": runtimes,
        "targets": {k: {"value": v, "target": t, "met": v >= t} for k, (v, t) in targets.items()},
        "beats_baselines": beats,
    }
    (output / "eval.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    (output / "report.md").write_text(render_report(result, systems, labels, plots), encoding="utf-8")
    return result


def _idea_lines(idea: dict[str, Any] | None) -> list[str]:
    """The idea-held-out test beside the group-split one: the same metrics on ideas never trained on."""
    if not idea:
        return []
    lines = [
        "",
        "## Idea-held-out test (whole ideas of data/ideas.yaml never trained on)",
        f"- {sum(row['n'] for row in idea['per_language'].values())} sentences: micro-F1 "
        f"{idea['summary']['micro_f1']:.3f}, macro-F1 {idea['summary']['macro_f1']:.3f}",
        "",
        "| language | n | micro-F1 | macro-F1 |",
        "|---|---:|---:|---:|",
    ]
    for lang, row in idea["per_language"].items():
        lines.append(f"| {lang} | {row['n']} | {row['micro_f1']:.3f} | {row['macro_f1']:.3f} |")
    return lines


def _yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def render_report(
    result: dict[str, Any], systems: dict[str, dict[str, Any]], labels: list[str], plots: list[str]
) -> str:
    test = result["test"]
    lines = [
        f"# Evaluation: {result['model']['name']} {result['model']['version']}",
        "",
        f"Model folder: `{result['model']['path']}` (mode: {result['model']['mode']}); machine: {result['machine']}.",
        "",
        "## Systems on the test sentences",
        "| system | micro-F1 | macro-F1 | samples-F1 | exact match |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in systems.items():
        lines.append(
            f"| {name} | {s['micro_f1']:.3f} | {s['macro_f1']:.3f} | {s['samples_f1']:.3f} | {s['exact_match']:.3f} |"
        )
    lines += ["", "## Targets", "| target | value | required | met |", "|---|---:|---:|---|"]
    for name, row in result["targets"].items():
        lines.append(f"| {name} | {row['value']:.3f} | {row['target']:.2f} | {_yes(row['met'])} |")
    for name, beat in result["beats_baselines"].items():
        lines.append(f"\nBeats *{name}*: micro {_yes(beat['micro'])}, macro {_yes(beat['macro'])}.")
    langs = list(test["per_language"])
    lines += [
        "",
        "## Per label (test)",
        "| label | P | R | F1 | support | " + " | ".join(f"F1 {x}" for x in langs) + " |",
    ]
    lines.append("|---|---:|---:|---:|---:|" + "---:|" * len(langs))
    for label in labels:
        row = test["per_label"][label]
        per = " | ".join(f"{test['per_language'][x]['per_label_f1'][label]:.3f}" for x in langs)
        lines.append(
            f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} | {per} |"
        )
    lines += [
        "",
        "## Per language (test)",
        "| language | n | micro-F1 | macro-F1 | samples-F1 |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang, row in test["per_language"].items():
        lines.append(
            f"| {lang} | {row['n']} | {row['micro_f1']:.3f} | {row['macro_f1']:.3f} | {row['samples_f1']:.3f} |"
        )
    lines += _idea_lines(result.get("idea_test"))
    if result.get("challenge"):
        lines += challenge_lines(result["challenge"], result.get("challenge_recorded"))
    articles = result.get("articles") or {}
    if articles:
        s = articles["summary"]
        lines += [
            "",
            "## Articles (dev + test, split by our splitter, aggregated)",
            f"- {s['n']} articles: micro-F1 {s['micro_f1']:.3f}, macro-F1 {s['macro_f1']:.3f}, "
            f"samples-F1 {s['samples_f1']:.3f}",
            f"- Splitter recovers {articles['splitter_span_recall']:.1%} of gold sentence spans exactly.",
            f"- Risk verdict as expected (claim pieces pushed, debunks rebutted, neutral none): "
            f"{articles['risk_accuracy']:.1%}",
            "- Risk level by article kind: "
            + "; ".join(
                f"{kind}: " + ", ".join(f"{level} x{n}" for level, n in sorted(levels.items()))
                for kind, levels in articles["risk_by_kind"].items()
            ),
        ]
    if result.get("calibration"):
        lines += calibration_lines(result["calibration"])
        fitted = result.get("calibration_fitted")
        lines.append(
            f"\nScores are calibrated (fitted on dev, folded into the head: dev ECE >= 0.1 "
            f"{fitted['dev_before']['ece_visible']:.3f} -> {fitted['dev_after']['ece_visible']:.3f})."
            if fitted
            else "\nThis folder is not calibrated (run `narrascope calibrate --model DIR`)."
        )
    if result.get("runtimes"):
        lines += [
            "",
            f"## Runtimes side by side (this report's model numbers: `{result['model']['runtime']}`)",
            *gate_lines(result["runtimes"]),
        ]
    lines += ["", "## Plots", *[f"![{name}]({name})" for name in plots], ""]
    return "\n".join(lines)


__all__ = ["EXPECTED_RISK", "evaluate_articles", "multilabel_report", "render_report", "run_evaluation"]
