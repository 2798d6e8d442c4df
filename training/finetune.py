"""``narrascope train``: train a multi-label sentence classifier and write the model folder.

One run: seed, load the split and the base model, train (head-only, or a linear-probe warm-up then full
fine-tuning), fit a per-label calibration on dev and fold it into the head, tune per-label thresholds on dev
(on the calibrated scale), score test, and save weights with their provenance. The
pieces live beside this module: the loop (``loop``), the head-only stage (``headonly``), batching, losses,
checkpoints, scoring and provenance.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from narrascope.dataset.splits import SplitData, load_splits, split_hashes
from narrascope.labels import Taxonomy, load_taxonomy
from narrascope.training.args import TrainingArguments
from narrascope.training.augment import add_latin_kazakh
from narrascope.training.calibration import calibrate_in_place
from narrascope.training.checkpoints import checkpoint_root, has_checkpoint
from narrascope.training.headonly import supports_head_only, train_head
from narrascope.training.loop import FullFineTune
from narrascope.training.package import configure_labels, save_model_folder
from narrascope.training.provenance import run_metadata
from narrascope.training.scoring import classifier_view, dev_score, evaluate_split

logger = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run with ``count`` intra-op threads (0 = torch's current setting) and restore the previous count after.

    ``train`` is a library function too (tests, notebooks): a thread count chosen for one run must not stay
    behind as process-wide state for whatever the caller does next.
    """
    if not count:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _load_base(base_model: str, taxonomy: Taxonomy) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    config = AutoConfig.from_pretrained(base_model)
    configure_labels(config, taxonomy)
    model = AutoModelForSequenceClassification.from_pretrained(base_model, config=config)
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    return model, tokenizer


def _fit(
    model: Any,
    tokenizer: Any,
    splits: dict[str, SplitData],
    args: TrainingArguments,
    taxonomy: Taxonomy,
    checkpoints: Path,
    resume: bool,
    progress: bool,
) -> list[dict[str, Any]]:
    """Train in the requested mode; return the history to record."""
    if args.mode == "head-only":
        return train_head(model, tokenizer, splits, args, taxonomy, progress=progress)
    history: list[dict[str, Any]] = []
    resuming = resume and has_checkpoint(checkpoints / "last")
    if args.head_warmup and supports_head_only(model) and not resuming:
        # Linear probe, then fine-tune: a trained head gives the encoder useful gradients from the first
        # step instead of noise from a random head, which converges in far fewer CPU steps.
        history = train_head(model, tokenizer, splits, args, taxonomy, progress=progress)
    fine_tune = FullFineTune(model, tokenizer, splits, args, taxonomy, checkpoints)
    return history + fine_tune.run(resume, progress)


def train(
    data_dir: Path,
    output: Path,
    args: TrainingArguments | None = None,
    taxonomy: Taxonomy | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train, pick the best dev epoch, tune thresholds on dev, score test, write the model folder."""
    args = args or TrainingArguments()
    with torch_threads(args.num_threads):
        return _train(data_dir, output, args, taxonomy or load_taxonomy(), resume, progress)


def _train(
    data_dir: Path, output: Path, args: TrainingArguments, taxonomy: Taxonomy, resume: bool, progress: bool
) -> dict[str, Any]:
    from narrascope.training.encoder import resolve_base_model

    seed_everything(args.seed)
    started = time.monotonic()
    splits = load_splits(data_dir, taxonomy)
    splits["train"] = add_latin_kazakh(splits["train"], args.latin_kazakh_augment, args.seed)
    base_model = resolve_base_model(args.base_model)
    model, tokenizer = _load_base(base_model, taxonomy)
    history = _fit(model, tokenizer, splits, args, taxonomy, checkpoint_root(output), resume, progress)

    classifier = classifier_view(model, tokenizer, taxonomy, args.max_length)
    calibration = None
    if args.calibration == "auto":
        # Before the threshold search, so thresholds are tuned on the calibrated scale the folder ships with.
        dev = splits["dev"]
        calibration = calibrate_in_place(
            classifier, dev.texts, dev.targets, args.calibration_settings(), split_hashes(data_dir)["dev"]
        )
    thresholds, dev_report = dev_score(classifier, splits["dev"], args.threshold_search())
    test_report = evaluate_split(classifier, splits["test"], thresholds)
    seconds = time.monotonic() - started
    metrics = {"dev": dev_report, "test": test_report}
    if splits["idea_test"].texts:  # ideas of data/ideas.yaml, never trained on
        metrics["idea_test"] = evaluate_split(classifier, splits["idea_test"], thresholds)
    metadata = run_metadata(args, base_model, data_dir, splits, seconds, history, metrics)
    save_model_folder(
        output, model, tokenizer, taxonomy, thresholds, metadata, max_length=args.max_length, calibration=calibration
    )
    logger.info(
        "trained %s model in %.0f s: dev macro-F1 %.3f, test micro-F1 %.3f, macro-F1 %.3f -> %s",
        args.mode,
        seconds,
        dev_report["summary"]["macro_f1"],
        test_report["summary"]["micro_f1"],
        test_report["summary"]["macro_f1"],
        output,
    )
    return metadata
