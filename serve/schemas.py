"""Request and response models of the HTTP API.

Every input is bounded here (list lengths, string lengths, number ranges), so the OpenAPI schema documents
the limits and oversized input is refused before it reaches the model. The document count and text length
are the exception: the schema documents their absolute ceilings, but the running service enforces its
configured (tighter) limits in :func:`check_score_request` and :func:`check_feedback`, so that an error
quotes the limit that actually applies (64 documents by default, not the ceiling of 256).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from narrascope.model.aggregate import RiskPolicy
from narrascope.model.classifier import RiskPolicySource
from narrascope.model.documents import EVIDENCE_PER_LABEL, Document, ScoringOptions
from narrascope.model.results import DocumentResult, ModelStamp
from narrascope.serve.settings import MAX_DOCUMENT_CHARS_CEILING, MAX_DOCUMENTS_CEILING, Settings

LabelId = Annotated[str, Field(min_length=1, max_length=64)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
LangCode = Annotated[str, Field(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]


# A letter or a digit in any script: Python's Unicode ``\w`` is exactly the characters whose Unicode
# category is L* or N*, plus the underscore (tests/test_serve_edges.py checks every code point against
# ``unicodedata.category``); the regex finds the first one at C speed.
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def has_letter_or_digit(text: str) -> bool:
    """Whether ``text`` has something to score: NULs, zero-width characters and punctuation alone do not."""
    return _LETTER_OR_DIGIT.search(text) is not None


def _lone_surrogate_at(value: str) -> int | None:
    """Position of the first lone surrogate (JSON can escape one, UTF-8 cannot encode it), else ``None``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def _checked_text(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty or whitespace-only")
    if (position := _lone_surrogate_at(value)) is not None:
        raise ValueError(f"text has an invalid character at position {position}")
    if not has_letter_or_digit(value):
        raise ValueError("text has no letters or digits")
    return value


class Strict(BaseModel):
    """Unknown fields are errors, so a typo (``thresold``) fails loudly instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class DocumentIn(Strict):
    id: str | None = Field(default=None, min_length=1, max_length=256, description="defaults to the position")
    text: str = Field(
        description="a sentence or a whole article; at most the configured NARRASCOPE_MAX_DOCUMENT_CHARS",
        json_schema_extra={"maxLength": MAX_DOCUMENT_CHARS_CEILING},  # enforced by check_score_request
    )
    lang: LangCode | None = Field(
        default=None, description="ISO 639-1 code, optionally with a script subtag (kk-Latn); identified if omitted"
    )

    _text = field_validator("text")(_checked_text)


class OptionsIn(Strict):
    thresholds: dict[LabelId, Probability] | None = Field(
        default=None, max_length=64, description="per-label thresholds overriding the tuned ones for this request"
    )
    labels: list[LabelId] | None = Field(default=None, min_length=1, max_length=64, description="only these labels")
    include_sentences: bool = Field(default=True, description="return per-sentence spans, labels and scores")
    evidence_per_label: int = Field(default=EVIDENCE_PER_LABEL, ge=0, le=25)
    high_risk_at: Probability | None = Field(
        default=None,
        description="pushed-claim score from which the risk is high; default: the model's risk policy (GET /v1/model)",
    )

    @field_validator("labels")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("labels repeat an id")
        return value

    def to_domain(self) -> ScoringOptions:
        return ScoringOptions(
            thresholds=self.thresholds,
            labels=self.labels,
            include_sentences=self.include_sentences,
            evidence_per_label=self.evidence_per_label,
            high_risk_at=self.high_risk_at,
        )


class ScoreRequest(Strict):
    documents: list[DocumentIn] = Field(
        min_length=1,
        description="at most the configured NARRASCOPE_MAX_DOCUMENTS; ids must not repeat",
        json_schema_extra={"maxItems": MAX_DOCUMENTS_CEILING},  # enforced by check_score_request
    )
    options: OptionsIn = Field(default_factory=lambda: OptionsIn())

    def to_domain(self) -> list[Document]:
        return [
            Document(id=doc.id if doc.id is not None else str(index), text=doc.text, lang=doc.lang)
            for index, doc in enumerate(self.documents)
        ]


def _too_long(loc: tuple[str | int, ...], limit: int, length: int) -> dict[str, Any]:
    """A pydantic-shaped error for a text over the configured limit (the text itself is never echoed)."""
    return {
        "type": "string_too_long",
        "loc": loc,
        "msg": f"String should have at most {limit} characters, not {length}",
        "input": None,
    }


def _repeated_ids(request: ScoreRequest) -> list[dict[str, Any]]:
    """One error per document whose id (given, or defaulted to its position) an earlier document has."""
    errors: list[dict[str, Any]] = []
    first: dict[str, int] = {}
    for index, doc in enumerate(request.documents):
        doc_id = doc.id if doc.id is not None else str(index)
        if doc_id not in first:
            first[doc_id] = index
            continue
        earlier = first[doc_id]
        given = f"{doc_id!r}" if doc.id is not None else f"the default id {doc_id!r} (its position)"
        if request.documents[earlier].id is not None:
            of_earlier = f"documents[{earlier}].id"
        else:
            of_earlier = f"the default id of documents[{earlier}] (its position)"
        errors.append(
            {"type": "value_error", "loc": ("body", "documents", index, "id"), "msg": f"{given} repeats {of_earlier}"}
        )
    return errors


def check_score_request(request: ScoreRequest, settings: Settings) -> None:
    """Apply the configured limits and unique ids, with the same error shape as schema validation."""
    errors: list[dict[str, Any]] = []
    if len(request.documents) > settings.max_documents:
        errors.append(
            {
                "type": "too_long",
                "loc": ("body", "documents"),
                "msg": f"List should have at most {settings.max_documents} items after validation, "
                f"not {len(request.documents)}",
                "input": None,
            }
        )
    for index, doc in enumerate(request.documents):
        if len(doc.text) > settings.max_document_chars:
            errors.append(_too_long(("body", "documents", index, "text"), settings.max_document_chars, len(doc.text)))
    errors.extend(_repeated_ids(request))
    if errors:
        raise RequestValidationError(errors)


class ModelSummary(ModelStamp):
    """The model that produced the results, and what it was trained from."""

    base_model: str
    trained_at: str | None


class ModelOut(ModelSummary):
    path: str
    mode: str | None
    metrics: dict[str, Any]
    risk_policy: RiskPolicy = Field(description="how labels become the risk verdict; requests may override it")
    risk_policy_source: RiskPolicySource = Field(
        description="'defaults' for a model folder saved before the policy was recorded in it"
    )
    device: str
    runtime: str = Field(description="forward-pass runtime: torch, onnx or onnx-int8 (see narrascope export)")
    labels: list[str]
    loaded_at: float | None = Field(description="Unix time the model started serving")


class ScoreResponse(BaseModel):
    model: ModelSummary
    results: list[DocumentResult]


class LabelOut(BaseModel):
    id: str
    kind: str
    name: str
    description: str
    threshold: float


class LabelsResponse(BaseModel):
    model: ModelSummary
    labels: list[LabelOut]


# Character offsets into a scored document, so never beyond the longest document the API accepts. Strict: a
# float (1e23, 1.0), a boolean or a numeric string is refused rather than coerced; a coerced 1e23 used to
# reach the database and overflow its integer column (a 500).
Offset = Annotated[int, Field(strict=True, ge=0, le=MAX_DOCUMENT_CHARS_CEILING)]


class FeedbackIn(Strict):
    kind: Literal["sentence", "document"] = Field(default="sentence", description="what ``text`` is")
    text: str = Field(json_schema_extra={"maxLength": MAX_DOCUMENT_CHARS_CEILING})  # enforced by check_feedback
    labels: list[LabelId] = Field(max_length=64, description="the corrected labels; empty means none apply")
    predicted: list[LabelId] | None = Field(default=None, max_length=64, description="what the model had said")
    lang: LangCode | None = None
    document_id: str | None = Field(default=None, max_length=256)
    start: Offset | None = Field(default=None, description="offset of a sentence in its document")
    end: Offset | None = Field(default=None, description="end offset (exclusive) of the sentence in its document")
    note: str | None = Field(default=None, max_length=2000)

    _text = field_validator("text")(_checked_text)

    @field_validator("labels")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("labels repeat an id")
        return value

    @model_validator(mode="after")
    def _span(self) -> FeedbackIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be greater than start")
        return self


def check_feedback(body: FeedbackIn, known_labels: Sequence[str], settings: Settings) -> None:
    """Labels must be the served model's (the taxonomy travels with it); text and offsets within the configured
    document limit."""
    errors: list[dict[str, Any]] = [
        {"type": "value_error", "loc": ("body", field, i), "msg": f"unknown label {label!r}", "input": None}
        for field in ("labels", "predicted")
        for i, label in enumerate(getattr(body, field) or [])
        if label not in known_labels
    ]
    if len(body.text) > settings.max_document_chars:
        errors.append(_too_long(("body", "text"), settings.max_document_chars, len(body.text)))
    for field in ("start", "end"):  # the schema allows the ceiling; the service accepts only its configured limit
        offset = getattr(body, field)
        if offset is not None and offset > settings.max_document_chars:
            errors.append(
                {
                    "type": "less_than_equal",
                    "loc": ("body", field),
                    "msg": f"Input should be less than or equal to {settings.max_document_chars} "
                    f"(the longest document this service scores), not {offset}",
                    "input": None,
                }
            )
    if errors:
        raise RequestValidationError(errors)


class FeedbackAck(BaseModel):
    id: int
    status: Literal["stored"] = "stored"


class ReloadRequest(Strict):
    path: str | None = Field(default=None, max_length=4096, description="model folder; default: reload the current one")

    @field_validator("path")
    @classmethod
    def _a_file_system_path(cls, value: str | None) -> str | None:
        """A NUL byte or a lone surrogate can name no file; the OS call would fail with a 500 instead of a 422."""
        if value is None:
            return value
        if "\x00" in value:
            raise ValueError("a path cannot contain a NUL character")
        if _lone_surrogate_at(value) is not None:
            raise ValueError("a path must be valid Unicode (it holds a lone surrogate)")
        return value


class ReloadResponse(BaseModel):
    status: Literal["reloaded", "failed"]
    reason: str | None = None
    serving: dict[str, Any]
    previous: dict[str, Any] | None = None
    labels_changed: bool = False
    seconds: float


class HealthOut(BaseModel):
    status: str
    model: dict[str, Any] | None = None


class ExtractRequest(Strict):
    """A web page as the moderator dropped it; the body limit (NARRASCOPE_MAX_BODY_BYTES) bounds it."""

    html: str = Field(min_length=1, description="the page's markup (UTF-8 text)")

    @field_validator("html")
    @classmethod
    def _encodable(cls, value: str) -> str:
        if (position := _lone_surrogate_at(value)) is not None:
            raise ValueError(f"html has an invalid character at position {position}")
        return value


class ExtractResponse(BaseModel):
    """The page's main content as it would be scored, its metadata, and the language of the text."""

    text: str = Field(description="the article text, one paragraph per line; navigation and footers left out")
    title: str | None = None
    author: str | None = None
    date: str | None = Field(default=None, description="publication date the page states (YYYY-MM-DD)")
    language: str = Field(description="ISO 639-1 code of the text, or und")
    script: str = Field(description="ISO 15924 code of the text's script")
