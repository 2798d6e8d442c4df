"""The challenge suite scored: pass rate per capability (and per language), the failures, and a gate.

F1 on the sentence splits says how often the model is right on text like its training data; the challenge
suite (``data/challenge``, CheckList style) says *which* capabilities hold: neutral news that names the
president, polarity, hedging, long sentences, noise, other scripts and languages, procedure. An item passes
when the predicted label set equals its gold set exactly.

The default model's figures are recorded in ``data/challenge/recorded.json`` (``narrascope challenge
--record``); ``narrascope challenge --gate`` fails when a capability's pass rate falls more than
:data:`GATE_TOLERANCE` below its recorded figure, which is how CI notices a regression.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrascope.dataset.challenge import CAPABILITIES, ChallengeItem, load_challenge
from narrascope.model.classifier import NarrativeClassifier
from narrascope.training.thresholds import apply_thresholds

RECORDED_FILE = "recorded.json"
# A retrained model of the same recipe moves a capability's pass rate by an item or two; more is a regression.
GATE_TOLERANCE = 0.03
TARGET_PASS_RATE = 0.90
TARGET_NEUTRAL_ENTITY_FPR = 0.05


@dataclass(frozen=True)
class Outcome:
    item: ChallengeItem
    predicted: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return sorted(self.predicted) == sorted(self.item.labels)


def score_challenge(classifier: NarrativeClassifier, items: list[ChallengeItem]) -> list[Outcome]:
    """Each item's predicted label set, with the folder's own thresholds (as the service decides)."""
    if not items:
        return []
    probs = classifier.predict_proba([item.text for item in items])
    decided = apply_thresholds(probs, classifier.thresholds, classifier.labels)
    return [
        Outcome(item, tuple(label for label, on in zip(classifier.labels, row, strict=True) if on))
        for item, row in zip(items, decided, strict=True)
    ]


def _rate(outcomes: list[Outcome]) -> dict[str, Any]:
    passed = sum(o.passed for o in outcomes)
    return {"n": len(outcomes), "passed": passed, "pass_rate": passed / len(outcomes) if outcomes else 0.0}


def challenge_report(outcomes: list[Outcome]) -> dict[str, Any]:
    """Pass rates per capability, per capability x language, the neutral-entity false positive rate and the
    failures (what was expected, what came out), ready for ``eval.json`` and the report."""
    by_capability: dict[str, list[Outcome]] = defaultdict(list)
    by_cell: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_capability[outcome.item.capability].append(outcome)
        by_cell[(outcome.item.capability, outcome.item.language)].append(outcome)
    neutral = [o for o in by_capability.get("entity_neutrality", []) if not o.item.labels]
    return {
        "overall": _rate(outcomes),
        "capabilities": {cap: _rate(by_capability[cap]) for cap in CAPABILITIES if by_capability.get(cap)},
        "by_language": {
            cap: {lang: _rate(cell) for (c, lang), cell in sorted(by_cell.items()) if c == cap}
            for cap in CAPABILITIES
            if by_capability.get(cap)
        },
        "neutral_entity_fpr": (sum(bool(o.predicted) for o in neutral) / len(neutral)) if neutral else 0.0,
        "failures": [
            {
                "id": o.item.id,
                "capability": o.item.capability,
                "lang": o.item.language,
                "text": o.item.text,
                "expected": list(o.item.labels),
                "predicted": list(o.predicted),
            }
            for o in outcomes
            if not o.passed
        ],
    }


def evaluate_challenge(classifier: NarrativeClassifier, data_dir: Path) -> dict[str, Any]:
    """The whole suite of ``data_dir`` scored; empty when the dataset has no challenge items."""
    items = load_challenge(data_dir)
    return challenge_report(score_challenge(classifier, items)) if items else {}


def recorded_path(data_dir: Path) -> Path:
    return Path(data_dir) / "challenge" / RECORDED_FILE


def load_recorded(data_dir: Path) -> dict[str, Any] | None:
    """The recorded figures of ``data_dir``'s suite, or None where none were recorded yet."""
    path = recorded_path(data_dir)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def record_figures(report: dict[str, Any], model: dict[str, Any], data_dir: Path) -> Path:
    """Write the figures the gate holds later models to (the default model's, by convention)."""
    path = recorded_path(data_dir)
    figures = {
        "model": {key: model.get(key) for key in ("name", "version", "trained_at")},
        "pass_rate": {cap: round(row["pass_rate"], 4) for cap, row in report["capabilities"].items()},
        "n": {cap: row["n"] for cap, row in report["capabilities"].items()},
        "neutral_entity_fpr": round(report["neutral_entity_fpr"], 4),
    }
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def gate_failures(report: dict[str, Any], recorded: dict[str, Any], tolerance: float = GATE_TOLERANCE) -> list[str]:
    """Every capability whose pass rate fell more than ``tolerance`` below the recorded figure, or is gone."""
    failures = []
    for cap, floor in (recorded.get("pass_rate") or {}).items():
        row = report.get("capabilities", {}).get(cap)
        if row is None:
            failures.append(f"{cap}: recorded at {floor:.1%} but the suite has no such items now")
        elif row["pass_rate"] < floor - tolerance:
            failures.append(
                f"{cap}: {row['pass_rate']:.1%} ({row['passed']}/{row['n']}) against {floor:.1%} recorded "
                f"(tolerance {tolerance:.0%})"
            )
    return failures


def challenge_lines(report: dict[str, Any], recorded: dict[str, Any] | None = None) -> list[str]:
    """The report's Markdown section: a table per capability with the target and the recorded figure."""
    floors = (recorded or {}).get("pass_rate") or {}
    langs = sorted({lang for cells in report["by_language"].values() for lang in cells})
    lines = [
        "",
        f"## Challenge suite ({report['overall']['n']} items; pass = exact label set; target "
        f"{TARGET_PASS_RATE:.0%} per capability)",
        "| capability | pass rate | passed / n | recorded | " + " | ".join(langs) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(langs),
    ]
    for cap, row in report["capabilities"].items():
        cells = report["by_language"][cap]
        per = " | ".join(f"{cells[lang]['pass_rate']:.0%}" if lang in cells else "" for lang in langs)
        floor = f"{floors[cap]:.1%}" if cap in floors else "-"
        lines.append(f"| {cap} | {row['pass_rate']:.1%} | {row['passed']}/{row['n']} | {floor} | {per} |")
    lines.append(
        f"\nNeutral sentences naming the narratives' entities flagged with any label: "
        f"{report['neutral_entity_fpr']:.1%} (target at most {TARGET_NEUTRAL_ENTITY_FPR:.0%})."
    )
    return lines
