"""Head-only training: freeze the encoder, cache its [CLS] states once, fit the pooler and label heads.

Researchers iterating on labels need minutes, not a full fine-tune. The encoder pass is done once per
sentence; the heads then train on cached features in seconds. The result is the same model folder format as
a full fine-tune (a standard sequence-classification head), so nothing downstream changes. The same stage
warms the head up before a full fine-tune (``head_warmup``).
"""

from __future__ import annotations

from typing import Any

import torch
from tqdm.auto import tqdm

from narrascope.dataset.splits import SplitData
from narrascope.labels import Taxonomy
from narrascope.training.args import TrainingArguments
from narrascope.training.embeddings import cls_pooling, encode_frozen
from narrascope.training.losses import weighted_bce

# Every this many epochs the head's train and dev loss go into the history (reporting only).
HISTORY_EVERY_EPOCHS = 25


def supports_head_only(model: Any) -> bool:
    """Head-only training needs the BERT layout: a pooler over [CLS] and a linear classifier."""
    return getattr(model.base_model, "pooler", None) is not None and isinstance(
        getattr(model, "classifier", None), torch.nn.Linear
    )


def train_head(
    model: Any,
    tokenizer: Any,
    splits: dict[str, SplitData],
    args: TrainingArguments,
    taxonomy: Taxonomy,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Fit pooler and classifier on frozen [CLS] features; keep the epoch with the lowest dev loss."""
    if not supports_head_only(model):
        raise ValueError(
            f"head-only mode needs a BERT-style model with a pooler and a linear classifier; "
            f"{type(model).__name__} has none: use --mode full"
        )
    model.eval()
    train, dev = splits["train"], splits["dev"]
    features = encode_frozen(model.base_model, tokenizer, train.texts, args.max_length, cls_pooling, progress)
    dev_features = encode_frozen(model.base_model, tokenizer, dev.texts, args.max_length, cls_pooling, progress)
    targets, dev_targets = torch.from_numpy(train.targets), torch.from_numpy(dev.targets)
    pooler, classifier = model.base_model.pooler, model.classifier
    head = torch.nn.ModuleDict({"pooler": pooler, "classifier": classifier})
    optimizer = torch.optim.AdamW(head.parameters(), lr=args.head_learning_rate, weight_decay=args.weight_decay)
    loss_fn = weighted_bce(train.targets, args.pos_weight_cap)
    generator = torch.Generator().manual_seed(args.seed)
    history: list[dict[str, Any]] = []
    best_state: dict[str, torch.Tensor] | None = None
    best_loss = float("inf")
    bar = tqdm(range(args.head_epochs), desc="head", disable=not progress)
    for epoch in bar:
        head.train()
        perm = torch.randperm(len(features), generator=generator)
        for start in range(0, len(perm), args.head_batch_size):
            index = perm[start : start + args.head_batch_size]
            loss = loss_fn(classifier(pooler.dense(features[index]).tanh()), targets[index])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        head.eval()
        with torch.no_grad():
            dev_logits = classifier(pooler.dense(dev_features).tanh())
            dev_loss = float(torch.nn.functional.binary_cross_entropy_with_logits(dev_logits, dev_targets))
        bar.set_postfix(loss=f"{loss.item():.4f}", dev_loss=f"{dev_loss:.4f}")
        if dev_loss < best_loss:
            best_loss = dev_loss
            best_state = {k: v.clone() for k, v in head.state_dict().items()}
        if epoch % HISTORY_EVERY_EPOCHS == 0:
            history.append({"epoch": epoch, "loss": float(loss.item()), "dev_loss": dev_loss})
    if best_state is not None:
        head.load_state_dict(best_state)
    history.append({"best_dev_loss": best_loss})
    return history
