"""Web pages as they are: only the article is scored, its metadata travels, a page without one is named.

The pages in ``tests/data/pages`` were written for these tests the way news sites are built: cookie banners,
menus, breadcrumbs, bylines, share buttons, "related" and "read also" blocks and footers, in English,
Russian, Kazakh and Ukrainian, with semantic tags on some pages and only ``div`` classes on others.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from narrascope.batch.readers import open_input
from narrascope.batch.records import BadRecord, Record
from narrascope.batch.run import ScoreSettings, score_feed
from narrascope.batch.writers import read_output
from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.sentences import split_sentences
from narrascope.model.webpage import NoMainContent, extract_page, fragment_text

PAGES = Path(__file__).resolve().parent / "data" / "pages"

# Per page: a sentence of the article, boilerplate that must not be scored, and the metadata the page states.
CASES = {
    "en": (
        "Deputy Defence Minister Sultan Kamaletdinov told deputies that the units would be formed in every region",
        ["cookies", "Subscribe now", "Related articles", "CSTO exercises", "All rights reserved", "Telegram"],
        ("Mazhilis passes territorial defence law in first reading", "Aigerim Bekova", "2024-04-17"),
    ),
    "ru": (
        "сообщения о переброске бригад к северной границе не соответствуют действительности",
        ["cookie", "Главная", "Читайте также", "Курс тенге", "Все права защищены", "Поделиться", "Войти"],
        ("Минобороны: закон о территориальной обороне не направлен против соседей", "Дмитрий Ковалёв", "2024-05-02"),
    ),
    "kk": (
        "заң жобасы шақыру ережелерін өзгертпейді және ешбір мемлекетке қарсы бағытталмаған",
        ["cookie", "Басты бет", "Тақырыпқа қатысты", "Теңге бағамы", "Барлық құқықтар", "Келісемін"],
        ("Мәжіліс аумақтық қорғаныс туралы заңды бірінші оқылымда мақұлдады", "Айгүл Сейітова", "2024-04-18"),
    ),
    "uk": (
        "закон не спрямований проти жодної країни",
        ["cookie", "Головна", "Інші матеріали", "Найпопулярніші фейки", "Усі права захищено", "Підтримати"],
        ("Фейк про мобілізацію в Казахстані: що насправді сказано в законі", "Олена Мельник", "2024-05-10"),
    ),
}


@pytest.mark.parametrize("lang", sorted(CASES))
def test_only_the_article_is_kept(lang: str) -> None:
    kept, boilerplate, (title, author, date) = CASES[lang]
    page = extract_page((PAGES / f"{lang}.html").read_text(encoding="utf-8"))
    assert kept in page.text
    for text in boilerplate:
        assert text.lower() not in page.text.lower(), text
    assert (page.title, page.author, page.date) == (title, author, date)
    # Paragraphs stay apart: each one is at least one sentence of its own.
    assert len(split_sentences(page.text)) >= 4


def test_a_page_without_an_article_is_an_error() -> None:
    with pytest.raises(NoMainContent, match="no main content"):
        extract_page((PAGES / "no-article.html").read_text(encoding="utf-8"))
    with pytest.raises(NoMainContent):
        extract_page("<html><body><script>track()</script></body></html>")


def test_feed_fragments() -> None:
    assert fragment_text("<p>Kazakhstan denies it.</p>") == "Kazakhstan denies it."
    assert fragment_text("Plain summary, no tags.") == "Plain summary, no tags."
    assert fragment_text("<script>x()</script>") == ""


def test_folder_of_pages_in_a_batch_job(tmp_path: Path, tiny_classifier: NarrativeClassifier) -> None:
    """Each page is scored on its article with its metadata as columns; the page without one is named in the
    error file and the others are scored all the same."""
    folder = tmp_path / "pages"
    shutil.copytree(PAGES, folder)
    items = list(open_input(str(folder)))
    bad = [item for item in items if isinstance(item, BadRecord)]
    assert [(b.id, b.location) for b in bad] == [("no-article.html", str(folder / "no-article.html"))]
    records = {item.id: item for item in items if isinstance(item, Record)}
    assert records["ru.html"].fields["author"] == "Дмитрий Ковалёв"

    out, errors = tmp_path / "out.jsonl", tmp_path / "bad.jsonl"
    summary = score_feed(
        ScoreSettings(input=str(folder), output=str(out), errors=str(errors), progress=False), tiny_classifier
    )
    assert (summary.scored, summary.failed) == (4, 1)
    rows = {row["id"]: row for row in read_output(str(out))}
    assert rows["kk.html"]["title"] == CASES["kk"][2][0] and rows["kk.html"]["date"] == "2024-04-18"
    assert (rows["kk.html"]["language"], rows["kk.html"]["script"]) == ("kk", "Cyrl")
    assert rows["en.html"]["n_sentences"] == len(split_sentences(records["en.html"].text))
    (error,) = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert "no-article.html" in json.dumps(error, ensure_ascii=False) and "no main content" in error["reason"]
