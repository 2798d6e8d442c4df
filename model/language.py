"""Language identification: lingua for the language, Unicode for the script, a trigram model for Latin Kazakh.

Results are ISO 639-1 codes (``en``, ``kk``, ``fr``, ``ar``...) plus, separately, the ISO 15924 code of the
script most of the letters are in (``Latn``, ``Cyrl``, ``Arab``...). Kazakh is ``kk`` whatever its alphabet,
so per-language metrics, the dataset's ``lang`` and the API agree; ``script`` says which alphabet
(``kk`` + ``Latn`` is Latin-script Kazakh). :attr:`LanguageId.tag` joins them BCP 47 style (``kk-Latn``)
where the script is not the language's usual one.

``und`` (undetermined) is returned when a text has fewer than ``min_letters`` letters, or when lingua cannot
tell its two most likely languages apart by ``min_relative_distance`` (short or mixed-language texts), or
when it names a language without an ISO 639-1 code. Such texts are still scored: the encoder is multilingual.

lingua is used (not a hand-written alphabet rule) because it tells apart 75 languages from short texts, and
Latin-script Kazakh is added on top (``model/kazakh_latin.py``) because lingua knows Kazakh only in Cyrillic.
Which languages lingua loads and in which mode changes results, memory and speed; the defaults below were
chosen on the numbers in ``bench/RESULTS.md`` (``bench/language_id.py``).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from narrascope.model.kazakh_latin import shipped_model

if TYPE_CHECKING:
    from lingua import LanguageDetector

UNDETERMINED = "und"
COMMON_SCRIPT = "Zyyy"  # ISO 15924 for "no particular script": digits and punctuation only
# Unicode character-name prefixes to ISO 15924 codes, for the scripts news about this story arrives in.
_SCRIPTS = {
    "LATIN": "Latn",
    "CYRILLIC": "Cyrl",
    "ARABIC": "Arab",
    "GREEK": "Grek",
    "HEBREW": "Hebr",
    "ARMENIAN": "Armn",
    "GEORGIAN": "Geor",
    "DEVANAGARI": "Deva",
    "THAI": "Thai",
    "HANGUL": "Hang",
    "HIRAGANA": "Jpan",
    "KATAKANA": "Jpan",
    "CJK": "Hani",
}
SCRIPT_CODES = frozenset(_SCRIPTS.values())
# The script each dataset language is usually written in; :attr:`LanguageId.tag` omits it there.
USUAL_SCRIPT = {
    "en": "Latn",
    "ru": "Cyrl",
    "kk": "Cyrl",
    "uk": "Cyrl",
    "fr": "Latn",
    "de": "Latn",
    "tr": "Latn",
    "ar": "Arab",
}
# The first-class languages, the languages this story is reposted in and those lingua confuses them with
# (Europe, the Turkic world, the Middle East), and one or more languages for every other script lingua knows.
# Left out: Latin-script languages of elsewhere (Tagalog, Latin, Yoruba, Maori...) that short English
# headlines were taken for when every language was loaded (bench/RESULTS.md).
NEWS_LANGUAGES = (
    "en ru kk uk be bg mk sr mn fr de tr az ar fa ur es it pt nl pl ro cs sk sl hr bs lt lv et fi sv da nb hu sq "
    "el he hy ka hi mr bn pa gu ta te th zh ja ko"
).split()


@dataclass(frozen=True)
class LanguageIdSettings:
    """How languages are identified. ``languages=None`` loads every language lingua has."""

    languages: tuple[str, ...] | None = tuple(NEWS_LANGUAGES)
    low_accuracy: bool = True
    min_relative_distance: float = 0.1
    min_letters: int = 3
    # A long article is identified from its beginning: lingua's time grows with the text, the answer does not.
    sample_chars: int = 2000

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_relative_distance < 1.0:
            raise ValueError(f"min_relative_distance must be within [0, 1), got {self.min_relative_distance!r}")
        for name in ("min_letters", "sample_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")


DEFAULT_SETTINGS = LanguageIdSettings()


@dataclass(frozen=True)
class LanguageId:
    """``code``: ISO 639-1 or ``und``; ``script``: ISO 15924 (``Zyyy`` without letters, ``Zzzz`` if not known)."""

    code: str
    script: str

    @classmethod
    def from_tag(cls, tag: str, text: str) -> LanguageId:
        """A caller's language hint (``kk``, ``kk-Latn``, ``sr-Cyrl-RS``): its script subtag if it has one,
        else the script of ``text``."""
        parts = tag.split("-")
        named = next((p.title() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
        return cls(parts[0].lower(), named or dominant_script(text)[0])

    @property
    def tag(self) -> str:
        """``kk``, ``kk-Latn``, ``fr``, ``und``: the script is named only where it is not the usual one."""
        if self.code == UNDETERMINED or USUAL_SCRIPT.get(self.code, self.script) == self.script:
            return self.code
        return f"{self.code}-{self.script}"


def script_letters(text: str) -> Counter[str]:
    """How many letters of ``text`` each script (ISO 15924; ``Zzzz`` for scripts not named here) has."""
    scripts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            scripts[_SCRIPTS.get(name.split(" ", 1)[0], "Zzzz")] += 1
    return scripts


def dominant_script(text: str) -> tuple[str, int]:
    """The ISO 15924 code most letters belong to (``Zyyy`` without letters, ``Zzzz`` if unknown), and the count."""
    scripts = script_letters(text)
    if not scripts:
        return COMMON_SCRIPT, 0
    return scripts.most_common(1)[0][0], sum(scripts.values())


@lru_cache(maxsize=4)
def detector(settings: LanguageIdSettings = DEFAULT_SETTINGS) -> LanguageDetector:
    """Built once per settings; its models are loaded into memory here, not on the first unlucky request."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    if settings.languages is None:
        builder = LanguageDetectorBuilder.from_all_languages()
    else:
        codes = [IsoCode639_1.from_str(code) for code in settings.languages]
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
    builder = builder.with_preloaded_language_models().with_minimum_relative_distance(settings.min_relative_distance)
    if settings.low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def identify_language(text: str, settings: LanguageIdSettings = DEFAULT_SETTINGS) -> LanguageId:
    """The language and script of ``text``; see the module docstring for when it is ``und``."""
    text = text[: settings.sample_chars]
    script, letters = dominant_script(text)
    if letters < settings.min_letters:
        return LanguageId(UNDETERMINED, script)
    if script == "Latn" and shipped_model().is_kazakh(text):
        return LanguageId("kk", script)
    found = detector(settings).detect_language_of(text)
    if found is None:
        return LanguageId(UNDETERMINED, script)
    return LanguageId(found.iso_code_639_1.name.lower(), script)


def detect_language(text: str, settings: LanguageIdSettings = DEFAULT_SETTINGS) -> str:
    """Only the ISO 639-1 code (``und`` when undetermined): what the dataset's ``lang`` and metrics use."""
    return identify_language(text, settings).code


def warm_up(settings: LanguageIdSettings = DEFAULT_SETTINGS) -> None:
    """Load lingua's models and the Latin Kazakh table now (a service's startup), not on the first request."""
    detector(settings)
    shipped_model()
