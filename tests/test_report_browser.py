"""The generated report in a real headless Chromium, offline: every chart renders its traces, nothing is fetched.

``NARRASCOPE_REPORT_SCREENSHOT=<report folder>`` also refreshes docs/report.png (the README's picture) from a
report generated over a real scored feed (see the README's analyst section).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from narrascope.paths import REPO_ROOT
from narrascope.report.build import build_report
from narrascope.report.settings import ReportSettings
from tests import test_serve_browser
from tests.reportfactory import scored_row, surge_feed, write_jsonl

pytestmark = pytest.mark.browser
# The same headless Debian chromium as the moderator page's test (skipped with a reason where it is missing).
browser = test_serve_browser.browser


def _open(browser: Any, html: Path, width: int = 1280) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(html.as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3")
    return context, page, requests


def test_the_report_renders_its_charts_offline(browser: Any, tmp_path: Path) -> None:
    stories = [
        scored_row("s-en", date="2026-01-03T08:00", source="A", story="s1", pushed=("border_buildup",)),
        scored_row("s-ru", date="2026-01-03T12:00", source="B", language="ru", story="s1"),
    ]
    scored = write_jsonl(tmp_path / "scored.jsonl", [*surge_feed(), *stories])
    build_report(ReportSettings(inputs=[str(scored)], output=tmp_path / "report"))
    context, page, requests = _open(browser, tmp_path / "report" / "report.html")
    try:
        assert all(url.startswith("file://") for url in requests), requests
        plots = page.query_selector_all(".js-plotly-plot")
        assert len(plots) == 3
        # The time series draws one line per narrative and stance (framing hidden) plus the surge ring.
        assert len(plots[0].query_selector_all(".scatterlayer .trace")) >= 3
        assert plots[0].query_selector_all(".legendtext")
        for heatmap in plots[1:]:
            assert heatmap.query_selector(".heatmaplayer image, .heatmaplayer .hm") is not None
        assert page.locator("h3", has_text="war_preparation (pushed), 2026-01-07").count() == 1
        assert page.locator("td", has_text="s-en").count() >= 1  # the story table names its first document
    finally:
        context.close()


def test_readme_screenshot(browser: Any) -> None:
    folder = os.environ.get("NARRASCOPE_REPORT_SCREENSHOT")
    if not folder:
        pytest.skip("set NARRASCOPE_REPORT_SCREENSHOT to a report folder to refresh docs/report.png")
    context, page, _ = _open(browser, Path(folder) / "report.html", width=1240)
    try:
        page.wait_for_timeout(500)
        page.screenshot(path=str(REPO_ROOT / "docs" / "report.png"), full_page=False, clip=None)
    finally:
        context.close()
