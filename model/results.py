"""The shape of a scoring result, defined once.

The service returns these models as they are (``serve/schemas.py`` uses them in its response models, so the
OpenAPI schema documents them), the batch jobs derive their output columns and their Parquet schema from
their fields (``batch/columns.py``, ``batch/parquet_parts.py``), and evaluation reads the risk level from
:data:`RiskLevel`. Adding a field here therefore adds it everywhere; nothing restates the shape by hand.

They are pydantic models rather than dataclasses because the API layer needs their JSON schema and the
field descriptions that go with it; the model layer only builds and reads them. Scores are rounded to four
decimals where they are built (``aggregate.py``, ``documents.py``), not when they are written, so every
output carries the same numbers.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RiskLevel = Literal["none", "debunk", "low", "high"]
"""``high``/``low``: the text pushes claims (strongly/weakly); ``debunk``: it rebuts them; ``none``: no claims.
The page's badge texts and colours (``serve/static``) are checked against this by a test."""


class _Result(BaseModel):
    """Immutable once built. Unknown keys are not forbidden: these are response shapes, and a client that was
    generated from the OpenAPI schema must keep working when a field is added."""

    model_config = ConfigDict(frozen=True)


class ModelStamp(_Result):
    """Which model produced a result; batch rows carry it in their ``model`` column."""

    name: str
    version: str


class Evidence(_Result):
    """A sentence that carries a label, with its offsets into the document."""

    start: int
    end: int
    text: str
    score: float


class Risk(_Result):
    """Disinformation risk: driven by claims the text pushes, not by claims it quotes to rebut."""

    level: RiskLevel
    score: float
    claims_pushed: list[str]
    claims_rebutted: list[str]
    counter_labels: list[str]
    claim_sentences: int = Field(description="sentences carrying a claim label")
    counter_sentences: int = Field(description="sentences carrying a counter-narrative label")


class SentenceResult(_Result):
    start: int
    end: int
    text: str
    labels: list[str]
    scores: dict[str, float]


class DocumentResult(_Result):
    """One document's verdict. ``sentences`` is ``None`` when the caller asked for none (batch jobs)."""

    id: str
    language: str = Field(description="ISO 639-1 code (kk whatever the alphabet), or und when undetermined")
    script: str = Field(description="ISO 15924 code of most letters: Latn, Cyrl, Arab...; kk + Latn is Latin Kazakh")
    labels: list[str] = Field(description="labels over their thresholds")
    scores: dict[str, float] = Field(description="every label's probability (its strongest sentence)")
    risk: Risk
    evidence: dict[str, list[Evidence]]
    n_sentences: int
    sentences: list[SentenceResult] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``sentences`` is left out rather than ``null`` when it was not asked for."""
        return self.model_dump(exclude={"sentences"} if self.sentences is None else None)
