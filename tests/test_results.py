"""One definition of the result shape: what the API, the batch formats and the page derive from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pyarrow as pa
import pytest
from pydantic import ValidationError

from narrascope.batch.columns import INT_COLUMNS, NESTED_COLUMNS, OMITTED, SCORE_COLUMNS
from narrascope.batch.parquet_parts import arrow_type
from narrascope.batch.records import Record
from narrascope.batch.scoring import result_row
from narrascope.model.results import DocumentResult, ModelStamp, Risk, RiskLevel
from narrascope.serve.schemas import ScoreResponse
from narrascope.training.evaluate import EXPECTED_RISK

STATIC = Path(__file__).resolve().parent.parent / "serve" / "static"
LEVELS = set(get_args(RiskLevel))


def _result(**changes: object) -> DocumentResult:
    risk = Risk(
        level="debunk",
        score=0.7,
        claims_pushed=[],
        claims_rebutted=["war_preparation"],
        counter_labels=["reassurance"],
        claim_sentences=1,
        counter_sentences=2,
    )
    values: dict[str, object] = {
        "id": "d1",
        "language": "en",
        "script": "Latn",
        "labels": ["war_preparation", "reassurance"],
        "scores": {"war_preparation": 0.7, "reassurance": 0.9},
        "risk": risk,
        "evidence": {},
        "n_sentences": 3,
        **changes,
    }
    return DocumentResult.model_validate(values)


def test_page_spells_exactly_the_python_risk_levels() -> None:
    """app.js cannot import Python; its badge texts and the stylesheet's colours must cover every level."""
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    block = re.search(r"const RISK_TEXT = \{(.*?)\};", script, re.S)
    assert block is not None, "app.js no longer defines RISK_TEXT"
    assert set(re.findall(r"^\s*(\w+):", block.group(1), re.M)) == LEVELS
    styles = (STATIC / "style.css").read_text(encoding="utf-8")
    assert set(re.findall(r"\.risk-(\w+)\s*\{", styles)) - {"row", "badge", "detail", "line"} == LEVELS


def test_evaluation_expects_only_defined_levels() -> None:
    assert {level for levels in EXPECTED_RISK.values() for level in levels} <= LEVELS


def test_an_undefined_risk_level_is_refused() -> None:
    with pytest.raises(ValidationError, match="level"):
        _result(risk={**_result().risk.model_dump(), "level": "severe"})


def test_sentences_are_left_out_unless_asked_for() -> None:
    assert "sentences" not in _result().to_dict()
    assert _result(sentences=[]).to_dict()["sentences"] == []


def test_batch_columns_are_the_result_fields_in_order() -> None:
    kept = [name for name in DocumentResult.model_fields if name not in OMITTED]
    assert list(SCORE_COLUMNS) == [*kept, "model"]
    row = result_row(Record("d1", "text", "in:1", fields={"outlet": "A"}), _result(), ModelStamp(name="m", version="1"))
    assert list(row) == ["id", "outlet", *SCORE_COLUMNS]
    assert row["model"] == {"name": "m", "version": "1"} and row["risk"]["level"] == "debunk"
    assert "n_sentences" in INT_COLUMNS and {"risk", "evidence", "scores", "model"} <= NESTED_COLUMNS


def test_api_results_are_the_model_layer_type() -> None:
    assert ScoreResponse.model_fields["results"].annotation == list[DocumentResult]


def test_arrow_types_follow_the_result_types() -> None:
    """A field added to a result type gets its Parquet type without another edit."""

    class Extended(Risk):
        sources: list[str]
        confidence: float | None = None

    extended = arrow_type(Extended)
    assert isinstance(extended, pa.StructType)
    assert extended.field("sources").type == pa.list_(pa.string())
    assert extended.field("confidence").type == pa.float64()
    assert extended.field("level").type == pa.string()
    assert arrow_type(dict[str, float]) is None  # per-label scores: a struct built from the labels in the rows
    with pytest.raises(TypeError, match="no Arrow type"):
        arrow_type(complex)
