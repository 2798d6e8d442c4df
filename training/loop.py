"""The full fine-tuning loop: length-bucketed batches, two learning rates, periodic dev scoring, checkpoints.

Built for 2 CPU cores: word embeddings are frozen by default (96 M of the encoder's 117 M parameters, and
the slowest part of the backward pass), the best dev epoch is kept rather than the last, and a checkpoint is
written regularly so an interrupted run resumes where it stopped. Every number that shapes the result comes
from :class:`TrainingArguments`.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import time
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from narrascope.dataset.splits import SplitData
from narrascope.labels import Taxonomy
from narrascope.training.args import TrainingArguments
from narrascope.training.batching import bucketed_batches, collate, tokenize_texts
from narrascope.training.checkpoints import (
    LoopState,
    has_checkpoint,
    has_weights,
    load_weights,
    restore_checkpoint,
    save_checkpoint,
)
from narrascope.training.losses import smooth_targets, weighted_bce
from narrascope.training.scoring import classifier_view, dev_score

logger = logging.getLogger(__name__)

# Parameters whose names contain these train at the head's rate: the freshly initialised classifier and the
# pooler feeding it, which have far less to preserve than the pretrained encoder.
HEAD_PARAMETERS = ("classifier", "pooler")


def build_optimizer(model: Any, args: TrainingArguments, total_steps: int) -> tuple[Any, Any]:
    """AdamW with the encoder at ``learning_rate`` and the head at ``learning_rate * head_lr_scale``, and a
    linear schedule with ``warmup_ratio`` of the steps as warm-up."""
    from transformers import get_linear_schedule_with_warmup

    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    body = [p for n, p in trainable if not any(h in n for h in HEAD_PARAMETERS)]
    head = [p for n, p in trainable if any(h in n for h in HEAD_PARAMETERS)]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": args.learning_rate}, {"params": head, "lr": args.learning_rate * args.head_lr_scale}],
        weight_decay=args.weight_decay,
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total_steps * args.warmup_ratio), total_steps)
    return optimizer, scheduler


def freeze_word_embeddings(model: Any) -> None:
    for parameter in model.base_model.embeddings.word_embeddings.parameters():
        parameter.requires_grad = False


class FullFineTune:
    """One fine-tuning run over the train split, scored on dev; ``run`` returns the history it records."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        splits: dict[str, SplitData],
        args: TrainingArguments,
        taxonomy: Taxonomy,
        checkpoints: Path,
    ) -> None:
        self.model, self.tokenizer, self.args, self.taxonomy = model, tokenizer, args, taxonomy
        self.train_split, self.dev = splits["train"], splits["dev"]
        self.last_dir, self.best_dir, self.checkpoints = checkpoints / "last", checkpoints / "best", checkpoints
        self.encoded = tokenize_texts(tokenizer, self.train_split.texts, args.max_length)
        self.lengths = [len(ids) for ids in self.encoded]
        if args.freeze_embeddings:
            freeze_word_embeddings(model)
        self.steps_per_epoch = math.ceil(len(self.encoded) / args.batch_size)
        self.total_steps = max(1, int(round(self.steps_per_epoch * args.epochs)))
        self.eval_every = max(1, int(round(self.steps_per_epoch * args.eval_every_epochs)))
        self.optimizer, self.scheduler = build_optimizer(model, args, self.total_steps)
        self.loss_fn = weighted_bce(self.train_split.targets, args.pos_weight_cap)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.smoothed: float | None = None

    def run(self, resume: bool, progress: bool) -> list[dict[str, Any]]:
        state = self._start(resume)
        deadline = time.monotonic() + self.args.time_budget_minutes * 60 if self.args.time_budget_minutes else None
        bar = tqdm(total=self.total_steps, initial=state.step, desc="fine-tuning", unit="step", disable=not progress)
        self.model.train()
        while state.step < self.total_steps:
            self._epoch(state, bar, deadline)
            if deadline is not None and time.monotonic() > deadline:
                logger.warning(
                    "time budget of %.1f min reached at step %d/%d",
                    self.args.time_budget_minutes,
                    state.step,
                    self.total_steps,
                )
                break
        bar.close()
        if has_weights(self.best_dir):
            load_weights(self.best_dir, self.model)
        self.model.eval()
        return state.history

    def _start(self, resume: bool) -> LoopState:
        """Continue from the last checkpoint when asked and present; otherwise clear stale checkpoints."""
        if resume and has_checkpoint(self.last_dir):
            state = restore_checkpoint(self.last_dir, self.model, self.optimizer, self.scheduler)
            logger.info("resuming from %s at step %d/%d", self.last_dir, state.step, self.total_steps)
            return state
        if self.checkpoints.exists():
            shutil.rmtree(self.checkpoints)
        return LoopState()

    def _epoch(self, state: LoopState, bar: Any, deadline: float | None) -> None:
        """The rest of the current epoch (all of it unless resuming mid-epoch), stopping when finished."""
        epoch = state.step // self.steps_per_epoch
        rng = random.Random(self.args.seed + epoch)
        batches = bucketed_batches(self.lengths, self.args.batch_size, rng, self.args.bucket_window_batches)
        for batch in batches[state.step - epoch * self.steps_per_epoch :]:
            loss = self._step(batch)
            state.step += 1
            self.smoothed = loss if self.smoothed is None else 0.9 * self.smoothed + 0.1 * loss
            bar.update(1)
            bar.set_postfix(loss=f"{self.smoothed:.4f}", epoch=f"{state.step / self.steps_per_epoch:.2f}")
            finished = state.step >= self.total_steps or (deadline is not None and time.monotonic() > deadline)
            if state.step % self.eval_every == 0 or finished:
                self._evaluate(state, bar)
            if state.step % self.args.checkpoint_every_steps == 0 or finished:
                save_checkpoint(self.last_dir, self.model, self.optimizer, self.scheduler, state)
            if finished:
                return

    def _step(self, batch: list[int]) -> float:
        inputs = collate(batch, self.encoded, self.train_split.targets, self.pad_id)
        targets = smooth_targets(inputs.pop("labels"), self.args.label_smoothing)
        loss = self.loss_fn(self.model(**inputs).logits, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.args.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(loss.item())

    def _evaluate(self, state: LoopState, bar: Any) -> None:
        """Score dev, record it, and keep these weights as ``best`` if they beat every earlier evaluation."""
        self.model.eval()
        view = classifier_view(self.model, self.tokenizer, self.taxonomy, self.args.max_length)
        _, report = dev_score(view, self.dev, self.args.threshold_search())
        macro = report["summary"]["macro_f1"]
        self.model.train()
        state.history.append(
            {
                "step": state.step,
                "epoch": round(state.step / self.steps_per_epoch, 2),
                "loss": self.smoothed,
                "dev_macro_f1": macro,
            }
        )
        bar.write(f"step {state.step}: dev macro-F1 {macro:.4f} (best {max(state.best, macro):.4f})")
        if macro > state.best:
            state.best = macro
            save_checkpoint(self.best_dir, self.model, self.optimizer, self.scheduler, state)
