"""The settings that shape a report's numbers, kept free of heavy imports so the CLI can read their defaults.

Every one of them is recorded in the report's ``report.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from narrascope.report.scored import DATE_FIELDS, SOURCE_FIELDS

# Time buckets and their pandas period codes (a week ending on Sunday starts on Monday).
PERIODS = {"day": "D", "week": "W-SUN"}


@dataclass(frozen=True)
class SurgeSettings:
    """When a narrative's share counts as a surge (see the module docstring)."""

    baseline: int = 4
    ratio: float = 2.0
    min_delta: float = 0.1
    min_docs: int = 3
    min_history: int = 2
    max_p: float = 0.01

    def __post_init__(self) -> None:
        if self.baseline < 1 or self.min_history < 1 or self.min_history > self.baseline:
            raise ValueError(
                f"surge baseline must be >= 1 period and min_history within [1, baseline], "
                f"got baseline={self.baseline}, min_history={self.min_history}"
            )
        if not 0 < self.max_p <= 1:
            raise ValueError(f"surge max_p must be within (0, 1], got {self.max_p}")
        if self.ratio < 1 or not 0 <= self.min_delta <= 1 or self.min_docs < 1:
            raise ValueError(
                f"surge ratio must be >= 1, min_delta within [0, 1], min_docs >= 1; got {self.ratio}, "
                f"{self.min_delta}, {self.min_docs}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReportSettings:
    inputs: list[str]
    output: Path
    period: str = "day"
    surges: SurgeSettings = field(default_factory=SurgeSettings)
    story_window_days: float = 7.0
    evidence_per_narrative: int = 5
    date_fields: tuple[str, ...] = DATE_FIELDS
    source_fields: tuple[str, ...] = SOURCE_FIELDS
    title: str = "Narrative report"
    force: bool = False

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError("give at least one scored input (--input)")
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {self.period!r}")
        if self.story_window_days <= 0 or self.evidence_per_narrative < 1:
            raise ValueError("the story window must be positive and evidence per narrative at least 1")

    def to_dict(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["output"] = str(self.output)
        return raw
