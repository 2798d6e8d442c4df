"""A broken data rule and where it is, shared by the data check, the challenge suite and the feedback export."""

from __future__ import annotations

from dataclasses import dataclass

from narrascope.dataset.rows import Location


@dataclass(frozen=True)
class Problem:
    """One broken rule and where: ``line`` is ``None`` for rules about a whole file or the whole dataset."""

    file: str
    line: int | None
    reason: str

    @classmethod
    def at(cls, where: Location, reason: str) -> Problem:
        return cls(where.file, where.line, reason)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line is not None else f"{self.file}: {self.reason}"
