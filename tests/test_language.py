"""Language identification: lingua plus Latin-script Kazakh, measured on sentences written for these tests.

``tests/data/langid`` holds native sentences about the story in French, German, Turkish, Arabic and Latin
Kazakh (both official alphabets), and Uzbek and Azerbaijani sentences that must not come out as Kazakh.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope.dataset.rows import load_sentences
from narrascope.model.kazakh_latin import latin_variants, shipped_model, transliterate
from narrascope.model.language import (
    DEFAULT_SETTINGS,
    LanguageId,
    LanguageIdSettings,
    detect_language,
    dominant_script,
    identify_language,
)
from narrascope.paths import default_data_dir

LANGID = Path(__file__).resolve().parent / "data" / "langid"


def _lines(name: str) -> list[str]:
    return [line.strip() for line in (LANGID / f"{name}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("name", "tag"), [("fr", "fr"), ("de", "de"), ("tr", "tr"), ("ar", "ar"), ("kk-Latn", "kk-Latn")]
)
def test_other_languages_are_identified(name: str, tag: str) -> None:
    sentences = _lines(name)
    assert len(sentences) >= 20
    found = [identify_language(text).tag for text in sentences]
    accuracy = sum(f == tag for f in found) / len(found)
    assert accuracy >= 0.95, [(t, f) for t, f in zip(sentences, found, strict=True) if f != tag]


@pytest.mark.parametrize("name", ["uz", "az", "tr"])
def test_turkic_neighbours_are_not_taken_for_latin_kazakh(name: str) -> None:
    assert all(identify_language(text).code != "kk" for text in _lines(name))


def test_first_class_languages_on_dataset_sentences() -> None:
    """The dataset's ``lang`` is the gold; every 8th row of each language keeps this test to a second."""
    rows = load_sentences(default_data_dir())[::8]
    for lang in ("en", "ru", "kk", "uk"):
        texts = [row.text for row in rows if row.lang == lang]
        right = sum(detect_language(text) == lang for text in texts)
        assert right / len(texts) >= 0.95, (lang, right, len(texts))


@pytest.mark.parametrize(
    "text",
    [
        "Qazaqstan Reseimen soǵysqa daiyndalyp jatyr",  # the example, 2018 alphabet, й typed as i
        "Qazaqstan Reseımen soğysqa daiyndalyp jatyr degen habar jalğan",  # 2021 alphabet
        "Qazaqstan Reseimen sogysqa daiyndalyp jatyr degen habar jalgan",  # no diacritics at all
    ],
)
def test_latin_kazakh_in_every_alphabet(text: str) -> None:
    assert identify_language(text) == LanguageId("kk", "Latn")
    assert identify_language(text).tag == "kk-Latn"


def test_cyrillic_kazakh_keeps_the_plain_code() -> None:
    found = identify_language("Қазақстан соғысқа дайындалып жатқан жоқ.")
    assert found == LanguageId("kk", "Cyrl") and found.tag == "kk"


@pytest.mark.parametrize("text", ["12345 !!!", "", "ok", "🙂🙂🙂 #", "  \n"])
def test_too_few_letters_is_undetermined(text: str) -> None:
    assert identify_language(text).code == "und"


def test_undetermined_when_two_languages_are_too_close() -> None:
    """A demanding minimum distance leaves a short mixed text undetermined instead of guessing."""
    strict = LanguageIdSettings(min_relative_distance=0.9)
    assert identify_language("Kazakhstan Казахстан", strict).code == "und"
    assert identify_language("Казахстан не готовится к войне, заявили в министерстве обороны.", strict).code == "ru"


def test_scripts_and_hints() -> None:
    assert dominant_script("Қазақстан, Kazakhstan and Astana") == ("Latn", 28)  # most letters, and all of them
    assert dominant_script("123 !")[0] == "Zyyy"
    assert dominant_script("كازاخستان")[0] == "Arab"
    assert LanguageId.from_tag("kk-Latn", "Қазақстан") == LanguageId("kk", "Latn")
    assert LanguageId.from_tag("kk", "Qazaqstan") == LanguageId("kk", "Latn")
    assert LanguageId.from_tag("RU", "Россия") == LanguageId("ru", "Cyrl")


def test_long_texts_are_identified_from_their_beginning() -> None:
    text = "Казахстан не готовится к войне. " * 70 + "The rest of it is English. " * 2000
    assert identify_language(text).code == "ru"
    assert identify_language(text, LanguageIdSettings(sample_chars=100_000)).code != "ru"


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="min_relative_distance"):
        LanguageIdSettings(min_relative_distance=1.5)
    with pytest.raises(ValueError, match="sample_chars"):
        LanguageIdSettings(sample_chars=0)
    assert DEFAULT_SETTINGS.low_accuracy  # chosen on memory: see bench/RESULTS.md


def test_transliteration_matches_the_official_alphabets() -> None:
    assert transliterate("Қазақстан соғысқа дайын", "2018") == "qazaqstan soǵysqa daıyn"
    assert transliterate("Қазақстан соғысқа дайын", "2021") == "qazaqstan soğysqa daiyn"
    assert "qazaqstan sogysqa daiyn" in latin_variants("Қазақстан соғысқа дайын")


def test_the_shipped_table_separates_kazakh_from_turkish() -> None:
    model = shipped_model()
    kazakh = [model.cross_entropy(text) for text in _lines("kk-Latn")]
    turkish = [model.cross_entropy(text) for text in _lines("tr")]
    assert all(score is not None for score in kazakh + turkish)
    assert max(kazakh) < model.threshold < min(turkish)  # type: ignore[type-var]
    assert model.cross_entropy("Qaz") is None  # too short to judge
