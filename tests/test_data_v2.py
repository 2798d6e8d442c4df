"""Data v2 (issue 11): repost languages, minimal pairs, noise, held-out ideas and the challenge suite's rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from narrascope.dataset.balance import NO_RULES, BalanceRules
from narrascope.dataset.check import check_dataset
from narrascope.dataset.ideas import fold_text, load_ideas
from narrascope.dataset.rows import load_sentences
from narrascope.dataset.splits import resplit_dataset
from tests.datafactory import sentence_rows, write_dataset

IDEAS = """
ideas:
  - id: mercenaries
    description: test idea
    patterns:
      - mercenar|наемни|(zh|j)aldamal
"""


def _row(**fields: Any) -> dict[str, Any]:
    row = {
        "id": "x-1",
        "text": "A sentence about the law.",
        "lang": "en",
        "labels": [],
        "group": "x-g1",
        "register": "wire_news",
        "source": "test",
        "split": "train",
    }
    return {**row, **fields}


def _problems(tmp_path: Path, extra: list[dict[str, Any]], rules: BalanceRules = NO_RULES) -> list[str]:
    folder = write_dataset(tmp_path, sentence_rows(8) + extra)
    return [str(p) for p in check_dataset(folder, rules=rules).problems]


def test_repost_languages_and_latin_kazakh_are_rows_with_their_own_script(tmp_path: Path) -> None:
    rows = [
        _row(id="fr-1", group="fr-g1", lang="fr", text="La loi ne vise aucun pays, selon le ministère."),
        _row(id="ar-1", group="ar-g1", lang="ar", text="القانون لا يستهدف أي دولة، بحسب الوزارة."),
        _row(id="kl-1", group="kl-g1", lang="kk", script="Latn", text="Zañ eşqandai memleketke qarsy emes."),
        _row(id="ar-2", group="ar-g2", lang="ar", text="The law targets no state, the ministry said."),
    ]
    problems = _problems(tmp_path, rows)
    assert len(problems) == 1 and "text is in script 'Latn' but the row says 'Arab'" in problems[0]


def test_a_minimal_pair_needs_two_rows_with_different_labels_in_one_split(tmp_path: Path) -> None:
    rows = [
        _row(
            id="p-1",
            group="p-g1",
            pair="p1",
            text="The ministry denies the law targets Russia.",
            labels=["reassurance"],
        ),
        _row(
            id="p-2", group="p-g2", pair="p1", text="The ministry denies it, but the law targets Russia.", split="test"
        ),
        _row(id="p-3", group="p-g3", pair="p2", text="Only one member of this pair exists."),
        _row(id="p-4", group="p-g4", pair="p3", text="Same labels on both rows of this pair.", labels=["reassurance"]),
        _row(id="p-5", group="p-g5", pair="p3", text="Same labels on both rows, second one.", labels=["reassurance"]),
    ]
    problems = "\n".join(_problems(tmp_path, rows))
    assert "pair 'p1' straddles splits ['test', 'train']" in problems
    assert "pair 'p2' has 1 rows, needs exactly 2" in problems
    assert "pair 'p3': both rows have labels ['reassurance']" in problems
    assert "pair 'p1' has" not in problems  # two rows with different labels are a valid pair


def test_v2_fields_are_validated_and_survive_a_resplit(tmp_path: Path) -> None:
    bad = [_row(id="v-1", group="v-g1", subset="trivia", noise="yes")]
    problems = "\n".join(_problems(tmp_path / "bad", bad))
    assert "unknown subset 'trivia'" in problems and "noise must be true or false, got 'yes'" in problems
    good = [_row(id="v-2", group="v-g2", subset="long", noise=True, note="why", pair="q1")]
    good.append(_row(id="v-3", group="v-g3", pair="q1", text="Another sentence.", labels=["reassurance"]))
    folder = write_dataset(tmp_path / "good", sentence_rows(8) + good)
    resplit_dataset(folder)
    kept = {row.id: row for row in load_sentences(folder)}["v-2"]
    assert (kept.subset, kept.noise, kept.note, kept.pair) == ("long", True, "why", "q1")


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (BalanceRules(**{**NO_RULES.__dict__, "min_per_repost_language": 1}), "fr has 0 sentences, need at least 1"),
        (BalanceRules(**{**NO_RULES.__dict__, "min_latin_kazakh": 1}), "kk-Latn has 0 sentences, need at least 1"),
        (BalanceRules(**{**NO_RULES.__dict__, "min_label_per_repost_language": 1}), "tr sentences, need 1"),
        (BalanceRules(**{**NO_RULES.__dict__, "min_noise_share": 0.5}), "of sentences carry noise, need 50%"),
    ],
)
def test_each_v2_quota_fails_when_violated(tmp_path: Path, rules: BalanceRules, message: str) -> None:
    assert any(message in p for p in _problems(tmp_path, [], rules)), message


def test_folding_lets_one_pattern_match_every_spelling(tmp_path: Path) -> None:
    (tmp_path / "ideas.yaml").write_text(IDEAS, encoding="utf-8")
    (idea,) = load_ideas(tmp_path)
    spellings = ["Jaldamaly äskerler", "JALDAMALI äskerler", "Jaldamalı", "Zhaldamaly", "jaldamaly 🤡 #TO", "НАЁМНИКИ"]
    assert all(idea.matches(s) for s in spellings)
    assert not idea.matches("Jalpy äskerler")
    assert fold_text("Наёмники й ї") == "наемники й ї"  # Cyrillic letters keep their identity
    assert fold_text("Türkiye ŞAQYRU") == "turkiye saqyru"


def test_rows_of_a_held_out_idea_go_to_idea_test_with_their_group_and_pair(tmp_path: Path) -> None:
    ff, kl, rs = ["foreign_fighters"], {"lang": "kk", "script": "Latn"}, ["reassurance"]
    rows = [
        _row(id="i-1", group="i-g1", text="Mercenaries will serve in the new units, channels claim.", labels=ff),
        _row(id="i-2", group="i-g1", text="Channels say foreign fighters will join the units.", labels=ff),
        _row(id="i-3", group="i-g3", pair="ip", text="Jaldamaly äskerler bolmaidy, dedi ministrlik.", labels=rs, **kl),
        _row(id="i-4", group="i-g4", pair="ip", text="Ministrlik jauap bermedi, al äskerler keledi.", **kl),
        _row(
            id="i-5",
            group="i-g5",
            text="Наемники не смогут служить в ТрО, заявили в министерстве.",
            lang="ru",
            labels=rs,
        ),
    ]
    folder = write_dataset(tmp_path, sentence_rows(10) + rows)
    (folder / "ideas.yaml").write_text(IDEAS, encoding="utf-8")
    counts = resplit_dataset(folder)
    split = {row.id: row.split for row in load_sentences(folder)}
    assert {split[i] for i in ("i-1", "i-2", "i-3", "i-4", "i-5")} == {"idea_test"}
    assert counts["idea_test"] == 5 and all(split[r["id"]] != "idea_test" for r in sentence_rows(10))
    assert check_dataset(folder, rules=NO_RULES).ok


def test_a_bad_idea_pattern_names_the_idea(tmp_path: Path) -> None:
    (tmp_path / "ideas.yaml").write_text("ideas:\n  - id: broken\n    patterns: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="idea 'broken' has a bad pattern"):
        load_ideas(tmp_path)
    assert load_ideas(tmp_path / "nowhere") == []


def _challenge(folder: Path, items: list[dict[str, Any]]) -> None:
    (folder / "challenge").mkdir(exist_ok=True)
    lines = [json.dumps(item, ensure_ascii=False) for item in items]
    (folder / "challenge" / "en.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_challenge_items_are_checked_and_never_training_data(tmp_path: Path) -> None:
    rows = sentence_rows(8)
    folder = write_dataset(tmp_path, rows)
    item = {"id": "ch-1", "capability": "polarity", "text": "A new sentence.", "lang": "en", "labels": []}
    _challenge(
        folder,
        [
            item,
            {**item, "text": "Another one."},
            {**item, "id": "ch-2", "capability": "trivia", "labels": ["nonsense"], "text": "Third."},
            {**item, "id": "ch-3", "text": rows[0]["text"].upper()},
        ],
    )
    problems = "\n".join(str(p) for p in check_dataset(folder, rules=NO_RULES).problems)
    assert "duplicate challenge id 'ch-1'" in problems
    assert "unknown capability 'trivia'" in problems and "unknown label 'nonsense'" in problems
    assert f"challenge item repeats sentence {rows[0]['id']}" in problems
    assert "en.jsonl:1:" not in problems  # the first item is valid
