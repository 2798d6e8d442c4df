"""``narrascope score``: a thin wrapper over :func:`narrascope.batch.run.score_feed` and
:func:`narrascope.batch.ray_engine.score_feed_ray`; everything it does is callable (and tested) without a shell."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from narrascope.batch.formats import INPUT_FORMATS, OUTPUT_FORMATS
from narrascope.batch.records import FieldMap
from narrascope.batch.run import ScoreSettings, score_feed
from narrascope.batch.sink import Summary
from narrascope.model.documents import EVIDENCE_PER_LABEL
from narrascope.model.runtime import RUNTIME_ENV, RUNTIMES
from narrascope.paths import default_model_dir


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "score",
        help="score a feed, archive or folder into JSONL, CSV or Parquet",
        description="Score documents in batches. Input: JSONL (id, text, extra fields passed through), CSV/TSV, "
        "Parquet, RSS/Atom feed files, a folder of .txt/.html files, or '-' for stdin. Output: JSONL, CSV or a "
        "Parquet folder (one part per batch), flushed per batch; --resume continues a killed job.",
    )
    parser.add_argument("--input", required=True, metavar="PATH|-", help="file, folder, or - for stdin")
    parser.add_argument("--output", required=True, metavar="PATH|-", help="file (Parquet: folder), or - for stdout")
    parser.add_argument(
        "--model", type=Path, default=None, metavar="DIR", help=f"model folder (default {default_model_dir()})"
    )
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default=None, help="output format (default: by extension)")
    parser.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        default=None,
        help="input format (default: by extension; stdin is JSONL)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="append, skipping ids already in the output")
    mode.add_argument("--force", action="store_true", help="overwrite an existing output")
    parser.add_argument(
        "--errors",
        default=None,
        metavar="PATH",
        help="bad records as JSONL (default OUTPUT.errors.jsonl; logged when OUTPUT is -)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="documents per scoring call and per flush")
    parser.add_argument(
        "--forward-tokens",
        type=int,
        default=None,
        help="tokens per forward pass (default: the budget measured for the model's runtime, saved in its folder)",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default=None,
        help=f"forward-pass runtime (default: {RUNTIME_ENV}, else auto: the folder's exported default; torch forces "
        "eager PyTorch)",
    )
    parser.add_argument(
        "--evidence",
        type=int,
        default=EVIDENCE_PER_LABEL,
        dest="evidence_per_label",
        help="evidence sentences kept per predicted label",
    )
    parser.add_argument("--id-field", default="id", help="input field holding the document id")
    parser.add_argument("--text-field", default="text", help="input field holding the document text")
    parser.add_argument("--device", default=None, help="torch device for the local engine (default: cuda if present)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the local engine")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--summary-json", default=None, metavar="PATH", help="also write the summary as JSON")
    ray = parser.add_argument_group("distributed (--engine ray; pip install 'narrascope[distributed]')")
    ray.add_argument("--engine", choices=("local", "ray"), default="local")
    ray.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="existing cluster (e.g. auto or ray://head:10001); default: start a local Ray",
    )
    ray.add_argument("--actors", type=int, default=1, help="scoring actors (each loads the model once)")
    ray.add_argument("--cpus-per-actor", type=float, default=1.0, help="CPUs (and torch threads) per actor")
    ray.add_argument("--gpus-per-actor", type=float, default=0.0, help="GPUs per actor (0: CPU actors)")
    ray.add_argument(
        "--ship",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send the model folder and code to the cluster (default: on with --ray-address)",
    )
    parser.set_defaults(handler=cmd_score)


def settings_from_args(args: argparse.Namespace) -> ScoreSettings:
    return ScoreSettings(
        input=args.input,
        output=args.output,
        model=args.model,
        output_format=args.format,
        input_format=args.input_format,
        resume=args.resume,
        force=args.force,
        errors=args.errors,
        batch_size=args.batch_size,
        fields=FieldMap(args.id_field, args.text_field),
        progress=not args.no_progress,
        evidence_per_label=args.evidence_per_label,
        forward_tokens=args.forward_tokens,
        runtime=args.runtime,
        device=args.device,
        threads=args.threads,
    )


def cmd_score(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    summary: Summary
    if args.engine == "ray":
        from narrascope.batch.ray_engine import RaySettings, score_feed_ray

        ray_settings = RaySettings(
            address=args.ray_address,
            actors=args.actors,
            cpus_per_actor=args.cpus_per_actor,
            gpus_per_actor=args.gpus_per_actor,
            ship=args.ship,
        )
        summary = score_feed_ray(settings, ray_settings)
    else:
        summary = score_feed(settings)
    sys.stderr.write(summary.describe() + "\n")
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary.to_dict(), indent=2) + "\n", encoding="utf-8")
    # Bad records do not fail a job, but a job that scored nothing while rejecting input did not work.
    return 1 if summary.scored == 0 and (summary.failed or summary.duplicates) else 0
