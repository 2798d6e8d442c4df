"""Turning the training split into padded batches cheaply on CPU.

Most sentences are far shorter than ``max_length``; tokenizing once without padding and padding each batch
only to its own longest sentence, with similar lengths batched together, removes most wasted compute.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from narrascope.model.classifier import pad_batch


def tokenize_texts(tokenizer: Any, texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids per text, truncated but unpadded (batches are padded later, each to its own length)."""
    from datasets import Dataset

    dataset = Dataset.from_dict({"text": texts}).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=max_length),
        batched=True,
        desc="tokenizing",
    )
    encoded: list[list[int]] = dataset["input_ids"]
    return encoded


def bucketed_batches(
    lengths: list[int], batch_size: int, rng: random.Random, window_batches: int = 50
) -> list[list[int]]:
    """Shuffle, sort within windows of ``window_batches`` batches by length, cut into batches, shuffle those.

    Similar lengths share a batch (little padding) while the order stays random enough for SGD.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * window_batches
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(batch: list[int], encoded: list[list[int]], targets: np.ndarray, pad_id: int) -> dict[str, torch.Tensor]:
    ids, mask = pad_batch([encoded[i] for i in batch], pad_id)
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.from_numpy(targets[batch])}
