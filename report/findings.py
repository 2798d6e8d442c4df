"""What a desk editor looks for first: surges, the strongest evidence, and stories carried by many outlets.

A surge is a period in which a narrative's share of documents is well above its trailing baseline (the mean
share over the previous ``baseline`` periods): at least ``ratio`` times the baseline *and* ``min_delta`` above
it, over at least ``min_docs`` documents, and a count the baseline rate makes unlikely (binomial tail at most
``max_p``), so a single post on a quiet day or an ordinary wobble of a small sample is not a surge. Each surge names the
documents that drove it and their evidence sentences. The thresholds are :class:`SurgeSettings`, recorded
with the report.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from narrascope.report.prevalence import NO_SOURCE, PRESENT, PUSHED, mentions
from narrascope.report.scored import ScoredDoc
from narrascope.report.settings import SurgeSettings

SURGE_STANCES = (PUSHED, PRESENT)


def find_surges(series: pd.DataFrame, settings: SurgeSettings) -> pd.DataFrame:
    """Rows of ``series`` (from :func:`~narrascope.report.prevalence.over_time`) that are surges.

    Besides the share conditions, the count must be unlikely under the baseline rate (one-sided binomial tail,
    scipy, at most ``max_p``; the rate is the trailing periods' documents with add-one smoothing): on a day of
    twenty documents, three more than usual is noise, not a surge. Rebuttals are left out on purpose: a wave of
    fact-checks is good news, not a narrative on the rise.
    """
    from scipy.stats import binom

    columns = ["period", "narrative", "stance", "docs", "total_docs", "share", "baseline", "p_value"]
    found = []
    for (_, stance), group in series.groupby(["narrative", "stance"]):
        if stance not in SURGE_STANCES:
            continue
        group = group.sort_values("period").reset_index(drop=True)
        window = {"window": settings.baseline, "min_periods": settings.min_history}
        trailing = group["share"].shift(1).rolling(**window).mean()
        prior_docs = group["docs"].shift(1).rolling(**window).sum()
        prior_total = group["total_docs"].shift(1).rolling(**window).sum()
        rate = (prior_docs + 1) / (prior_total + 2)
        p_value = pd.Series(binom.sf(group["docs"] - 1, group["total_docs"], rate.fillna(1.0)), index=group.index)
        hit = (
            trailing.notna()
            & (group["docs"] >= settings.min_docs)
            & (group["share"] >= settings.ratio * trailing)
            & (group["share"] - trailing >= settings.min_delta)
            & (p_value <= settings.max_p)
        )
        if hit.any():
            rows = group[hit].copy()
            rows["baseline"], rows["p_value"] = trailing[hit].round(4), p_value[hit].map(lambda v: float(f"{v:.2g}"))
            found.append(rows)
    if not found:
        return pd.DataFrame(columns=columns)
    return pd.concat(found, ignore_index=True)[columns].sort_values(["period", "narrative"]).reset_index(drop=True)


def surge_documents(
    surge: pd.Series, docs: list[ScoredDoc], period_of: dict[str, Any], limit: int = 5
) -> list[dict[str, Any]]:
    """The documents behind one surge, strongest evidence first, each with its best sentence."""
    out = []
    for doc in docs:
        if period_of.get(doc.id) != surge["period"]:
            continue
        if not any(m.narrative == surge["narrative"] and m.stance == surge["stance"] for m in mentions(doc)):
            continue
        sentences = doc.evidence.get(surge["narrative"]) or [{}]
        best = max(sentences, key=lambda e: float(e.get("score") or 0.0))
        out.append(_doc_ref(doc) | {"evidence": best.get("text"), "score": best.get("score")})
    out.sort(key=lambda r: -float(r["score"] or 0.0))
    return out[:limit]


def _doc_ref(doc: ScoredDoc) -> dict[str, Any]:
    return {
        "id": doc.id,
        "source": doc.source or NO_SOURCE,
        "date": doc.date.isoformat(sep=" ", timespec="minutes") if doc.date else None,
        "language": doc.language,
        "link": doc.link,
    }


def top_evidence(docs: list[ScoredDoc], narratives: list[str], per_narrative: int = 5) -> pd.DataFrame:
    """The strongest evidence sentences of each narrative, one per distinct text, with the document they are in."""
    rows = []
    for narrative in narratives:
        candidates = []
        for doc in docs:
            stance = next((m.stance for m in mentions(doc) if m.narrative == narrative), None)
            if stance is None:
                continue
            for sentence in doc.evidence.get(narrative, []):
                candidates.append((float(sentence.get("score") or 0.0), str(sentence.get("text", "")), stance, doc))
        candidates.sort(key=lambda c: (-c[0], c[3].id))
        seen: set[str] = set()
        for score, text, stance, doc in candidates:
            key = " ".join(text.lower().split())
            if key in seen:
                continue
            seen.add(key)
            rows.append({"narrative": narrative, "stance": stance, "score": score, "text": text} | _doc_ref(doc))
            if len(seen) == per_narrative:
                break
    columns = ["narrative", "stance", "score", "text", "id", "source", "date", "language", "link"]
    return pd.DataFrame(rows, columns=columns)


def spreading_stories(docs: list[ScoredDoc], window_days: float, min_outlets: int = 2) -> pd.DataFrame:
    """Stories carried by several outlets or in several languages within ``window_days`` of their first sighting.

    Only documents dated within the window from the story's first dated document count, so an old text
    re-surfacing months later does not make a story look coordinated; undated members are listed apart.
    """
    groups: dict[str, list[ScoredDoc]] = {}
    for doc in docs:
        if doc.story is not None:
            groups.setdefault(doc.story, []).append(doc)
    rows = []
    window = timedelta(days=window_days)
    for story, members in groups.items():
        dated = sorted((d for d in members if d.date is not None), key=lambda d: (d.date, d.id))
        if not dated:
            continue
        first = dated[0]
        assert first.date is not None
        inside = [d for d in dated if d.date is not None and d.date - first.date <= window]
        outlets = sorted({d.source or NO_SOURCE for d in inside})
        languages = sorted({d.language for d in inside})
        if len(outlets) < min_outlets and len(languages) < 2:
            continue
        pushed = sorted({label for d in inside for label in d.pushed})
        rows.append(
            {
                "story": story,
                "docs": len(inside),
                "outlets": len(outlets),
                "languages": ", ".join(languages),
                "first_seen": first.date.isoformat(sep=" ", timespec="minutes"),
                "first_outlet": first.source or NO_SOURCE,
                "first_id": first.id,
                "last_seen": inside[-1].date.isoformat(sep=" ", timespec="minutes") if inside[-1].date else None,
                "narratives_pushed": ", ".join(pushed),
                "outlet_list": ", ".join(outlets),
                "title": next((d.title for d in inside if d.title), None),
                "undated_docs": len(members) - len(dated),
                "member_ids": " ".join(d.id for d in inside),
            }
        )
    columns = [
        "story", "docs", "outlets", "languages", "first_seen", "first_outlet", "first_id", "last_seen",
        "narratives_pushed", "outlet_list", "title", "undated_docs", "member_ids",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["outlets", "docs", "first_seen"], ascending=[False, False, True]).reset_index(drop=True)
