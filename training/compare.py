"""``narrascope eval --compare OLD NEW``: did the new model (new labels, new settings) get better?

Both models are scored on the same test sentences and the same dev+test articles from one data folder, and
every difference comes with a paired bootstrap interval (``training.bootstrap``): sentences are resampled
for the sentence metrics, articles for the article metrics. The report lists the sentences whose verdict
changed (fixed: the old model was wrong on a label and the new one is right; broken: the reverse) and ends
in a one-line verdict that only calls a change what its interval supports.

Each model folder records a hash per split (``data_hashes`` in ``narrascope.json``). Models whose test or
article hashes differ were measured on different data, which can hide leakage (a re-split moved today's
test sentences into one model's training data), so the comparison refuses unless forced; differing train
data is the expected case (that is what new labels change) and differing dev data is a warning.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.dataset.rows import load_articles
from narrascope.dataset.splits import load_splits, split_hashes
from narrascope.labels import load_taxonomy
from narrascope.model.classifier import METADATA_FILE, NarrativeClassifier
from narrascope.model.documents import Document, score_documents
from narrascope.training.bootstrap import BootstrapSettings, paired_comparison
from narrascope.training.compare_report import plot_differences, render_comparison
from narrascope.training.reliability import calibration_report, plot_reliability
from narrascope.training.thresholds import apply_thresholds

logger = logging.getLogger(__name__)

# Splits whose difference makes two models' numbers incomparable (refused unless forced), and those that warn.
REFUSE_SPLITS = ("test", "articles")
WARN_SPLITS = ("dev",)


class IncomparableModels(ValueError):
    """The two folders were measured on different test or article data; the message names the split."""


def _hashes(folder: Path) -> dict[str, str]:
    path = folder / METADATA_FILE
    meta = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return dict(meta.get("data_hashes") or {})


def data_warnings(old: Path, new: Path, current: dict[str, str], force: bool) -> list[str]:
    """Why the comparison may mislead; raises :class:`IncomparableModels` for a differing test/article split."""
    warnings: list[str] = []
    recorded = {"OLD": _hashes(old), "NEW": _hashes(new)}
    for name, hashes in recorded.items():
        if not hashes:
            warnings.append(f"{name} records no per-split data hashes (trained by an older narrascope); unverified")
    refused = []
    for split in (*REFUSE_SPLITS, *WARN_SPLITS, "train"):
        a, b = recorded["OLD"].get(split), recorded["NEW"].get(split)
        if a and b and a != b:
            if split in REFUSE_SPLITS:
                refused.append(f"the {split} split differs between OLD ({a}) and NEW ({b})")
            elif split in WARN_SPLITS:
                warnings.append(
                    f"the dev split differs ({a} vs {b}): thresholds and calibration were tuned on different data"
                )
        for name, hashes in recorded.items():
            if split in REFUSE_SPLITS and hashes.get(split) and hashes[split] != current[split]:
                warnings.append(
                    f"{name} was measured on a different {split} split ({hashes[split]}) "
                    f"than the data now ({current[split]})"
                )
    if refused and not force:
        raise IncomparableModels("; ".join(refused) + "; pass --force to compare anyway")
    warnings += [f"forced: {reason}" for reason in refused]
    return warnings


def changed_sentences(
    texts: list[str],
    langs: list[str],
    gold: np.ndarray,
    old: dict[str, np.ndarray],
    new: dict[str, np.ndarray],
    labels: list[str],
) -> dict[str, list[dict[str, Any]]]:
    """Every (sentence, label) whose correctness changed, split into fixed and broken."""
    right_old = old["pred"] == gold
    right_new = new["pred"] == gold
    out: dict[str, list[dict[str, Any]]] = {"fixed": [], "broken": []}
    for kind, mask in (("fixed", ~right_old & right_new), ("broken", right_old & ~right_new)):
        for row, col in zip(*np.nonzero(mask), strict=True):
            out[kind].append(
                {
                    "text": texts[row],
                    "lang": langs[row],
                    "label": labels[col],
                    "gold": bool(gold[row, col]),
                    "old_score": round(float(old["probs"][row, col]), 4),
                    "new_score": round(float(new["probs"][row, col]), 4),
                }
            )
    return out


def _articles(classifiers: dict[str, NarrativeClassifier], data_dir: Path, labels: list[str]) -> dict[str, Any]:
    articles = [a for a in load_articles(data_dir) if a.split in ("dev", "test")]
    if not articles:
        return {}
    documents = [Document(a.id, a.text, a.lang) for a in articles]
    gold = np.array([[label in a.labels for label in labels] for a in articles])
    preds = {
        name: np.array([[label in r.labels for label in labels] for r in score_documents(clf, documents)])
        for name, clf in classifiers.items()
    }
    return {"gold": gold, "preds": preds, "langs": [a.lang for a in articles]}


def run_comparison(
    old_dir: Path,
    new_dir: Path,
    data_dir: Path,
    output: Path,
    settings: BootstrapSettings | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Score both models on ``data_dir``'s test split and articles; write ``compare.json``, ``compare.md``, plots."""
    settings = settings or BootstrapSettings()
    current = split_hashes(data_dir)
    warnings = data_warnings(Path(old_dir), Path(new_dir), current, force)
    classifiers = {"old": NarrativeClassifier.load(old_dir), "new": NarrativeClassifier.load(new_dir)}
    labels = classifiers["old"].labels
    if classifiers["new"].labels != labels:
        raise IncomparableModels(
            f"the models have different labels: OLD {labels}, NEW {classifiers['new'].labels}; "
            "compare per label by hand"
        )
    test = load_splits(data_dir, load_taxonomy(), labels)["test"]
    gold = test.targets > 0.5
    scored: dict[str, dict[str, np.ndarray]] = {}
    for name, clf in classifiers.items():
        probs = clf.predict_proba(test.texts)
        scored[name] = {"probs": probs, "pred": apply_thresholds(probs, clf.thresholds, labels)}
    sentences = paired_comparison(gold, scored["old"]["pred"], scored["new"]["pred"], test.languages, labels, settings)
    article_data = _articles(classifiers, data_dir, labels)
    articles = (
        paired_comparison(
            article_data["gold"],
            article_data["preds"]["old"],
            article_data["preds"]["new"],
            article_data["langs"],
            labels,
            settings,
        )
        if article_data
        else {}
    )
    calibration = {
        name: calibration_report(scored[name]["probs"], gold, test.languages, labels) for name in ("old", "new")
    }
    result = {
        "old": classifiers["old"].info.to_dict(),
        "new": classifiers["new"].info.to_dict(),
        "data": {"folder": str(data_dir), "hashes": current},
        "bootstrap": settings.to_dict(),
        "warnings": warnings,
        "sentences": sentences,
        "articles": articles,
        "changed": changed_sentences(test.texts, test.languages, gold, scored["old"], scored["new"], labels),
        "calibration": calibration,
    }
    result["verdict"] = verdict(sentences, labels)
    output.mkdir(parents=True, exist_ok=True)
    plots = [
        plot_differences(output, sentences, labels),
        plot_reliability(output, {"OLD": calibration["old"], "NEW": calibration["new"]}, "reliability_compare.png"),
    ]
    (output / "compare.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    (output / "compare.md").write_text(render_comparison(result, labels, plots), encoding="utf-8")
    for warning in warnings:
        logger.warning("%s", warning)
    return result


def verdict(sentences: dict[str, Any], labels: list[str]) -> str:
    """One line: what the intervals support, per label and per language (sentence metrics)."""
    better = [label for label in labels if sentences["per_label"][label]["change"] == "better"]
    worse = [label for label in labels if sentences["per_label"][label]["change"] == "worse"]
    for lang, row in sentences["per_stratum"].items():
        change = row["macro_f1"]["change"]
        (better if change == "better" else worse if change == "worse" else []).append(f"macro-F1 {lang}")
    for key in ("micro_f1", "macro_f1"):
        change = sentences[key]["change"]
        name = key.replace("_f1", "-F1")
        (better if change == "better" else worse if change == "worse" else []).append(name)
    parts = []
    if better:
        parts.append("better on " + ", ".join(better))
    if worse:
        parts.append("worse on " + ", ".join(worse))
    parts.append("no significant change elsewhere" if parts else "no significant change")
    return ", ".join(parts)
