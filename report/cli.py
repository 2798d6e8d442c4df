"""``narrascope report`` and ``narrascope stories``: thin wrappers over :func:`~narrascope.report.build.build_report`
and :func:`~narrascope.report.stories.assign_stories`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from narrascope.paths import default_encoder_dir
from narrascope.report.cluster import CENTERED_THRESHOLD, METHODS, PLAIN_THRESHOLD, ClusterSettings
from narrascope.report.embed import POOLINGS, EmbedSettings
from narrascope.report.scored import DATE_FIELDS, SOURCE_FIELDS
from narrascope.report.settings import PERIODS, ReportSettings, SurgeSettings


def register(sub: Any) -> None:
    _register_report(sub)
    _register_stories(sub)


def _register_report(sub: Any) -> None:
    defaults, surge = ReportSettings(inputs=["-"], output=Path(".")), SurgeSettings()
    parser = sub.add_parser(
        "report",
        help="an offline HTML report (and CSV/Parquet tables) of narratives over scored outputs",
        description="Prevalence of each narrative over time, per outlet and per language (pushed and rebutted "
        "claims apart), surges with the documents behind them, top evidence sentences, and stories spanning "
        "several outlets or languages (when the input carries story ids from `narrascope stories`).",
    )
    parser.add_argument("--input", required=True, nargs="+", metavar="SCORED", help="scored .jsonl/.csv/.parquet")
    parser.add_argument("--output", required=True, type=Path, metavar="DIR", help="report folder")
    parser.add_argument("--period", choices=list(PERIODS), default=defaults.period, help="time bucket")
    parser.add_argument(
        "--date-field", action="append", default=None, help=f"field holding the date (default: {DATE_FIELDS})"
    )
    parser.add_argument(
        "--source-field", action="append", default=None, help=f"field naming the outlet (default: {SOURCE_FIELDS})"
    )
    parser.add_argument("--surge-ratio", type=float, default=surge.ratio, help="share >= RATIO x trailing baseline")
    parser.add_argument("--surge-min-delta", type=float, default=surge.min_delta, help="and at least this far above")
    parser.add_argument("--surge-min-docs", type=int, default=surge.min_docs, help="and over at least N documents")
    parser.add_argument(
        "--surge-max-p", type=float, default=surge.max_p, help="and a binomial tail under the baseline rate <= P"
    )
    parser.add_argument("--surge-baseline", type=int, default=surge.baseline, help="trailing periods in the baseline")
    parser.add_argument(
        "--story-window", type=float, default=defaults.story_window_days, metavar="DAYS", help="story window"
    )
    parser.add_argument("--evidence", type=int, default=defaults.evidence_per_narrative, help="sentences per narrative")
    parser.add_argument("--title", default=defaults.title, help="report title")
    parser.add_argument("--force", action="store_true", help="replace an existing report folder")
    parser.set_defaults(handler=cmd_report)


def _register_stories(sub: Any) -> None:
    embed, clustering = EmbedSettings(encoder=Path(".")), ClusterSettings()
    parser = sub.add_parser(
        "stories",
        help="give scored documents a `story` id shared across translations, re-posts and rewrites",
        description="Embeds each document with the embedded multilingual encoder and groups near neighbours "
        "(faiss) into stories. Texts come from --texts (the inputs that were scored) or a text column.",
    )
    parser.add_argument("--input", required=True, nargs="+", metavar="SCORED", help="scored .jsonl/.csv/.parquet")
    parser.add_argument("--texts", nargs="+", default=[], metavar="FEED", help="the scored inputs, for the texts")
    parser.add_argument("--output", required=True, metavar="PATH", help="scored rows with `story` (.jsonl/.parquet)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help=f"cosine similarity of a link (default {CENTERED_THRESHOLD} on language-centred vectors, "
        f"{PLAIN_THRESHOLD} with --no-center)",
    )
    parser.add_argument(
        "--no-center",
        action="store_true",
        help="keep the encoder's vectors as they are instead of subtracting each language's mean",
    )
    parser.add_argument("--neighbours", type=int, default=clustering.neighbours, help="neighbours per document")
    parser.add_argument("--method", choices=METHODS, default=clustering.method, help="graph clustering")
    parser.add_argument("--pooling", choices=POOLINGS, default=embed.pooling, help="document vector")
    parser.add_argument("--encoder", type=Path, default=None, help=f"encoder folder (default {default_encoder_dir()})")
    parser.add_argument("--engine", choices=("local", "ray"), default="local", help="where the embedding runs")
    parser.add_argument("--actors", type=int, default=1, help="Ray actors (with --engine ray)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=cmd_stories)


def cmd_report(args: argparse.Namespace) -> int:
    from narrascope.report.build import build_report

    settings = ReportSettings(
        inputs=list(args.input),
        output=args.output,
        period=args.period,
        surges=SurgeSettings(
            baseline=args.surge_baseline,
            ratio=args.surge_ratio,
            min_delta=args.surge_min_delta,
            min_docs=args.surge_min_docs,
            max_p=args.surge_max_p,
            min_history=min(SurgeSettings().min_history, args.surge_baseline),
        ),
        story_window_days=args.story_window,
        evidence_per_narrative=args.evidence,
        date_fields=tuple(args.date_field) if args.date_field else DATE_FIELDS,
        source_fields=tuple(args.source_field) if args.source_field else SOURCE_FIELDS,
        title=args.title,
        force=args.force,
    )
    summary = build_report(settings)
    sys.stderr.write(summary.describe() + "\n")
    return 0


def cmd_stories(args: argparse.Namespace) -> int:
    from narrascope.report.stories import StorySettings, assign_stories

    embed = EmbedSettings(
        pooling=args.pooling,
        center_languages=not args.no_center,
        **({"encoder": args.encoder} if args.encoder else {}),
    )
    settings = StorySettings(
        inputs=list(args.input),
        output=args.output,
        texts=list(args.texts),
        embed=embed,
        clustering=ClusterSettings(method=args.method, threshold=args.threshold, neighbours=args.neighbours),
        engine=args.engine,
        actors=args.actors,
        force=args.force,
        progress=not args.no_progress,
    )
    summary = assign_stories(settings)
    sys.stderr.write(summary.describe() + "\n")
    return 0
