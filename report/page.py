"""One self-contained HTML page: the charts (plotly.js inlined once), the findings tables and the data notes.

Every value from the documents is escaped; links are only ever ``http(s)`` (a ``javascript:`` link in a
scraped feed must not become a clickable script in an analyst's browser).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:1.5rem;
color:#222}h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.6rem 0}th,td{border:1px solid #e3e3e3;
padding:.3rem .45rem;text-align:left;vertical-align:top}th{background:#f6f6f6}.muted{color:#666}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;
min-width:9rem}.card b{display:block;font-size:1.5rem}.warn{color:#a00}.chart{margin:1rem 0}
"""


def esc(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value))


def safe_link(url: Any, text: Any) -> str:
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{esc(text)}</a>'
    return esc(text)


def table(frame: pd.DataFrame, columns: list[str], empty: str, links: bool = True) -> str:
    """An HTML table of ``columns``; the ``id`` cell links to the document's own link when it has one."""
    if frame.empty:
        return f'<p class="muted">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column in columns:
            value = row.get(column)
            if column == "share" or column == "baseline":
                cells.append(f"<td>{float(value):.0%}</td>")
            elif column == "id" and links:
                cells.append(f"<td>{safe_link(row.get('link'), value)}</td>")
            else:
                cells.append(f"<td>{esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


@dataclass
class Page:
    """Sections in order; :meth:`render` returns the whole document."""

    title: str
    subtitle: str
    sections: list[str] = field(default_factory=list)
    _charts: int = 0

    def heading(self, text: str, note: str = "") -> None:
        self.sections.append(f"<h2>{esc(text)}</h2>" + (f'<p class="muted">{esc(note)}</p>' if note else ""))

    def raw(self, markup: str) -> None:
        self.sections.append(markup)

    def chart(self, figure: go.Figure) -> None:
        self._charts += 1
        div = figure.to_html(
            full_html=False, include_plotlyjs=False, div_id=f"chart-{self._charts}", config={"displaylogo": False}
        )
        self.sections.append(f'<div class="chart">{div}</div>')

    def cards(self, items: list[tuple[str, Any, bool]]) -> None:
        cells = "".join(
            f'<div class="card{" warn" if warn else ""}"><b>{esc(value)}</b>{esc(name)}</div>'
            for name, value, warn in items
        )
        self.sections.append(f'<div class="cards">{cells}</div>')

    def render(self) -> str:
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(self.title)}</title><style>{_STYLE}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
            f'<h1>{esc(self.title)}</h1><p class="muted">{esc(self.subtitle)}</p>'
            + "".join(self.sections)
            + "</body></html>"
        )
