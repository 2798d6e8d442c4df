"""Prevalence tables: how many documents carry each narrative, over time, per outlet and per language.

Claims are counted twice over, as *pushed* and as *rebutted*, never merged: a week full of fact-checks that
quote "Kazakhstan is preparing for war" is a week of rebuttals, not of the claim (the model's risk verdict,
``risk.claims_pushed``/``claims_rebutted``, makes the split). Counter-narratives and framing labels are
counted as ``present``. Shares are over every document in the same period/outlet/language, so a busy day
does not look like a surge by volume alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from narrascope.labels import load_taxonomy
from narrascope.report.scored import ScoredDoc
from narrascope.report.settings import PERIODS

PUSHED, REBUTTED, PRESENT = "pushed", "rebutted", "present"
NO_SOURCE = "(no source)"
NO_DATE = "(no date)"


@dataclass(frozen=True)
class Mention:
    """One document carrying one narrative in one stance."""

    doc: ScoredDoc
    narrative: str
    stance: str


def mentions(doc: ScoredDoc) -> Iterable[Mention]:
    """A claim is pushed or rebutted by the risk verdict; any other predicted label is present."""
    claims = set(doc.pushed) | set(doc.rebutted)
    for label in doc.pushed:
        yield Mention(doc, label, PUSHED)
    for label in doc.rebutted:
        yield Mention(doc, label, REBUTTED)
    for label in doc.labels:
        if label not in claims:
            yield Mention(doc, label, PRESENT)


def narrative_kinds(docs: list[ScoredDoc]) -> dict[str, str]:
    """Each narrative's kind from the taxonomy; a label the taxonomy does not know (another model) is ``other``."""
    kinds = {label.id: label.kind for label in load_taxonomy().labels}
    order = {name: i for i, name in enumerate(kinds)}
    seen = {m.narrative for doc in docs for m in mentions(doc)}
    return {name: kinds.get(name, "other") for name in sorted(seen, key=lambda n: (order.get(n, len(order)), n))}


def period_start(moment: pd.Timestamp | None, period: str) -> pd.Timestamp | None:
    """The first day of the day/week (weeks start on Monday) a moment falls in."""
    if moment is None or pd.isna(moment):
        return None
    return pd.Timestamp(moment).to_period(PERIODS[period]).start_time


def doc_frame(docs: list[ScoredDoc], period: str) -> pd.DataFrame:
    """One row per document: id, period, source, language, risk (the denominators of every share)."""
    return pd.DataFrame(
        {
            "id": [d.id for d in docs],
            "period": pd.to_datetime([period_start(d.date, period) if d.date else None for d in docs]),
            "source": [d.source or NO_SOURCE for d in docs],
            "language": [d.language for d in docs],
            "risk": [d.risk for d in docs],
        },
        columns=["id", "period", "source", "language", "risk"],
    )


def mention_frame(docs: list[ScoredDoc], period: str) -> pd.DataFrame:
    rows = [
        {
            "id": m.doc.id,
            "narrative": m.narrative,
            "stance": m.stance,
            "period": period_start(m.doc.date, period) if m.doc.date else None,
            "source": m.doc.source or NO_SOURCE,
            "language": m.doc.language,
        }
        for doc in docs
        for m in mentions(doc)
    ]
    frame = pd.DataFrame(rows, columns=["id", "narrative", "stance", "period", "source", "language"])
    frame["period"] = pd.to_datetime(frame["period"])
    return frame


def share_table(mention: pd.DataFrame, docs: pd.DataFrame, by: str) -> pd.DataFrame:
    """Documents per (``by``, narrative, stance), with the share of all documents in that ``by`` group."""
    totals = docs.groupby(by, dropna=True).size().rename("total_docs")
    counts = mention.dropna(subset=[by]).groupby([by, "narrative", "stance"]).size().rename("docs").reset_index()
    table = counts.merge(totals.reset_index(), on=by, how="left")
    table["share"] = (table["docs"] / table["total_docs"]).round(4)
    return table.sort_values([by, "narrative", "stance"]).reset_index(drop=True)


def over_time(mention: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """Like :func:`share_table` by period, with the empty periods filled in (a zero is a data point)."""
    dated = docs.dropna(subset=["period"])
    if dated.empty:
        return pd.DataFrame(columns=["period", "narrative", "stance", "docs", "total_docs", "share"])
    table = share_table(mention, docs, "period")
    periods = pd.Index(sorted(dated["period"].unique()), name="period")
    totals = dated.groupby("period").size().reindex(periods, fill_value=0)
    full = []
    for (narrative, stance), group in table.groupby(["narrative", "stance"]):
        counts = group.set_index("period")["docs"].reindex(periods, fill_value=0)
        full.append(
            pd.DataFrame(
                {
                    "period": periods,
                    "narrative": narrative,
                    "stance": stance,
                    "docs": counts.to_numpy(),
                    "total_docs": totals.to_numpy(),
                }
            )
        )
    if not full:
        return pd.DataFrame(columns=["period", "narrative", "stance", "docs", "total_docs", "share"])
    result = pd.concat(full, ignore_index=True)
    result["share"] = (result["docs"] / result["total_docs"].where(result["total_docs"] > 0)).fillna(0.0).round(4)
    return result.sort_values(["narrative", "stance", "period"]).reset_index(drop=True)
