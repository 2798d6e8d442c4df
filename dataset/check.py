"""``narrascope data check``: every rule the dataset must satisfy, reported as ``file:line: reason``.

The model can only be as good as its data, so the size and balance rules are checked in CI together with
the row rules; a researcher who adds labels or rows learns at once which quota or row broke. Problems are
structured (:class:`Problem`) so that code acting on them, such as the feedback export dropping bad rows, reads
the file and line instead of parsing the text people see.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrascope.dataset.balance import NO_RULES, BalanceRules, balance_reasons, count_table, template_share
from narrascope.dataset.challenge import challenge_problems
from narrascope.dataset.problems import Problem, content_problems
from narrascope.dataset.rows import (
    ALL_LANGUAGES,
    REGISTERS,
    SENTENCE_FIELDS,
    SPLITS,
    SUBSETS,
    Article,
    Location,
    SentenceRow,
    article_files,
    article_from_json,
    article_layout,
    iter_jsonl,
    normalize_text,
    row_from_json,
    sentence_files,
)
from narrascope.labels import Taxonomy, load_taxonomy


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    table: str = ""
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _row_problems(obj: dict[str, Any], where: Location, taxonomy: Taxonomy) -> list[Problem]:
    problems = []
    missing = [name for name in SENTENCE_FIELDS if name not in obj]
    if missing:
        problems.append(Problem.at(where, f"missing field(s) {', '.join(missing)}"))
    problems += content_problems(obj, where, taxonomy)
    labels = obj.get("labels")
    if "register" in obj and obj["register"] not in REGISTERS:
        problems.append(Problem.at(where, f"unknown register {obj['register']!r}"))
    if "split" in obj and obj["split"] not in SPLITS:
        problems.append(Problem.at(where, f"split must be one of {', '.join(SPLITS)}, got {obj['split']!r}"))
    if obj.get("hard_negative") and labels:
        problems.append(Problem.at(where, "hard_negative is only for rows without labels"))
    if obj.get("subset") is not None and obj["subset"] not in SUBSETS:
        problems.append(Problem.at(where, f"unknown subset {obj['subset']!r} (expected one of {', '.join(SUBSETS)})"))
    for flag in ("noise", "hard_negative"):
        if flag in obj and not isinstance(obj[flag], bool):
            problems.append(Problem.at(where, f"{flag} must be true or false, got {obj[flag]!r}"))
    return problems


def _duplicate_problems(rows: list[SentenceRow]) -> list[Problem]:
    problems = []
    seen_ids: dict[str, Location] = {}
    seen_text: dict[str, SentenceRow] = {}
    for row in rows:
        if row.id in seen_ids:
            problems.append(Problem.at(row.location, f"duplicate id {row.id!r} (first at {seen_ids[row.id]})"))
        seen_ids.setdefault(row.id, row.location)
        key = normalize_text(row.text)
        if key and key in seen_text:
            first = seen_text[key]
            kind = "exact" if first.text == row.text else "near"
            problems.append(Problem.at(row.location, f"{kind} duplicate of {first.id} ({first.location})"))
        seen_text.setdefault(key, row)
    return problems


def validate_rows(rows: list[dict[str, Any]], source: str, taxonomy: Taxonomy | None = None) -> list[Problem]:
    """Row rules only (fields, labels, language, text, duplicates); used for imports and feedback exports."""
    taxonomy = taxonomy or load_taxonomy()
    problems: list[Problem] = []
    parsed = []
    for number, obj in enumerate(rows, 1):
        where = Location(source, number)
        problems += _row_problems(obj, where, taxonomy)
        parsed.append(row_from_json(obj, where))
    return problems + _duplicate_problems(parsed)


def _group_problems(rows: list[SentenceRow]) -> list[Problem]:
    splits: dict[str, set[str]] = defaultdict(set)
    first: dict[str, SentenceRow] = {}
    for row in rows:
        splits[row.group].add(row.split)
        first.setdefault(row.group, row)
    problems = [
        Problem.at(first[group].location, f"group {group!r} straddles splits {sorted(found)}")
        for group, found in splits.items()
        if len(found) > 1
    ]
    return problems + _pair_problems(rows)


def _pair_problems(rows: list[SentenceRow]) -> list[Problem]:
    """A minimal pair is two rows whose small edit changes the labels; both sit in one split, or the test
    would score one member against a twin it was trained on."""
    pairs: dict[str, list[SentenceRow]] = defaultdict(list)
    for row in rows:
        if row.pair is not None:
            pairs[row.pair].append(row)
    problems = []
    for pair, members in pairs.items():
        where = members[0].location
        if len(members) != 2:
            problems.append(Problem.at(where, f"pair {pair!r} has {len(members)} rows, needs exactly 2"))
        elif sorted(members[0].labels) == sorted(members[1].labels):
            problems.append(Problem.at(where, f"pair {pair!r}: both rows have labels {sorted(members[0].labels)}"))
        if len({m.split for m in members}) > 1:
            problems.append(Problem.at(where, f"pair {pair!r} straddles splits {sorted({m.split for m in members})}"))
    return problems


def _article_problems(
    articles: list[Article], rows: list[SentenceRow], taxonomy: Taxonomy, rules: BalanceRules
) -> list[Problem]:
    problems = []
    by_text = {normalize_text(row.text): row for row in rows}
    seen: set[str] = set()
    for article in articles:
        where = article.location
        if article.id in seen:
            problems.append(Problem.at(where, f"duplicate article id {article.id!r}"))
        seen.add(article.id)
        if article.lang not in ALL_LANGUAGES:
            problems.append(Problem.at(where, f"bad language code {article.lang!r}"))
        if article.split not in ("dev", "test"):
            problems.append(Problem.at(where, f"article {article.id} must be in dev or test, not {article.split!r}"))
        if "title" not in article.raw or not isinstance(article.raw.get("paragraphs"), list):
            problems.append(Problem.at(where, "article needs 'title' and a list of 'paragraphs'"))
            continue
        _, sentences = article_layout(article.raw)
        if not rules.min_article_sentences <= len(sentences) <= rules.max_article_sentences:
            problems.append(
                Problem.at(
                    where,
                    f"{len(sentences)} sentences; articles need "
                    f"{rules.min_article_sentences}-{rules.max_article_sentences}",
                )
            )
        union = sorted({label for s in sentences for label in s.labels})
        for label in union:
            if label not in taxonomy:
                problems.append(Problem.at(where, f"unknown label {label!r}"))
        if sorted(article.labels) != union:
            problems.append(
                Problem.at(where, f"article labels {sorted(article.labels)} differ from its sentences' {union}")
            )
        for sentence in sentences:
            if not sentence.text.strip():
                problems.append(Problem.at(where, "empty sentence"))
            twin = by_text.get(normalize_text(sentence.text))
            if twin is not None and twin.split == "train":
                problems.append(
                    Problem.at(
                        twin.location, f"sentence of article {article.id} is in the train split (must be dev/test)"
                    )
                )
    return problems


def check_dataset(data_dir: Path, taxonomy: Taxonomy | None = None, rules: BalanceRules | None = None) -> CheckReport:
    taxonomy = taxonomy or load_taxonomy()
    rules = rules or BalanceRules()
    report = CheckReport()
    rows: list[SentenceRow] = []
    files = sentence_files(data_dir)
    if not files:
        report.problems.append(Problem(f"{data_dir}/sentences", None, "no *.jsonl files"))
    for path in files:
        for where, obj, error in iter_jsonl(path):
            if error or obj is None:
                report.problems.append(Problem.at(where, str(error)))
                continue
            row_problems = _row_problems(obj, where, taxonomy)
            report.problems += row_problems
            if not row_problems:
                rows.append(row_from_json(obj, where))
    articles: list[Article] = []
    for path in article_files(data_dir):
        for where, obj, error in iter_jsonl(path):
            if error or obj is None:
                report.problems.append(Problem.at(where, str(error)))
                continue
            articles.append(article_from_json(obj, where))
    report.problems += _duplicate_problems(rows)
    report.problems += _group_problems(rows)
    report.problems += _article_problems(articles, rows, taxonomy, rules)
    report.problems += challenge_problems(data_dir, rows, articles, taxonomy)
    report.problems += [Problem(str(data_dir), None, r) for r in balance_reasons(rows, articles, taxonomy, rules)]
    report.table = count_table(rows, taxonomy)
    report.counts = {
        "sentences": len(rows),
        "articles": len(articles),
        "by_language": dict(Counter(row.lang for row in rows)),
        "template_share": round(template_share(rows, rules), 4),
    }
    return report


# The check's public names; the quotas and the problem type live in their own modules and are re-exported here.
__all__ = ["NO_RULES", "BalanceRules", "CheckReport", "Problem", "check_dataset", "count_table", "validate_rows"]
