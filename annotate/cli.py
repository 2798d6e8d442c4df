"""``narrascope select``: a thin wrapper over :func:`narrascope.annotate.select.select_tasks`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from narrascope.annotate.selection import SelectionSettings
from narrascope.paths import default_data_dir, default_model_dir


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "select",
        help="pick the sentences of a feed worth annotating; write Label Studio or doccano tasks",
        description="Uncertainty near each label's threshold (and disagreement with --model2), then diversity: "
        "no near-duplicates, spread over languages and outlets (the model's encoder embeddings). Tasks carry the "
        "model's labels as pre-annotations, the document id and offsets, and the dataset fields for data import.",
    )
    parser.add_argument("--input", required=True, metavar="PATH|-", help="JSONL/CSV/Parquet/RSS/Atom/folder or -")
    parser.add_argument("--output", required=True, type=Path, help="tasks file (JSON for labelstudio, JSONL doccano)")
    parser.add_argument("--format", choices=("labelstudio", "doccano"), default="labelstudio")
    parser.add_argument("--model", type=Path, default=default_model_dir(), help="model folder")
    parser.add_argument("--model2", type=Path, default=None, help="a second model: rank disagreements too")
    parser.add_argument("--k", type=int, default=SelectionSettings.k, help="number of tasks")
    parser.add_argument("--batch", required=True, help="batch name: ids BATCH-00001..., source annotated/BATCH")
    parser.add_argument("--data", type=Path, default=default_data_dir(), help="dataset: its sentences are skipped")
    parser.add_argument("--register", default="wire_news", help="register of rows without a 'register' field")
    parser.add_argument("--outlet-field", default="outlet", help="input field naming the outlet (else link host)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing output")
    parser.set_defaults(handler=cmd_select)


def cmd_select(args: argparse.Namespace) -> int:
    from narrascope.annotate.select import select_tasks

    if args.output.exists() and not args.force:
        raise FileExistsError(f"{args.output} exists; pass --force to overwrite")
    report = select_tasks(
        args.model,
        args.input,
        args.output,
        args.format,
        args.batch,
        SelectionSettings(k=args.k),
        model2_dir=args.model2,
        data_dir=args.data,
        register=args.register,
        outlet_field=args.outlet_field,
    )
    for reason in report.skipped_records:
        sys.stdout.write(f"skipped: {reason}\n")
    sys.stdout.write(
        f"wrote {report.tasks} tasks to {args.output} from {report.candidates} candidate sentences of "
        f"{report.documents} documents ({len(report.skipped_records)} unreadable records skipped)\n"
    )
    return 0
