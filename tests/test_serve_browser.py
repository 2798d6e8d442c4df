"""The moderator page in a real headless Chromium: load, score, see highlights, correct, find it stored.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); Playwright drives it through its own driver,
so no browser download is involved. ``NARRASCOPE_SCREENSHOT_MODEL=<trained model folder>`` also refreshes
docs/screenshot.png (the README's picture) from the page's example text scored by that model.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from narrascope.dataset.feedback_store import FeedbackStore
from narrascope.paths import REPO_ROOT
from narrascope.serve.testing import isolated_settings, running_server

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TEXT = (
    "Kazakhstan Is Preparing for War, Channels Claim\n\n"
    "Several channels wrote that the territorial defence law is a step towards war with Russia. "
    "The Ministry of Defense called these reports fake. "
    "Self-defence units will protect settlements during emergencies."
)
KEY = "browser-test-key-0123456789"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright import sync_api  # a dev dependency: missing it is a broken setup, not a reason to skip

    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def page_model(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a claim and a counter always over threshold, so highlights are certain."""
    folder = tmp_path_factory.mktemp("page-model") / "tiny"
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "config.json").read_text())
    config["narrascope"]["thresholds"].update({"war_preparation": 0.0, "reassurance": 0.0})
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def open_page(browser: Any, url: str) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors


def test_score_highlight_and_correct(browser: Any, page_model: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    settings = isolated_settings(page_model, tmp_path, port=0)
    with running_server(settings) as base_url:
        page, errors = open_page(browser, base_url + "/")
        expect(page.locator("#model-badge")).to_contain_text("tiny-random")
        expect(page.locator("#auth-panel")).to_be_hidden()

        page.fill("#text", TEXT)
        page.click("#score-btn")
        sentences = page.locator("#highlighted .sentence")
        expect(sentences).to_have_count(4)
        expect(page.locator("#highlighted .sentence.labeled")).to_have_count(4)
        assert page.locator("#highlighted").inner_text().replace("\n", " ").split() == TEXT.split()
        expect(page.locator("#risk-badge")).to_have_text("Debunk: claims are rebutted")
        expect(page.locator("#risk-detail")).to_contain_text("Preparing for war")
        expect(page.locator("#bars .bar-row")).to_have_count(11)
        expect(page.locator("#bars .bar-row.over")).not_to_have_count(0)
        expect(page.locator("#legend .chip.present")).not_to_have_count(0)
        expect(page.locator("#status")).to_contain_text("4 sentences scored")
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        assert (tmp_path / "page.png").stat().st_size > 10_000

        target = sentences.nth(2)
        target_text = target.evaluate("el => el.firstChild.textContent")
        target.click()
        dialog = page.locator("#correct-dialog")
        expect(dialog).to_be_visible()
        for box in page.locator("#correct-labels input[type=checkbox]").all():
            box.uncheck()
        page.check("#correct-labels input[value=reassurance]")
        page.fill("#correct-note", "quotes the claim to reject it")
        page.click("#submit-correction")
        expect(page.locator("#status")).to_contain_text("Correction saved")
        expect(dialog).to_be_hidden()
        expect(sentences.nth(2)).to_have_class("sentence labeled corrected")
        assert errors == [], errors

    store = FeedbackStore(settings.resolved_feedback_url, create=False)
    stored = [item.record for item in store.iter_all()]
    store.close()
    assert len(stored) == 1
    record = stored[0]
    assert record.kind == "sentence"
    assert record.text == target_text == "The Ministry of Defense called these reports fake."
    assert record.labels == ["reassurance"] and record.note == "quotes the claim to reject it"
    assert record.predicted and "war_preparation" in record.predicted
    assert record.start is not None and TEXT[record.start : record.end] == record.text
    assert record.document_id == "page" and record.lang == "en"


def test_dropped_html_file_becomes_its_article(browser: Any, page_model: Path, tmp_path: Path) -> None:
    """The page's file drop goes through the service's extractor: the article, not the menus, and the metadata."""
    from playwright.sync_api import expect

    html = (Path(__file__).resolve().parent / "data" / "pages" / "en.html").read_text(encoding="utf-8")
    with running_server(isolated_settings(page_model, tmp_path, port=0)) as base_url:
        page, errors = open_page(browser, base_url + "/")
        expect(page.locator("#model-badge")).to_contain_text("tiny-random")
        page.evaluate(
            """(html) => {
                const data = new DataTransfer();
                data.items.add(new File([html], "article.html", { type: "text/html" }));
                const zone = document.getElementById("drop-zone");
                zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
            }""",
            html,
        )
        expect(page.locator("#text")).to_have_value(re.compile(r"^Mazhilis passes territorial defence law"))
        value = page.locator("#text").input_value()
        assert "self-defence formations" in value and "cookies" not in value and "Related" not in value
        expect(page.locator("#page-meta")).to_have_text(
            "Page: Mazhilis passes territorial defence law in first reading · Aigerim Bekova · 2024-04-17"
        )
        page.set_input_files("#file-input", files=[{"name": "a.txt", "mimeType": "text/plain", "buffer": b"Plain."}])
        expect(page.locator("#text")).to_have_value("Plain.")
        expect(page.locator("#page-meta")).to_be_hidden()
        assert errors == [], errors


def test_api_key_prompt_when_auth_is_on(browser: Any, page_model: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    settings = isolated_settings(page_model, tmp_path, port=0, api_keys=f"{KEY}:score,feedback")
    with running_server(settings) as base_url:
        page, _errors = open_page(browser, base_url + "/")
        expect(page.locator("#auth-panel")).to_be_visible()
        page.fill("#api-key", KEY)
        page.click("#save-key")
        expect(page.locator("#model-badge")).to_contain_text("tiny-random")
        assert page.evaluate("() => sessionStorage.getItem('narrascope.apiKey')") == KEY
        page.fill("#text", "The law creates volunteer units.")
        page.click("#score-btn")
        expect(page.locator("#highlighted .sentence")).to_have_count(1)


def test_readme_screenshot(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    model = os.environ.get("NARRASCOPE_SCREENSHOT_MODEL")
    if not model:
        pytest.skip("set NARRASCOPE_SCREENSHOT_MODEL to a trained model folder to refresh docs/screenshot.png")
    with running_server(isolated_settings(Path(model), tmp_path, port=0, num_threads=None)) as base_url:
        page, errors = open_page(browser, base_url + "/")
        expect(page.locator("#model-badge")).not_to_contain_text("loading")
        page.click("#example-btn")
        page.click("#score-btn")
        expect(page.locator("#highlighted .sentence.labeled")).not_to_have_count(0)
        (REPO_ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(REPO_ROOT / "docs" / "screenshot.png"), full_page=True)
        assert errors == [], errors
