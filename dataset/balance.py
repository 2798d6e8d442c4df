"""Size and balance quotas of the dataset, and the language x label count table of the data card.

The quotas concern the whole dataset, not a row, so they are reported without a line. First-class languages
(en, ru, kk, uk) carry the full contract of issue 3; the repost languages (fr, de, tr, ar) and Latin-script
Kazakh carry the smaller contract of issue 11: enough rows that every label and the negatives are seen in
each, so per-language figures mean something.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from narrascope.dataset.rows import (
    ALL_LANGUAGES,
    LANGUAGES,
    LATIN_KAZAKH,
    REPOST_LANGUAGES,
    SPLITS,
    Article,
    SentenceRow,
)
from narrascope.dataset.rows import normalize_text as _normalize
from narrascope.labels import Taxonomy


@dataclass(frozen=True)
class BalanceRules:
    """Size and balance quotas; defaults are the project's data contract (issues 3 and 11)."""

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
    # Repost languages and Latin-script Kazakh (``kk`` + ``script: Latn``).
    min_per_repost_language: int = 80
    min_label_per_repost_language: int = 5
    min_negatives_per_repost_language: int = 20
    min_latin_kazakh: int = 300
    min_label_latin_kazakh: int = 15
    # Rows with realistic noise (typos, emoji, URLs, hashtags, caps), marked ``"noise": true``.
    min_noise_share: float = 0.05

    def __post_init__(self) -> None:
        for name in (
            "min_negative_share",
            "min_hard_negative_share",
            "min_multi_label_share",
            "max_template_share",
            "min_noise_share",
        ):
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
    min_per_repost_language=0,
    min_label_per_repost_language=0,
    min_negatives_per_repost_language=0,
    min_latin_kazakh=0,
    min_label_latin_kazakh=0,
    min_noise_share=0.0,
)


def template_share(rows: list[SentenceRow], rules: BalanceRules) -> float:
    prefixes = Counter(" ".join(_normalize(r.text).split()[: rules.template_prefix_words]) for r in rows)
    templated = sum(n for n in prefixes.values() if n > rules.template_max_repeats)
    return templated / max(1, len(rows))


def _first_class_reasons(
    rows: list[SentenceRow], articles: list[Article], taxonomy: Taxonomy, rules: BalanceRules
) -> list[str]:
    reasons: list[str] = []
    by_lang = Counter(row.lang for row in rows)
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
            if label_lang[(lang, label)] < rules.min_label_per_language:
                reasons.append(
                    f"label {label} has {label_lang[(lang, label)]} {lang} sentences, "
                    f"need {rules.min_label_per_language}"
                )
    return reasons


def _subset_reasons(
    name: str, rows: list[SentenceRow], taxonomy: Taxonomy, minimum: int, per_label: int, negatives: int
) -> list[str]:
    """The smaller contract of a repost language or of Latin-script Kazakh."""
    reasons = []
    if len(rows) < minimum:
        reasons.append(f"{name} has {len(rows)} sentences, need at least {minimum}")
    counts = Counter(label for row in rows for label in row.labels)
    for label in taxonomy.ids:
        if counts[label] < per_label:
            reasons.append(f"label {label} has {counts[label]} {name} sentences, need {per_label}")
    unlabeled = sum(1 for row in rows if not row.labels)
    if unlabeled < negatives:
        reasons.append(f"{name} has {unlabeled} sentences without a label, need {negatives}")
    return reasons


def balance_reasons(
    rows: list[SentenceRow], articles: list[Article], taxonomy: Taxonomy, rules: BalanceRules
) -> list[str]:
    """Every broken quota, as a sentence naming the number found and the number needed."""
    reasons: list[str] = []
    n = len(rows)
    if n < rules.min_sentences:
        reasons.append(f"{n} sentences, need at least {rules.min_sentences}")
    reasons += _first_class_reasons(rows, articles, taxonomy, rules)
    for lang in REPOST_LANGUAGES:
        reasons += _subset_reasons(
            lang,
            [row for row in rows if row.lang == lang],
            taxonomy,
            rules.min_per_repost_language,
            rules.min_label_per_repost_language,
            rules.min_negatives_per_repost_language,
        )
    reasons += _subset_reasons(
        LATIN_KAZAKH,
        [row for row in rows if row.language == LATIN_KAZAKH],
        taxonomy,
        rules.min_latin_kazakh,
        rules.min_label_latin_kazakh,
        rules.min_negatives_per_repost_language,
    )
    label_total = Counter(label for row in rows for label in row.labels)
    for label in taxonomy.ids:
        if label_total[label] < rules.min_label_total:
            reasons.append(f"label {label} has {label_total[label]} sentences, need {rules.min_label_total}")
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
    noisy = sum(1 for row in rows if row.noise)
    if n and noisy / n < rules.min_noise_share:
        reasons.append(f"{noisy / n:.1%} of sentences carry noise, need {rules.min_noise_share:.0%}")
    share = template_share(rows, rules)
    if n and share >= rules.max_template_share:
        reasons.append(
            f"{share:.1%} of sentences share their first {rules.template_prefix_words} words with more "
            f"than {rules.template_max_repeats} others, must stay under {rules.max_template_share:.0%}"
        )
    return reasons


def count_table(rows: list[SentenceRow], taxonomy: Taxonomy) -> str:
    """Markdown language x label table, with the split sizes; printed by the check and kept in the data card.

    Latin-script Kazakh has a column of its own (it is also counted under ``kk``'s quotas, being Kazakh)."""
    present = {row.language for row in rows}
    langs = [lang for lang in (*ALL_LANGUAGES, LATIN_KAZAKH) if lang in present or lang in LANGUAGES]

    def per(pick: Callable[[SentenceRow], bool]) -> list[int]:
        return [sum(1 for r in rows if r.language == lang and pick(r)) for lang in langs]

    def has_label(label: str) -> Callable[[SentenceRow], bool]:
        return lambda r: label in r.labels

    def in_split(split: str) -> Callable[[SentenceRow], bool]:
        return lambda r: r.split == split

    header = "| label | kind | " + " | ".join(langs) + " | total |"
    lines = [header, "|---|---|" + "---:|" * (len(langs) + 1)]
    for label in taxonomy.labels:
        counts = per(has_label(label.id))
        lines.append(f"| {label.id} | {label.kind} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    rows_by: tuple[tuple[str, Callable[[SentenceRow], bool]], ...] = (
        ("(no label)", lambda r: not r.labels),
        ("(hard negative)", lambda r: r.hard_negative),
        ("(2+ labels)", lambda r: len(r.labels) >= 2),
        ("(noise)", lambda r: r.noise),
        ("(all sentences)", lambda r: True),
    )
    for name, pick in rows_by:
        counts = per(pick)
        lines.append(f"| {name} | | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    for split in SPLITS:
        counts = per(in_split(split))
        lines.append(f"| split: {split} | | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |")
    return "\n".join(lines)
