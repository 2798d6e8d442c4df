"""``narrascope data``: check, split, import, export, and turn moderators' feedback into dataset rows.

Every command that reads or writes dataset rows lives here, beside the code it wraps, so the research side
(``training``) and the service (``serve``) need no dataset commands of their own. Each handler is a thin wrapper
over an importable function so tests call the function, not a shell.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from narrascope.paths import default_data_dir


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def register(sub: Any) -> None:
    """Add ``data`` and its actions to the ``narrascope`` command."""
    data = sub.add_parser("data", help="check, split, import and export the dataset; export moderator feedback")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    check = data_sub.add_parser("check", help="validate rows and size/balance rules; print the count table")
    check.add_argument("--data", type=Path, default=default_data_dir())
    check.set_defaults(handler=cmd_data_check)
    split = data_sub.add_parser("split", help="(re)assign train/dev/test deterministically by group")
    split.add_argument("--data", type=Path, default=default_data_dir())
    split.add_argument("--seed", type=int, default=13)
    split.set_defaults(handler=cmd_data_split)
    imp = data_sub.add_parser("import", help="import Label Studio JSON or doccano JSONL into a sentence file")
    imp.add_argument("input", type=Path)
    imp.add_argument("--format", choices=("labelstudio", "doccano"), required=True)
    imp.add_argument(
        "--output", type=Path, required=True, help="sentence JSONL to write (e.g. data/sentences/xx.jsonl)"
    )
    imp.add_argument("--force", action="store_true", help="overwrite an existing output")
    imp.add_argument(
        "--batch", default=None, help="annotation batch name: every row gets source annotated/BATCH (provenance)"
    )
    imp.add_argument(
        "--data",
        type=Path,
        default=default_data_dir(),
        help="dataset to check for conflicts (same normalised text, different labels); those rows are reported",
    )
    imp.set_defaults(handler=cmd_data_import)
    exp = data_sub.add_parser("export", help="export a split to Label Studio JSON or doccano JSONL")
    exp.add_argument("--format", choices=("labelstudio", "doccano"), required=True)
    exp.add_argument("--split", choices=("train", "dev", "test", "all"), default="all")
    exp.add_argument("--lang", default=None, help="only this language")
    exp.add_argument("--data", type=Path, default=default_data_dir())
    exp.add_argument("--output", type=Path, required=True)
    exp.add_argument("--force", action="store_true")
    exp.set_defaults(handler=cmd_data_export)
    config = data_sub.add_parser("labelstudio-config", help="print the Label Studio labeling interface XML")
    config.set_defaults(handler=cmd_labelstudio_config)
    feedback = data_sub.add_parser(
        "feedback",
        help="write moderators' stored corrections as dataset rows (JSONL), checked by the data check",
        description="Rows use register=moderator_feedback, source=feedback, split=train.",
    )
    feedback.add_argument("output", type=Path, help="JSONL file to write")
    feedback.add_argument(
        "--db", help="SQLAlchemy URL of the feedback store (default: $NARRASCOPE_FEEDBACK_URL, else the service's)"
    )
    feedback.add_argument("--force", action="store_true", help="overwrite an existing output file")
    feedback.add_argument(
        "--skip-invalid", action="store_true", help="leave out rows the data check rejects instead of failing"
    )
    feedback.set_defaults(handler=cmd_data_feedback)


def cmd_data_check(args: argparse.Namespace) -> int:
    from narrascope.dataset.check import check_dataset

    report = check_dataset(args.data)
    _out(report.table)
    _out(json.dumps(report.counts, ensure_ascii=False))
    for problem in report.problems:
        _out(str(problem))
    _out(f"{len(report.problems)} problem(s)" if report.problems else "data check passed")
    return 1 if report.problems else 0


def cmd_data_split(args: argparse.Namespace) -> int:
    from narrascope.dataset.splits import resplit_dataset

    counts = resplit_dataset(args.data, seed=args.seed)
    _out(json.dumps(counts))
    return 0


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite")


def cmd_data_import(args: argparse.Namespace) -> int:
    from narrascope.dataset.annotated import import_annotations

    _refuse_overwrite(args.output, args.force)
    report = import_annotations(args.input, args.format, args.output, args.data, batch=args.batch)
    for kind, reasons in (
        ("not annotated", report.unannotated),
        ("already present", report.already_present),
        ("CONFLICT", report.conflicts),
    ):
        for reason in reasons:
            _out(f"{kind}: {reason}")
    _out(
        f"imported {report.written} rows into {args.output} ({len(report.conflicts)} conflict(s), "
        f"{len(report.already_present)} already present, {len(report.unannotated)} not annotated); "
        "run narrascope data check"
    )
    return 1 if report.conflicts else 0


def cmd_data_export(args: argparse.Namespace) -> int:
    from narrascope.dataset.interchange import write_rows
    from narrascope.dataset.rows import load_sentences

    _refuse_overwrite(args.output, args.force)
    rows = [
        row.to_json()
        for row in load_sentences(args.data)
        if (args.split == "all" or row.split == args.split) and (args.lang is None or row.lang == args.lang)
    ]
    write_rows(rows, args.output, args.format)
    _out(f"exported {len(rows)} rows to {args.output}")
    return 0


def cmd_labelstudio_config(args: argparse.Namespace) -> int:
    from narrascope.dataset.interchange import labelstudio_config

    _out(labelstudio_config())
    return 0


def cmd_data_feedback(args: argparse.Namespace) -> int:
    from narrascope.dataset.feedback import export_feedback
    from narrascope.dataset.feedback_store import FeedbackStore
    from narrascope.paths import default_feedback_url

    store = FeedbackStore(args.db or default_feedback_url(), create=False)
    try:
        report = export_feedback(store, args.output, force=args.force, skip_invalid=args.skip_invalid)
    finally:
        store.close()
    for reason in report.skipped:
        _out(f"left out: {reason}")
    for row_id, reasons in report.dropped.items():
        _out(f"dropped {row_id}: {'; '.join(reasons)}")
    _out(f"wrote {report.written} feedback rows to {report.path}; review them, then run narrascope data check")
    return 0
