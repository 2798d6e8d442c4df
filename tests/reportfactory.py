"""Scored rows shaped like ``narrascope score`` output, built by hand so report numbers can be asserted exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from narrascope.labels import load_taxonomy


def scored_row(
    doc_id: str,
    *,
    date: str | None = "2026-01-05T10:00",
    source: str | None = "Steppe Wire",
    language: str = "en",
    pushed: tuple[str, ...] = (),
    rebutted: tuple[str, ...] = (),
    other: tuple[str, ...] = (),
    story: str | None = None,
    evidence: str | None = None,
) -> dict[str, Any]:
    labels = [*pushed, *rebutted, *other]
    row: dict[str, Any] = {
        "id": doc_id,
        "language": language,
        "labels": labels,
        "scores": {label: 0.9 if label in labels else 0.1 for label in load_taxonomy().ids},
        "risk": {
            "level": "high" if pushed else ("debunk" if rebutted else "none"),
            "score": 0.9 if labels else 0.0,
            "claims_pushed": list(pushed),
            "claims_rebutted": list(rebutted),
            "counter_labels": [],
            "claim_sentences": len(pushed) + len(rebutted),
            "counter_sentences": 0,
        },
        "evidence": {
            label: [{"start": 0, "end": 20, "text": evidence or f"{label} sentence of {doc_id}", "score": 0.9}]
            for label in labels
        },
        "n_sentences": 3,
        "model": {"name": "tiny", "version": "0"},
        "link": f"https://news.example/{doc_id}",
    }
    if date is not None:
        row["date"] = date
    if source is not None:
        row["source"] = source
    if story is not None:
        row["story"] = story
    return row


def write_jsonl(path: Path, rows: list[dict[str, Any]], extra_lines: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) + "".join(extra_lines)
    path.write_text(lines, encoding="utf-8")
    return path


def surge_feed() -> list[dict[str, Any]]:
    """Six quiet days (one war_preparation push in ten documents), then a day where six of ten push it."""
    rows = []
    for day in range(1, 8):
        for n in range(10):
            pushing = n < (6 if day == 7 else (1 if day % 2 else 0))
            rows.append(
                scored_row(
                    f"d{day}-{n}",
                    date=f"2026-01-{day:02d}T{8 + n:02d}:00",
                    source=["Steppe Wire", "Global Mirror"][n % 2],
                    language=["en", "ru"][n % 2],
                    pushed=("war_preparation",) if pushing else (),
                    rebutted=("border_buildup",) if n == 9 else (),
                    other=("reassurance",) if n == 9 else (),
                )
            )
    return rows
