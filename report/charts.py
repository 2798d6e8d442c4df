"""The report's charts as plotly figures; :mod:`narrascope.report.page` lays them out in one offline HTML file.

plotly because its HTML output carries the whole charting library inline (``get_plotlyjs``): the report is
one file that opens offline, on an air-gapped desk machine, with hover, zoom and legend toggles intact.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from narrascope.report.prevalence import PRESENT, PUSHED, REBUTTED

DASH = {PUSHED: "solid", REBUTTED: "dash", PRESENT: "dot"}
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "height": 420}


def _label(narrative: str, stance: str) -> str:
    return f"{narrative} ({stance})"


def time_series(series: pd.DataFrame, surges: pd.DataFrame, period: str) -> go.Figure:
    """Share of documents per narrative and stance over time; surges are marked with a red ring."""
    figure = go.Figure()
    for (narrative, stance), group in series.groupby(["narrative", "stance"], sort=False):
        figure.add_trace(
            go.Scatter(
                x=group["period"],
                y=group["share"],
                mode="lines+markers",
                name=_label(narrative, stance),
                line={"dash": DASH.get(stance, "solid")},
                customdata=group[["docs", "total_docs"]].to_numpy(),
                hovertemplate="%{x|%Y-%m-%d}: %{y:.0%} (%{customdata[0]} of %{customdata[1]} docs)",
                visible=True if stance != PRESENT else "legendonly",
            )
        )
    for stance, group in surges.groupby("stance"):
        # Rings of hidden (framing/counter) lines are hidden with them, or they would float over nothing.
        figure.add_trace(
            go.Scatter(
                x=group["period"],
                y=group["share"],
                mode="markers",
                name=f"surge ({stance})",
                marker={"size": 16, "color": "rgba(0,0,0,0)", "line": {"color": "crimson", "width": 3}},
                text=[_label(n, s) for n, s in zip(group["narrative"], group["stance"], strict=True)],
                hovertemplate="surge: %{text}<br>%{y:.0%} of docs (baseline %{customdata:.0%})",
                customdata=group["baseline"],
                visible=True if stance != PRESENT else "legendonly",
            )
        )
    figure.update_layout(
        title=f"Share of documents per narrative, by {period} (framing labels hidden: click the legend)",
        yaxis={"tickformat": ".0%", "title": "share of documents"},
        **_LAYOUT,
    )
    return figure


def breakdown(table: pd.DataFrame, by: str, title: str, max_rows: int = 25) -> go.Figure:
    """A heatmap of share per ``by`` value (outlet or language) x narrative/stance, most documents on top."""
    if table.empty:
        return go.Figure().update_layout(title=f"{title}: no labelled documents", **_LAYOUT)
    frame = table.assign(column=[_label(n, s) for n, s in zip(table["narrative"], table["stance"], strict=True)])
    order = frame.groupby(by)["total_docs"].first().sort_values(ascending=False).index[:max_rows]
    columns = list(dict.fromkeys(frame.sort_values(["stance", "narrative"])["column"]))
    share = frame.pivot_table(index=by, columns="column", values="share", fill_value=0.0).reindex(order)
    docs = frame.pivot_table(index=by, columns="column", values="docs", fill_value=0).reindex(order)
    share, docs = share.reindex(columns=columns, fill_value=0.0), docs.reindex(columns=columns, fill_value=0)
    totals = frame.groupby(by)["total_docs"].first().reindex(order)
    rows = [f"{name} ({int(totals[name])})" for name in order]
    figure = go.Figure(
        go.Heatmap(
            z=share.to_numpy(),
            x=columns,
            y=rows,
            colorscale="Reds",
            zmin=0,
            zmax=1,
            customdata=docs.to_numpy(),
            hovertemplate="%{y}<br>%{x}: %{z:.0%} (%{customdata} docs)<extra></extra>",
            colorbar={"tickformat": ".0%", "title": "share"},
        )
    )
    layout = dict(_LAYOUT) | {"height": max(320, 60 + 28 * len(rows))}
    figure.update_layout(title=title, yaxis={"autorange": "reversed"}, xaxis={"tickangle": -35}, **layout)
    return figure
