from __future__ import annotations

import pytest

from narrascope.model.language import detect_language
from narrascope.model.sentences import split_sentences


def _texts(text: str) -> list[str]:
    spans = split_sentences(text)
    for span in spans:
        assert text[span.start : span.end] == span.text
    return [span.text for span in spans]


def test_offsets_round_trip_and_headlines_split_on_newlines() -> None:
    text = "Kazakhstan adopts TO law\n\nDr. Smith said the law is defensive. It was signed on 30 June 2025!"
    assert _texts(text) == [
        "Kazakhstan adopts TO law",
        "Dr. Smith said the law is defensive.",
        "It was signed on 30 June 2025!",
    ]


def test_russian_abbreviations_and_quotes() -> None:
    text = "«Это фейк», — заявили в МО РК. В 2025 г. Мажилис принял закон, т.е. документ ушёл в Сенат. Всё?!"
    assert _texts(text) == [
        "«Это фейк», — заявили в МО РК.",
        "В 2025 г. Мажилис принял закон, т.е. документ ушёл в Сенат.",
        "Всё?!",
    ]


def test_kazakh_initials_and_ukrainian_text() -> None:
    assert _texts("Президент Қ.-Ж. Тоқаев заңға қол қойды. Бұл 7 600 км шекара.") == [
        "Президент Қ.-Ж. Тоқаев заңға қол қойды.",
        "Бұл 7 600 км шекара.",
    ]
    assert _texts("У 2025 р. закон ухвалили. Міноборони Казахстану заперечує «фейки».") == [
        "У 2025 р. закон ухвалили.",
        "Міноборони Казахстану заперечує «фейки».",
    ]


def test_list_items_without_punctuation_and_soft_wraps() -> None:
    text = "Tasks:\n- guarding settlements\n- evacuations\nThe law was passed\nby the Mazhilis in April."
    assert _texts(text) == [
        "Tasks:",
        "- guarding settlements",
        "- evacuations",
        "The law was passed\nby the Mazhilis in April.",
    ]


def test_empty_and_whitespace_text_give_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n ") == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Kazakhstan is not preparing for war.", "en"),
        ("Казахстан не готовится к войне.", "ru"),
        ("Қазақстан соғысқа дайындалып жатқан жоқ.", "kk"),
        ("Казахстан не готується до війни, заявили в Міноборони.", "uk"),
        ("Die Regierung hat das Gesetz beschlossen und damit begonnen.", "de"),
        ("12345 !!!", "und"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang
