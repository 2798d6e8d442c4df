"""``narrascope report``: prevalence tables, surges, evidence, missing fields and bad rows, from scored rows."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from narrascope.batch.run import ScoreSettings, score_feed
from narrascope.cli import main
from narrascope.report.build import build_report
from narrascope.report.scored import load_scored, parse_date
from narrascope.report.settings import ReportSettings, SurgeSettings
from tests.reportfactory import scored_row, surge_feed, write_jsonl


class _ScriptTags(HTMLParser):
    """Script tags as a browser sees them (the text inside a script is not parsed for tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.inline = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link", "img", "iframe"):
            source = dict(attrs).get("src") or (dict(attrs).get("href") if tag == "link" else None)
            if source:
                self.sources.append(source)
            elif tag == "script":
                self.inline += 1


def _report(tmp_path: Path, rows: list[dict], **kwargs) -> Path:  # noqa: ANN003
    scored = write_jsonl(tmp_path / "scored.jsonl", rows)
    build_report(ReportSettings(inputs=[str(scored)], output=tmp_path / "report", **kwargs))
    return tmp_path / "report"


def _table(report: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(report / "tables" / f"{name}.csv")


def test_dates_in_every_shape_become_utc() -> None:
    assert parse_date("Mon, 06 Jan 2025 10:00:00 GMT").isoformat() == "2025-01-06T10:00:00"
    assert parse_date("2025-01-06T12:00:00+02:00").isoformat() == "2025-01-06T10:00:00"
    assert parse_date("2025-01-06").isoformat() == "2025-01-06T00:00:00"
    assert parse_date("last tuesday") is None and parse_date(None) is None


def test_pushed_and_rebutted_claims_are_counted_apart(tmp_path: Path) -> None:
    rows = [
        scored_row("a", pushed=("war_preparation",), source="A", language="ru"),
        scored_row("b", rebutted=("war_preparation",), other=("reassurance",), source="B"),
        scored_row("c", rebutted=("war_preparation",), source="B"),
        scored_row("d", source="B"),
    ]
    report = _report(tmp_path, rows)
    outlet = _table(report, "prevalence_by_outlet").set_index(["outlet", "narrative", "stance"])
    assert outlet.loc[("A", "war_preparation", "pushed"), "docs"] == 1
    assert outlet.loc[("A", "war_preparation", "pushed"), "share"] == 1.0
    assert outlet.loc[("B", "war_preparation", "rebutted"), "docs"] == 2
    assert outlet.loc[("B", "war_preparation", "rebutted"), "share"] == pytest.approx(2 / 3, abs=1e-4)
    assert ("B", "war_preparation", "pushed") not in outlet.index
    language = _table(report, "prevalence_by_language").set_index(["language", "narrative", "stance"])
    assert language.loc[("en", "reassurance", "present"), "docs"] == 1
    assert language.loc[("ru", "war_preparation", "pushed"), "total_docs"] == 1


def test_a_surge_is_flagged_with_the_documents_behind_it(tmp_path: Path) -> None:
    report = _report(tmp_path, surge_feed())
    surges = _table(report, "surges")
    assert list(surges["narrative"]) == ["war_preparation"] and list(surges["stance"]) == ["pushed"]
    assert surges.loc[0, "period"].startswith("2026-01-07") and surges.loc[0, "share"] == 0.6
    members = _table(report, "surge_documents")
    assert len(members) == 5  # the strongest five of the six documents
    assert set(members["id"]) <= {f"d7-{n}" for n in range(6)}
    assert members["evidence"].str.startswith("war_preparation sentence").all()
    series = _table(report, "prevalence_over_time")
    pushed = series[(series["narrative"] == "war_preparation") & (series["stance"] == "pushed")]
    assert list(pushed["docs"]) == [1, 0, 1, 0, 1, 0, 6]  # empty days are zeros, not gaps
    # Rebuttals never surge, and stricter settings find nothing.
    strict = _report(tmp_path / "strict", surge_feed(), surges=SurgeSettings(ratio=20.0))
    assert _table(strict, "surges").empty


def test_weekly_periods_start_on_monday(tmp_path: Path) -> None:
    report = _report(tmp_path, surge_feed(), period="week")
    periods = set(_table(report, "prevalence_over_time")["period"])
    assert periods == {"2025-12-29", "2026-01-05"}


def test_missing_dates_sources_and_bad_rows_are_stated_not_dropped(tmp_path: Path) -> None:
    rows = [
        scored_row("ok"),
        scored_row("undated", date=None),
        scored_row("garbled", date="sometime in spring"),
        scored_row("nameless", source=None) | {"link": None},
        scored_row("from-link", source=None),
    ]
    scored = write_jsonl(tmp_path / "scored.jsonl", rows, extra_lines=("{not json\n", '{"id": "x"}\n', "[1]\n"))
    summary = build_report(ReportSettings(inputs=[str(scored)], output=tmp_path / "report"))
    assert (summary.documents, summary.no_date, summary.no_source, summary.problems) == (5, 2, 1, 3)
    notes = _table(tmp_path / "report", "data_notes")
    issues = dict(zip(notes["location"], notes["issue"], strict=True))
    assert issues[f"{scored}:6"].startswith("not read: not a JSON line")
    assert "no 'risk' object" in issues[f"{scored}:7"] and "not an object" in issues[f"{scored}:8"]
    assert "unreadable date 'sometime in spring'" in issues[f"{scored}:3"]
    documents = _table(tmp_path / "report", "documents").set_index("id")
    assert documents.loc["from-link", "source"] == "news.example"  # the outlet falls back to the link's host
    assert documents.loc["nameless", "source"] == "(no source)"
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "without a date" in html and f"{scored}:6" in html


def test_a_repeated_document_is_reported_and_counted_once(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [scored_row("same", pushed=("war_preparation",))])
    second = write_jsonl(tmp_path / "b.jsonl", [scored_row("same")])
    loaded = load_scored([str(first), str(second)])
    assert [d.id for d in loaded.docs] == ["same"] and loaded.docs[0].pushed == ("war_preparation",)
    assert loaded.problems[0].location == f"{second}:1" and "repeats" in loaded.problems[0].reason


def test_nothing_readable_is_an_error_naming_the_first_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: .*no 'risk'"):
        build_report(ReportSettings(inputs=[str(bad)], output=tmp_path / "report"))
    assert not (tmp_path / "report").exists()


def test_the_page_is_one_offline_file_and_escapes_documents(tmp_path: Path) -> None:
    hostile = scored_row("<b>x</b>", pushed=("war_preparation",), evidence="<script>alert(1)</script>")
    hostile["link"] = "javascript:alert(1)"
    report = _report(tmp_path, [*surge_feed(), hostile])
    html = (report / "report.html").read_text(encoding="utf-8")
    scripts = _ScriptTags()
    scripts.feed(html)
    assert scripts.sources == [] and scripts.inline >= 1  # plotly.js travels inside the file, nothing is fetched
    assert "Plotly.newPlot" in html and html.count('class="plotly-graph-div"') == 3
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    assert 'href="javascript:' not in html
    meta = json.loads((report / "report.json").read_text(encoding="utf-8"))
    assert meta["settings"]["surges"]["ratio"] == SurgeSettings().ratio and meta["summary"]["surges"] == 1
    assert pd.read_parquet(report / "tables" / "top_evidence.parquet").shape[0] > 0


def test_an_existing_report_is_replaced_only_with_force(tmp_path: Path) -> None:
    scored = str(write_jsonl(tmp_path / "scored.jsonl", surge_feed()))
    assert main(["report", "--input", scored, "--output", str(tmp_path / "r")]) == 0
    with pytest.raises(SystemExit):
        main(["report", "--input", scored, "--output", str(tmp_path / "r")])
    assert main(["report", "--input", scored, "--output", str(tmp_path / "r"), "--force", "--period", "week"]) == 0
    assert json.loads((tmp_path / "r" / "report.json").read_text())["settings"]["period"] == "week"


def test_stories_spanning_outlets_are_listed_within_their_window(tmp_path: Path) -> None:
    rows = [
        scored_row("s1-en", date="2026-01-01T08:00", source="A", story="s1", pushed=("border_buildup",)),
        scored_row("s1-ru", date="2026-01-01T20:00", source="B", language="ru", story="s1"),
        scored_row("s1-late", date="2026-03-01T08:00", source="C", story="s1"),
        scored_row("s2-a", date="2026-01-02T08:00", source="A", story="s2"),
        scored_row("s2-b", date="2026-01-02T09:00", source="A", story="s2"),
        scored_row("lone", story="s3"),
    ]
    report = _report(tmp_path, rows, story_window_days=7)
    stories = _table(report, "stories")
    assert list(stories["story"]) == ["s1"]  # s2 stays in one outlet and one language
    story = stories.iloc[0]
    assert (story["docs"], story["outlets"], story["languages"]) == (2, 2, "en, ru")
    assert (story["first_outlet"], story["first_id"], story["narratives_pushed"]) == ("A", "s1-en", "border_buildup")


@pytest.mark.parametrize("suffix", ["jsonl", "csv", "parquet"])
def test_batch_scoring_passes_date_source_and_link_to_the_report(
    tmp_path: Path, tiny_model_dir: Path, suffix: str
) -> None:
    feed = [
        {"id": f"n{i}", "text": "Kazakhstan is not preparing for war.", "published": f"2026-01-0{i + 1}",
         "outlet": "Steppe Wire", "link": f"https://sw.example/{i}"}
        for i in range(3)
    ]  # fmt: skip
    source = write_jsonl(tmp_path / "feed.jsonl", feed)
    out = tmp_path / f"scored.{suffix}"
    score_feed(ScoreSettings(input=str(source), output=str(out), model=tiny_model_dir, progress=False))
    loaded = load_scored([str(out)])
    assert not loaded.problems
    assert [(d.id, d.date.day if d.date else None, d.source, d.link) for d in loaded.docs] == [
        (f"n{i}", i + 1, "Steppe Wire", f"https://sw.example/{i}") for i in range(3)
    ]


def test_a_wobble_of_a_small_sample_is_not_a_surge(tmp_path: Path) -> None:
    """Four of twenty after one in twenty a day passes the share rules but not the binomial test (p ~ 0.03)."""
    pushing = {day: 4 if day == 6 else 1 for day in range(1, 7)}
    rows = [
        scored_row(f"d{day}-{n}", date=f"2026-01-{day:02d}T10:00", pushed=("western_pivot",) if n < count else ())
        for day, count in pushing.items()
        for n in range(20)
    ]
    assert _table(_report(tmp_path / "default", rows), "surges").empty
    loose = _table(_report(tmp_path / "loose", rows, surges=SurgeSettings(max_p=1.0)), "surges")
    assert list(loose["narrative"]) == ["western_pivot"] and 0.01 < loose.loc[0, "p_value"] < 0.1
