"""The Markdown and the plot of a model comparison (``compare.md``), kept apart from the statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from narrascope.training.reliability import calibration_lines

# How many fixed and broken sentences the Markdown lists (``compare.json`` has all of them).
LISTED_CHANGES = 25


def _row(name: str, cell: dict[str, Any]) -> str:
    flag = {"better": "better", "worse": "**worse**"}.get(cell["change"], "")
    return (
        f"| {name} | {cell['old']:.3f} | {cell['new']:.3f} | {cell['diff']:+.3f} | "
        f"[{cell['ci_low']:+.3f}, {cell['ci_high']:+.3f}] | {flag} |"
    )


def _table(title: str, block: dict[str, Any], labels: list[str], confidence: float) -> list[str]:
    head = f"| | OLD | NEW | NEW - OLD | {confidence:.0%} CI | |"
    lines = ["", f"## {title} ({block['n']} items)", head, "|---|---:|---:|---:|---|---|"]
    lines += [_row("micro-F1", block["micro_f1"]), _row("macro-F1", block["macro_f1"])]
    for lang, row in block["per_stratum"].items():
        lines.append(_row(f"macro-F1 {lang} (n={row['n']})", row["macro_f1"]))
    lines += [_row(label, block["per_label"][label]) for label in labels]
    return lines


def _changes(changed: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [
        "",
        f"## Changed verdicts (test): {len(changed['fixed'])} fixed, {len(changed['broken'])} broken",
        "A (sentence, label) is *fixed* when OLD was wrong and NEW is right, *broken* the reverse.",
    ]
    for kind in ("fixed", "broken"):
        rows = changed[kind]
        if not rows:
            continue
        lines += ["", f"### {kind}", "| label | gold | OLD | NEW | lang | sentence |", "|---|---|---:|---:|---|---|"]
        for row in rows[:LISTED_CHANGES]:
            text = row["text"].replace("|", "\\|")
            lines.append(
                f"| {row['label']} | {'yes' if row['gold'] else 'no'} | {row['old_score']:.2f} | "
                f"{row['new_score']:.2f} | {row['lang']} | {text} |"
            )
        if len(rows) > LISTED_CHANGES:
            lines.append(f"\n... and {len(rows) - LISTED_CHANGES} more in compare.json.")
    return lines


def render_comparison(result: dict[str, Any], labels: list[str], plots: list[str]) -> str:
    confidence = result["bootstrap"]["confidence"]
    lines = [
        f"# Comparison: {result['old']['name']} {result['old']['version']} (OLD) vs "
        f"{result['new']['name']} {result['new']['version']} (NEW)",
        "",
        f"**Verdict: {result['verdict']}.**",
        "",
        f"OLD: `{result['old']['path']}`; NEW: `{result['new']['path']}`; data: `{result['data']['folder']}` "
        f"(test {result['data']['hashes']['test']}, articles {result['data']['hashes']['articles']}).",
        f"Intervals: paired bootstrap, {result['bootstrap']['resamples']} resamples stratified by language, seed "
        f"{result['bootstrap']['seed']}; a change is called only when its {confidence:.0%} interval excludes 0.",
    ]
    if result["warnings"]:
        lines += ["", "**Warnings:**", *[f"- {w}" for w in result["warnings"]]]
    lines += _table("Test sentences (resampling sentences)", result["sentences"], labels, confidence)
    if result["articles"]:
        lines += _table("Articles, dev + test (resampling articles)", result["articles"], labels, confidence)
    lines += _changes(result["changed"])
    for name in ("old", "new"):
        lines += calibration_lines(result["calibration"][name], f"Calibration of {name.upper()} (test)")
    lines += ["", "## Plots", *[f"![{name}]({name})" for name in plots], ""]
    return "\n".join(lines)


def plot_differences(out: Path, sentences: dict[str, Any], labels: list[str]) -> str:
    """Per-label and per-language F1 differences (NEW - OLD) with their intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(label, sentences["per_label"][label]) for label in labels]
    rows += [(f"macro {lang}", row["macro_f1"]) for lang, row in sentences["per_stratum"].items()]
    rows += [("micro-F1", sentences["micro_f1"]), ("macro-F1", sentences["macro_f1"])]
    y = np.arange(len(rows))
    diffs = np.array([cell["diff"] for _, cell in rows])
    low = diffs - np.array([cell["ci_low"] for _, cell in rows])
    high = np.array([cell["ci_high"] for _, cell in rows]) - diffs
    colors = [
        "tab:green" if c["change"] == "better" else "tab:red" if c["change"] == "worse" else "grey" for _, c in rows
    ]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
    for i, color in enumerate(colors):
        ax.errorbar(diffs[i], y[i], xerr=[[low[i]], [high[i]]], fmt="none", ecolor=color, capsize=3)
    ax.scatter(diffs, y, c=colors, zorder=3)
    ax.axvline(0, color="black", linewidth=1)
    ax.set_yticks(y, [name for name, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("F1 difference, NEW - OLD (test sentences), with bootstrap interval")
    fig.tight_layout()
    fig.savefig(out / "f1_difference.png", dpi=110)
    plt.close(fig)
    return "f1_difference.png"
