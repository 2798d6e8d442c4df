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

from narrascope.dataset.rows import (
    LANGUAGES,
    REGISTERS,
    SENTENCE_FIELDS,
    SPLITS,
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
from narrascope.model.language import SCRIPT_CODES, USUAL_SCRIPT, script_letters


@dataclass(frozen=True)
class BalanceRules:
    """Size and balance quotas; defaults are the project's data contract (issue 3)."""

    min_sentences: int = 3000
    min_per_language: int = 600
    min_label_total: int = 150
    min_label_per_language: int = 25
    min_negative_share: float = 0.25
    min_hard_negative_share: float = 1 / 3
    min_multi_label_share: float = 0.10
    min_registers_per_language: int = 4
    template_prefix_words: int = 4
    template_max_repeats: int = 5
    max_template_share: float = 0.05
    min_articles_per_language: int = 15
    min_article_sentences: int = 5
    max_article_sentences: int = 25

    def __post_init__(self) -> None:
        for name in ("min_negative_share", "min_hard_negative_share", "min_multi_label_share", "max_template_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"BalanceRules.{name} must be within [0, 1], got {value!r}")


NO_RULES = BalanceRules(
    min_sentences=0,
    min_per_language=0,
    min_label_total=0,
    min_label_per_language=0,
    min_negative_share=0.0,
    min_hard_negative_share=0.0,
    min_multi_label_share=0.0,
    min_registers_per_language=0,
    max_template_share=1.0,
    min_articles_per_language=0,
)


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


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    table: str = ""
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _script_problems(obj: dict[str, Any], where: Location) -> list[Problem]:
    """A row's text must be written in the script it claims: the ``script`` field (ISO 15924) where it has one,
    else its language's usual script. Latin-script Kazakh is ``"lang": "kk", "script": "Latn"``, as the API
    reports it. Only a text with no letter of that script is refused: a Russian row may quote a Latin name."""
    script = obj.get("script")
    if script is not None and script not in SCRIPT_CODES:
        return [Problem.at(where, f"unknown script {script!r} (expected one of {', '.join(sorted(SCRIPT_CODES))})")]
    text, lang = obj.get("text"), obj.get("lang")
    expected = script or (USUAL_SCRIPT.get(lang) if isinstance(lang, str) else None)
    if not isinstance(text, str) or expected is None:
        return []
    letters = script_letters(text)
    if letters and not letters[expected]:
        found = letters.most_common(1)[0][0]
        return [Problem.at(where, f'text is in script {found!r} but the row says {expected!r} (set "script")')]
    return []


def _row_problems(obj: dict[str, Any], where: Location, taxonomy: Taxonomy) -> list[Problem]:
    problems = []
    missing = [name for name in SENTENCE_FIELDS if name not in obj]
    if missing:
        problems.append(Problem.at(where, f"missing field(s) {', '.join(missing)}"))
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem.at(where, "empty or whitespace-only text"))
    if obj.get("lang") not in LANGUAGES:
        problems.append(
            Problem.at(where, f"bad language code {obj.get('lang')!r} (expected one of {', '.join(LANGUAGES)})")
        )
    problems += _script_problems(obj, where)
    labels = obj.get("labels")
    if not isinstance(labels, list):
        problems.append(Problem.at(where, f"labels must be a list, got {type(labels).__name__}"))
    else:
        for label in labels:
            if label not in taxonomy:
                problems.append(Problem.at(where, f"unknown label {label!r}"))
        if len(set(labels)) != len(labels):
            problems.append(Problem.at(where, f"repeated label in {labels}"))
    if "register" in obj and obj["register"] not in REGISTERS:
        problems.append(Problem.at(where, f"unknown register {obj['register']!r}"))
    if "split" in obj and obj["split"] not in SPLITS:
        problems.append(Problem.at(where, f"split must be one of {', '.join(SPLITS)}, got {obj['split']!r}"))
    if obj.get("hard_negative") and labels:
        problems.append(Problem.at(where, "hard_negative is only for rows without labels"))
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
    return [
        Problem.at(first[group].location, f"group {group!r} straddles splits {sorted(found)}")
        for group, found in splits.items()
        if len(found) > 1
    ]


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
        if article.lang not in LANGUAGES:
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


def _template_share(rows: list[SentenceRow], rules: BalanceRules) -> float:
    prefixes = Counter(" ".join(normalize_text(r.text).split()[: rules.template_prefix_words]) for r in rows)
    templated = sum(n for n in prefixes.values() if n > rules.template_max_repeats)
    return templated / max(1, len(rows))


def _balance_problems(
    rows: list[SentenceRow], articles: list[Article], taxonomy: Taxonomy, rules: BalanceRules, where: str
) -> list[Problem]:
    """Size and balance quotas; they concern the whole dataset, so the problems carry no line."""
    reasons: list[str] = []
    n = len(rows)
    if n < rules.min_sentences:
        reasons.append(f"{n} sentences, need at least {rules.min_sentences}")
    by_lang = Counter(row.lang for row in rows)
    label_total = Counter(label for row in rows for label in row.labels)
    label_lang = Counter((row.lang, label) for row in rows for label in row.labels)
    for lang in LANGUAGES:
        if by_lang[lang] < rules.min_per_language:
            reasons.append(f"{lang} has {by_lang[lang]} sentences, need at least {rules.min_per_language}")
        registers = {row.register for row in rows if row.lang == lang}
        if len(registers) < rules.min_registers_per_language:
            reasons.append(f"{lang} uses {len(registers)} registers, need at least {rules.min_registers_per_language}")
        n_articles = sum(1 for a in articles if a.lang == lang)
        if n_articles < rules.min_articles_per_language:
            reasons.append(f"{lang} has {n_articles} articles, need at least {rules.min_articles_per_language}")
    for label in taxonomy.ids:
        if label_total[label] < rules.min_label_total:
            reasons.append(f"label {label} has {label_total[label]} sentences, need {rules.min_label_total}")
        for lang in LANGUAGES:
            if label_lang[(lang, label)] < rules.min_label_per_language:
                reasons.append(
                    f"label {label} has {label_lang[(lang, label)]} {lang} sentences, "
                    f"need {rules.min_label_per_language}"
                )
    negatives = [row for row in rows if not row.labels]
    if n and len(negatives) / n < rules.min_negative_share:
        reasons.append(f"{len(negatives) / n:.1%} of sentences have no label, need {rules.min_negative_share:.0%}")
    hard = sum(1 for row in negatives if row.hard_negative)
    if negatives and hard / len(negatives) < rules.min_hard_negative_share:
        reasons.append(
            f"{hard / len(negatives):.1%} of unlabeled sentences are hard negatives, "
            f"need {rules.min_hard_negative_share:.1%}"
        )
    multi = sum(1 for row in rows if len(row.labels) >= 2)
    if n and multi / n < rules.min_multi_label_share:
        reasons.append(f"{multi / n:.1%} of sentences have 2+ labels, need {rules.min_multi_label_share:.0%}")
    share = _template_share(rows, rules)
    if n and share >= rules.max_template_share:
        reasons.append(
            f"{share:.1%} of sentences share their first {rules.template_prefix_words} words with more "
            f"than {rules.template_max_repeats} others, must stay under {rules.max_template_share:.0%}"
        )
    return [Problem(where, None, reason) for reason in reasons]


def count_table(rows: list[SentenceRow], taxonomy: Taxonomy) -> str:
    """Markdown language x label table, with the split sizes; printed by the check and kept in the data card."""
    langs = list(LANGUAGES)
    header = "| label | kind | " + " | ".join(langs) + " | total |"
    lines = [header, "|---|---|" + "---:|" * (len(langs) + 1)]
    for label in taxonomy.labels:
        per = [sum(1 for r in rows if r.lang == lang and label.id in r.labels) for lang in langs]
        lines.append(f"| {label.id} | {label.kind} | " + " | ".join(map(str, per)) + f" | {sum(per)} |")
    for name, pick in (
        ("(no label)", lambda r: not r.labels),
        ("(hard negative)", lambda r: r.hard_negative),
        ("(2+ labels)", lambda r: len(r.labels) >= 2),
        ("(all sentences)", lambda r: True),
    ):
        per = [sum(1 for r in rows if r.lang == lang and pick(r)) for lang in langs]
        lines.append(f"| {name} | | " + " | ".join(map(str, per)) + f" | {sum(per)} |")
    for split in SPLITS:
        per = [sum(1 for r in rows if r.lang == lang and r.split == split) for lang in langs]
        lines.append(f"| split: {split} | | " + " | ".join(map(str, per)) + f" | {sum(per)} |")
    return "\n".join(lines)


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
    report.problems += _balance_problems(rows, articles, taxonomy, rules, str(data_dir))
    report.table = count_table(rows, taxonomy)
    report.counts = {
        "sentences": len(rows),
        "articles": len(articles),
        "by_language": dict(Counter(row.lang for row in rows)),
        "template_share": round(_template_share(rows, rules), 4),
    }
    return report
