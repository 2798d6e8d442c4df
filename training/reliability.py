"""How far scores are from frequencies: per-label and per-language ECE and the reliability diagram.

ECE over every (sentence, label) pair is dominated by near-zero true negatives and looks excellent for any
model; the figure that matters to a moderator is ECE over the scores they see (``>= VISIBLE_SCORE``), so the
report gives both, overall, per label and per language.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.training.calibration import VISIBLE_SCORE, expected_calibration_error, reliability_bins

# The figure the project promises on the test split, overall and in every language.
TARGET_ECE_VISIBLE = 0.05
# Simulated outcome draws for the noise floor (seeded: the report is reproducible).
FLOOR_DRAWS = 200


def noise_floor(probs: np.ndarray, bins: int, seed: int = 13) -> dict[str, float]:
    """ECE (scores >= VISIBLE_SCORE) a *perfectly* calibrated model with these very scores would show, mean and
    95th percentile over outcomes drawn as Bernoulli(score).

    ECE is biased upwards on few scores: with ~150 visible scores per language, sampling noise alone is about
    0.05, so a measured value is only evidence of miscalibration where it clearly exceeds this floor.
    """
    rng = np.random.default_rng(seed)
    draws = [
        expected_calibration_error(probs, rng.random(probs.shape) < probs, bins, VISIBLE_SCORE)[0]
        for _ in range(FLOOR_DRAWS)
    ]
    return {"mean": round(float(np.mean(draws)), 4), "p95": round(float(np.percentile(draws, 95)), 4)}


def _pair(probs: np.ndarray, gold: np.ndarray, bins: int) -> dict[str, Any]:
    ece, n = expected_calibration_error(probs, gold, bins)
    visible, n_visible = expected_calibration_error(probs, gold, bins, VISIBLE_SCORE)
    return {
        "ece": ece,
        "ece_visible": visible,
        "pairs": n,
        "visible_pairs": n_visible,
        "ece_visible_floor": noise_floor(probs, bins),
    }


def calibration_report(
    probs: np.ndarray, gold: np.ndarray, languages: Sequence[str], labels: Sequence[str], bins: int = 10
) -> dict[str, Any]:
    """ECE (all scores and scores ``>= VISIBLE_SCORE``) overall, per label and per language, with the bins."""
    gold = np.asarray(gold, dtype=bool)
    langs = np.asarray(languages)
    report: dict[str, Any] = {
        "visible_score": VISIBLE_SCORE,
        "bins": bins,
        "overall": _pair(probs, gold, bins),
        "per_label": {label: _pair(probs[:, i], gold[:, i], bins) for i, label in enumerate(labels)},
        "per_language": {lang: _pair(probs[langs == lang], gold[langs == lang], bins) for lang in sorted(set(langs))},
        "reliability": reliability_bins(probs, gold, bins),
    }
    worst = max([report["overall"]["ece_visible"]] + [row["ece_visible"] for row in report["per_language"].values()])
    report["target"] = {"ece_visible_max": TARGET_ECE_VISIBLE, "worst": worst, "met": worst <= TARGET_ECE_VISIBLE}
    return report


def calibration_lines(report: dict[str, Any], title: str = "Calibration (test)") -> list[str]:
    """Markdown section of a calibration report."""
    overall = report["overall"]
    cut = report["visible_score"]
    lines = [
        "",
        f"## {title}",
        f"ECE over all {overall['pairs']} (sentence, label) scores: **{overall['ece']:.3f}**; over the "
        f"{overall['visible_pairs']} scores >= {cut} a moderator sees: **{overall['ece_visible']:.3f}** "
        f"(target <= {report['target']['ece_visible_max']} overall and in every language: "
        f"{'met' if report['target']['met'] else '**not met**'}).",
        "",
        f"*Noise floor*: the ECE (scores >= {cut}) a perfectly calibrated model with the same scores would show "
        f"by chance (mean, 95th percentile of {FLOOR_DRAWS} simulated outcome draws); overall it is "
        f"{overall['ece_visible_floor']['mean']:.3f} ({overall['ece_visible_floor']['p95']:.3f}).",
        "",
        f"| slice | ECE | ECE (scores >= {cut}) | noise floor (95th pct) | scores >= {cut} |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in ("per_language", "per_label"):
        for name, row in report[kind].items():
            floor = row["ece_visible_floor"]
            lines.append(
                f"| {name} | {row['ece']:.3f} | {row['ece_visible']:.3f} | {floor['mean']:.3f} ({floor['p95']:.3f}) "
                f"| {row['visible_pairs']} |"
            )
    return lines


def plot_reliability(out: Path, reports: dict[str, dict[str, Any]], filename: str = "reliability.png") -> str:
    """One reliability diagram with a curve per report (a model, or old and new in a comparison)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    for name, report in reports.items():
        cells = report["reliability"]
        ax.plot(
            [c["mean_score"] for c in cells],
            [c["rate"] for c in cells],
            marker="o",
            label=f"{name} (ECE>={report['visible_score']}: {report['overall']['ece_visible']:.3f})",
        )
    ax.set_xlabel("mean score in bin")
    ax.set_ylabel("observed frequency")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Reliability diagram (test, every label)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / filename, dpi=110)
    plt.close(fig)
    return filename
