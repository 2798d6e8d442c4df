"""Stored feedback exports as dataset rows that pass the data check; bad rows are found by their structured
problem (file and line), named by their feedback id, and either stop the export or are dropped on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from narrascope.dataset.check import Problem, validate_rows
from narrascope.dataset.feedback import ExportValidationError, export_feedback, feedback_rows
from narrascope.dataset.feedback_store import FeedbackStore
from tests.datafactory import FEEDBACK_SENTENCE, add_feedback


def test_rows_follow_the_dataset_contract(filled_store: FeedbackStore) -> None:
    rows, skipped = feedback_rows(filled_store.iter_all())
    assert [row["id"] for row in rows] == ["feedback-2", "feedback-3", "feedback-4", "feedback-6"]
    by_id = {row["id"]: row for row in rows}
    assert by_id["feedback-3"]["text"] == FEEDBACK_SENTENCE.replace(".", "!")
    assert by_id["feedback-3"]["labels"] == ["reassurance"]
    assert by_id["feedback-3"]["note"] == "second look"
    assert by_id["feedback-2"]["lang"] == "ru"  # detected when the moderator did not say
    assert by_id["feedback-4"]["lang"] == "kk" and by_id["feedback-4"]["hard_negative"] is True
    assert by_id["feedback-4"]["group"].startswith("feedback-doc-")
    for row in rows:
        assert (row["register"], row["source"], row["split"]) == ("moderator_feedback", "feedback", "train")
        assert {"id", "text", "lang", "labels", "group"} <= set(row)
    assert any("superseded" in reason and "feedback-1" in reason for reason in skipped)
    assert any("feedback 5: document with 2 sentences" in reason for reason in skipped)


def test_latin_kazakh_feedback_becomes_a_kk_row_with_its_script(tmp_path: Path) -> None:
    store = FeedbackStore(f"sqlite:///{tmp_path / 'fb.db'}")
    add_feedback(store, "Qazaqstan Reseimen soǵysqa daiyndalyp jatyr degen aqparat jalǵan.", ["reassurance"])
    add_feedback(store, "Қазақстан соғысқа дайындалып жатқан жоқ деген ресми мәлімдеме.", ["reassurance"])
    rows, _ = feedback_rows(store.iter_all())
    assert [(row["lang"], row.get("script")) for row in rows] == [("kk", "Latn"), ("kk", None)]
    assert validate_rows(rows, "feedback.jsonl") == []


def test_export_writes_rows_that_pass_the_data_check(filled_store: FeedbackStore, tmp_path: Path) -> None:
    output = tmp_path / "out" / "feedback.jsonl"
    report = export_feedback(filled_store, output)
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert report.written == len(lines) == 4 and report.problems == [] and report.dropped == {}
    assert validate_rows(lines, str(output)) == []
    with pytest.raises(FileExistsError, match="--force"):
        export_feedback(filled_store, output)
    assert export_feedback(filled_store, output, force=True).written == 4


def test_export_refuses_invalid_rows_unless_told_to_skip(filled_store: FeedbackStore, tmp_path: Path) -> None:
    add_feedback(filled_store, "Some words in a language the dataset does not have.", [], lang="pl")
    output = tmp_path / "feedback.jsonl"
    # The file is not written yet, so the message names the feedback row as well as its would-be line.
    with pytest.raises(ExportValidationError, match=r"feedback.jsonl:5 \(feedback-7\): bad language code 'pl'") as err:
        export_feedback(filled_store, output)
    assert [(p.file, p.line) for p in err.value.problems] == [(str(output), 5)]
    assert not output.exists()
    report = export_feedback(filled_store, output, skip_invalid=True)
    assert report.written == 4
    assert [(p.file, p.line) for p in report.problems] == [(str(output), 5)]
    assert list(report.dropped) == ["feedback-7"] and "bad language code 'pl'" in report.dropped["feedback-7"][0]
    assert all(json.loads(line)["lang"] != "pl" for line in output.read_text().splitlines())


def test_skip_invalid_drops_exactly_the_rows_the_problems_point_at(filled_store: FeedbackStore, tmp_path: Path) -> None:
    """Rows are found from each problem's line, not its text: a validator that flags lines 1 and 3 drops those."""
    seen: list[list[str]] = []

    def flag_first_and_third(rows: list[dict[str, Any]], source: str) -> list[Problem]:
        seen.append([row["id"] for row in rows])
        if len(seen) > 1:
            return []
        return [Problem(source, 1, "first"), Problem(source, 3, "third"), Problem(source, 3, "again")]

    output = tmp_path / "feedback.jsonl"
    report = export_feedback(filled_store, output, skip_invalid=True, validator=flag_first_and_third)
    assert report.dropped == {"feedback-2": ["first"], "feedback-4": ["third", "again"]}
    assert seen[1] == ["feedback-3", "feedback-6"]  # the survivors are checked again
    assert [json.loads(line)["id"] for line in output.read_text().splitlines()] == ["feedback-3", "feedback-6"]


@pytest.mark.parametrize(
    "problem",
    [Problem("other.jsonl", 1, "elsewhere"), Problem("{out}", None, "whole file"), Problem("{out}", 99, "no such row")],
)
def test_a_problem_no_row_can_be_blamed_for_stops_the_export(
    filled_store: FeedbackStore, tmp_path: Path, problem: Problem
) -> None:
    output = tmp_path / "feedback.jsonl"
    located = Problem(problem.file.replace("{out}", str(output)), problem.line, problem.reason)
    with pytest.raises(ExportValidationError, match="cannot tell which row"):
        export_feedback(filled_store, output, skip_invalid=True, validator=lambda rows, source: [located])
    assert not output.exists()
