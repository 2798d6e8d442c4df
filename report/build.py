"""``narrascope report``: scored outputs in, one offline HTML report plus its tables (CSV and Parquet) out.

The function is what the command runs and what the tests call. It refuses to write into a folder that already
holds files unless ``force`` is set, and records every setting that shaped the numbers in ``report.json``.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from narrascope.report import charts
from narrascope.report.findings import find_surges, spreading_stories, surge_documents, top_evidence
from narrascope.report.page import Page, esc, table
from narrascope.report.prevalence import (
    doc_frame,
    mention_frame,
    narrative_kinds,
    over_time,
    period_start,
    share_table,
)
from narrascope.report.scored import Loaded, load_scored
from narrascope.report.settings import ReportSettings

logger = logging.getLogger(__name__)
HTML_NAME = "report.html"


@dataclass(frozen=True)
class ReportSummary:
    html: Path
    documents: int
    problems: int
    no_date: int
    no_source: int
    surges: int
    stories: int
    tables: list[str]

    def describe(self) -> str:
        return (
            f"report: {self.html} over {self.documents} documents ({self.problems} unreadable rows, "
            f"{self.no_date} without a date, {self.no_source} without a source); {self.surges} surges, "
            f"{self.stories} stories across outlets or languages"
        )


def _prepare(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output {folder} is a file; the report is a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise FileExistsError(f"output folder {folder} is not empty; pass --force to replace the report")
        shutil.rmtree(folder)
    (folder / "tables").mkdir(parents=True, exist_ok=True)


def _write_table(folder: Path, name: str, frame: pd.DataFrame) -> str:
    frame.to_csv(folder / "tables" / f"{name}.csv", index=False)
    frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object}).to_parquet(
        folder / "tables" / f"{name}.parquet", index=False
    )
    return name


@dataclass
class Findings:
    docs: pd.DataFrame
    series: pd.DataFrame
    by_outlet: pd.DataFrame
    by_language: pd.DataFrame
    surges: pd.DataFrame
    surge_docs: pd.DataFrame
    evidence: pd.DataFrame
    stories: pd.DataFrame
    quality: pd.DataFrame


def analyse(loaded: Loaded, settings: ReportSettings) -> Findings:
    docs = loaded.docs
    frame = doc_frame(docs, settings.period)
    mention = mention_frame(docs, settings.period)
    series = over_time(mention, frame)
    surges = find_surges(series, settings.surges)
    period_of = {d.id: period_start(d.date, settings.period) for d in docs if d.date}
    surge_rows = [
        {"period": s["period"], "narrative": s["narrative"], "stance": s["stance"]} | ref
        for _, s in surges.iterrows()
        for ref in surge_documents(s, docs, period_of)
    ]
    surge_docs = pd.DataFrame(
        surge_rows,
        columns=["period", "narrative", "stance", "id", "source", "date", "language", "link", "evidence", "score"],
    )
    quality = pd.DataFrame(
        [{"id": d.id, "location": d.location, "issue": f"date: {d.date_problem}"} for d in docs if d.date_problem]
        + [{"id": d.id, "location": d.location, "issue": "no source or outlet"} for d in docs if d.source is None]
        + [{"id": None, "location": p.location, "issue": f"not read: {p.reason}"} for p in loaded.problems],
        columns=["id", "location", "issue"],
    )
    frame["story"] = [d.story for d in docs]
    frame["date"] = [d.date for d in docs]
    return Findings(
        docs=frame,
        series=series,
        by_outlet=share_table(mention, frame, "source"),
        by_language=share_table(mention, frame, "language"),
        surges=surges,
        surge_docs=surge_docs,
        evidence=top_evidence(docs, list(narrative_kinds(docs)), settings.evidence_per_narrative),
        stories=spreading_stories(docs, settings.story_window_days),
        quality=quality,
    )


def _surge_section(page: Page, found: Findings) -> None:
    page.heading("Surges", "A narrative's share of documents in a period well above its trailing baseline.")
    if found.surges.empty:
        page.raw('<p class="muted">No surge under the current thresholds.</p>')
        return
    parts = []
    for _, surge in found.surges.iterrows():
        members = found.surge_docs[
            (found.surge_docs["period"] == surge["period"])
            & (found.surge_docs["narrative"] == surge["narrative"])
            & (found.surge_docs["stance"] == surge["stance"])
        ]
        parts.append(
            f"<h3>{esc(surge['narrative'])} ({esc(surge['stance'])}), {surge['period']:%Y-%m-%d}: "
            f"{surge['share']:.0%} of {int(surge['total_docs'])} documents, baseline {surge['baseline']:.0%} "
            f"(p = {surge['p_value']:.2g})</h3>"
            + table(members, ["id", "source", "date", "language", "evidence"], "no documents")
        )
    page.raw("".join(parts))


def _stories_section(page: Page, found: Findings, window: float) -> None:
    page.heading(
        "Stories across outlets and languages",
        f"Documents telling the same story (translations, re-posts, rewrites), seen in several outlets or "
        f"languages within {window:g} days of the first sighting.",
    )
    if found.docs["story"].isna().all():
        page.raw('<p class="muted">No story ids in the input: run <code>narrascope stories</code> first.</p>')
        return
    columns = ["story", "docs", "outlets", "languages", "first_seen", "first_outlet", "first_id"]
    page.raw(table(found.stories, [*columns, "narratives_pushed", "outlet_list", "title"], "No such story."))


def render(loaded: Loaded, found: Findings, settings: ReportSettings) -> str:
    docs = loaded.docs
    dated = [d.date for d in docs if d.date]
    span = f"{min(dated):%Y-%m-%d} to {max(dated):%Y-%m-%d}" if dated else "no dated documents"
    page = Page(settings.title, f"{len(docs)} documents from {len(settings.inputs)} input(s), {span}.")
    no_date = sum(1 for d in docs if d.date is None)
    no_source = sum(1 for d in docs if d.source is None)
    page.cards(
        [
            ("documents", len(docs), False),
            ("pushing a claim", sum(1 for d in docs if d.pushed), False),
            ("rebutting a claim", sum(1 for d in docs if d.rebutted), False),
            ("surges", len(found.surges), bool(len(found.surges))),
            ("without a date", no_date, bool(no_date)),
            ("without a source", no_source, bool(no_source)),
            ("unreadable rows", len(loaded.problems), bool(loaded.problems)),
        ]
    )
    page.heading("Narratives over time", "Pushed claims solid, rebutted claims dashed, other labels dotted.")
    page.chart(charts.time_series(found.series, found.surges, settings.period))
    _surge_section(page, found)
    page.heading("Per outlet", "Share of each outlet's documents (document count in brackets).")
    page.chart(charts.breakdown(found.by_outlet, "source", "Narratives per outlet"))
    page.heading("Per language")
    page.chart(charts.breakdown(found.by_language, "language", "Narratives per language"))
    _stories_section(page, found, settings.story_window_days)
    page.heading("Top evidence per narrative", "The strongest sentences; the id links to the document.")
    page.raw(table(found.evidence, ["narrative", "stance", "score", "text", "id", "source", "date"], "No evidence."))
    page.heading("Data notes", "Documents kept in the counts despite a missing field, and rows not read at all.")
    page.raw(table(found.quality.head(200), ["location", "id", "issue"], "Every document has a date and a source."))
    page.raw(f'<p class="muted">Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {esc(_settings_note(settings))}</p>')
    return page.render()


def _settings_note(settings: ReportSettings) -> str:
    surge = settings.surges
    return (
        f"period {settings.period}; surge: share >= {surge.ratio:g} x the mean of the previous {surge.baseline} "
        f"periods and +{surge.min_delta:.0%}, at least {surge.min_docs} documents, binomial p <= {surge.max_p:g}"
    )


def build_report(settings: ReportSettings) -> ReportSummary:
    loaded = load_scored(settings.inputs, settings.date_fields, settings.source_fields)
    for problem in loaded.problems[:20]:
        logger.warning("%s", problem)
    if not loaded.docs:
        raise ValueError(
            f"no scored document in {', '.join(settings.inputs)} ({len(loaded.problems)} unreadable rows"
            + (f", first: {loaded.problems[0]}" if loaded.problems else "")
            + ")"
        )
    found = analyse(loaded, settings)
    _prepare(settings.output, settings.force)
    html_path = settings.output / HTML_NAME
    html_path.write_text(render(loaded, found, settings), encoding="utf-8")
    written = [
        _write_table(settings.output, name, frame)
        for name, frame in (
            ("documents", found.docs),
            ("prevalence_over_time", found.series),
            ("prevalence_by_outlet", found.by_outlet.rename(columns={"source": "outlet"})),
            ("prevalence_by_language", found.by_language),
            ("surges", found.surges),
            ("surge_documents", found.surge_docs),
            ("top_evidence", found.evidence),
            ("stories", found.stories),
            ("data_notes", found.quality),
        )
    ]
    summary = ReportSummary(
        html=html_path,
        documents=len(loaded.docs),
        problems=len(loaded.problems),
        no_date=sum(1 for d in loaded.docs if d.date is None),
        no_source=sum(1 for d in loaded.docs if d.source is None),
        surges=len(found.surges),
        stories=len(found.stories),
        tables=written,
    )
    meta = {"settings": settings.to_dict(), "summary": asdict(summary) | {"html": str(html_path)}}
    (settings.output / "report.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    return summary
