from __future__ import annotations

import copy
from pathlib import Path

import pytest

from narrascope.dataset.check import NO_RULES, BalanceRules, Problem, check_dataset, validate_rows
from tests.datafactory import article, sentence_rows, write_dataset


def _problems(tmp_path: Path, rows=None, articles=None, rules=NO_RULES) -> list[str]:  # noqa: ANN001
    """The problems as users read them (``file:line: reason``)."""
    return [str(problem) for problem in check_dataset(write_dataset(tmp_path, rows, articles), rules=rules).problems]


def test_valid_small_dataset_passes_with_relaxed_rules(tmp_path: Path) -> None:
    report = check_dataset(write_dataset(tmp_path), rules=NO_RULES)
    assert report.problems == []
    assert "| war_preparation | claim |" in report.table
    assert report.counts["sentences"] == 96


def test_invalid_json_is_reported_with_file_and_line(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    path = tmp_path / "sentences" / "ru.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"id": "broken"'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_dataset(tmp_path, rules=NO_RULES).problems
    assert any(p.file == str(path) and p.line == 3 and p.reason.startswith("invalid JSON") for p in problems), problems
    assert any(str(p).startswith(f"{path}:3: invalid JSON") for p in problems), problems


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("labels", ["war_preparation", "rumour"], "unknown label 'rumour'"),
        ("lang", "pl", "bad language code 'pl'"),
        ("text", "   ", "empty or whitespace-only text"),
        ("split", "holdout", "split must be one of"),
        ("register", "poem", "unknown register"),
        ("script", "Latin", "unknown script 'Latin'"),
        ("text", "Казахстан не готовится к войне.", "text is in script 'Cyrl' but the row says 'Latn'"),
    ],
)
def test_row_rules(tmp_path: Path, field: str, value: object, message: str) -> None:
    rows = sentence_rows()
    rows[5][field] = value
    problems = check_dataset(write_dataset(tmp_path, rows), rules=NO_RULES).problems
    row_file = str(tmp_path / "sentences" / "en.jsonl")  # rows[5] is the sixth English row (also when lang is bad)
    assert any(p.file == row_file and p.line == 6 and message in p.reason for p in problems), problems


def test_latin_kazakh_rows_say_their_script(tmp_path: Path) -> None:
    """A Kazakh row in Latin letters needs ``"script": "Latn"`` (the API's kk + Latn); with it the row is fine."""
    rows = sentence_rows()
    kazakh = next(i for i, row in enumerate(rows) if row["lang"] == "kk")
    rows[kazakh]["text"] = "Qazaqstan Reseimen soǵysqa daiyndalyp jatyr degen aqparat jalǵan."
    problems = _problems(tmp_path / "without", rows)
    assert any("text is in script 'Latn' but the row says 'Cyrl'" in p for p in problems), problems
    rows[kazakh]["script"] = "Latn"
    assert not any("script" in p for p in _problems(tmp_path / "with", rows))


def test_exact_and_near_duplicates(tmp_path: Path) -> None:
    rows = sentence_rows()
    rows[1]["text"] = rows[0]["text"]
    rows[2]["text"] = rows[0]["text"].upper().replace(".", "!")
    problems = _problems(tmp_path, rows)
    assert any("exact duplicate of en-0000" in p for p in problems)
    assert any("near duplicate of en-0000" in p for p in problems)


def test_group_straddling_splits(tmp_path: Path) -> None:
    rows = sentence_rows()
    rows[1]["group"] = rows[0]["group"]
    rows[1]["split"] = "test" if rows[0]["split"] != "test" else "dev"
    assert any("straddles splits" in p for p in _problems(tmp_path, rows))


def test_article_sentence_in_train_and_article_outside_dev_test(tmp_path: Path) -> None:
    rows = sentence_rows()
    first = article("en", 1)
    rows[0]["text"] = first["paragraphs"][0][0]["text"]
    rows[0]["split"] = "train"
    problems = _problems(tmp_path, rows, [first, article("ru", 2, split="train")])
    assert any("sentence of article en-a01 is in the train split" in p for p in problems)
    assert any("article ru-a02 must be in dev or test" in p for p in problems)


def test_article_labels_must_equal_sentence_union(tmp_path: Path) -> None:
    bad = article("kk", 3)
    bad["labels"] = ["war_preparation"]
    assert any("differ from its sentences'" in p for p in _problems(tmp_path, articles=[bad]))


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            BalanceRules(min_sentences=1000, **{k: 0 for k in ("min_per_language", "min_label_total")}),
            "need at least 1000",
        ),
        (BalanceRules(min_per_language=50), "en has 24 sentences"),
        (BalanceRules(min_label_total=100), "sentences, need 100"),
        (BalanceRules(min_label_per_language=5), "need 5"),
        (BalanceRules(min_negative_share=0.5), "have no label, need 50%"),
        (BalanceRules(min_hard_negative_share=0.9), "are hard negatives"),
        (BalanceRules(min_multi_label_share=0.2), "have 2+ labels"),
        (BalanceRules(min_registers_per_language=3), "registers, need at least 3"),
        (BalanceRules(min_articles_per_language=2), "articles, need at least 2"),
    ],
)
def test_each_balance_rule_fails_when_violated(tmp_path: Path, rules: BalanceRules, message: str) -> None:
    relaxed = {k: v for k, v in NO_RULES.__dict__.items()}
    changed = {k: v for k, v in rules.__dict__.items() if v != BalanceRules().__dict__[k]}
    problems = _problems(tmp_path, rules=BalanceRules(**{**relaxed, **changed}))
    assert any(message in p for p in problems), problems


def test_template_rule(tmp_path: Path) -> None:
    rows = sentence_rows()
    for i, row in enumerate(rows[:12]):
        row["text"] = f"Sources say that Kazakhstan number {i} is here."
    problems = _problems(tmp_path, rows, rules=BalanceRules(**{**NO_RULES.__dict__, "max_template_share": 0.05}))
    assert any("share their first 4 words" in p for p in problems), problems


def test_balance_rules_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="min_negative_share"):
        BalanceRules(min_negative_share=1.5)


def test_validate_rows_for_imports() -> None:
    rows = copy.deepcopy(sentence_rows()[:3])
    assert validate_rows(rows, "x.jsonl") == []
    rows[2]["labels"] = ["nope"]
    problems = validate_rows(rows, "x.jsonl")
    assert problems == [Problem("x.jsonl", 3, "unknown label 'nope'")]
    assert [str(problem) for problem in problems] == ["x.jsonl:3: unknown label 'nope'"]


def test_dataset_wide_problems_have_no_line(tmp_path: Path) -> None:
    report = check_dataset(write_dataset(tmp_path), rules=BalanceRules(**{**NO_RULES.__dict__, "min_sentences": 1000}))
    assert report.problems == [Problem(str(tmp_path), None, "96 sentences, need at least 1000")]
    assert str(report.problems[0]) == f"{tmp_path}: 96 sentences, need at least 1000"


def test_problems_are_immutable() -> None:
    problem = Problem("x.jsonl", 1, "unknown label 'nope'")
    with pytest.raises(AttributeError):
        problem.line = 2  # type: ignore[misc]


def test_committed_dataset_passes_the_full_check() -> None:
    data = Path(__file__).resolve().parents[1] / "data"
    report = check_dataset(data)
    assert report.problems == [], "\n".join(map(str, report.problems[:30]))
