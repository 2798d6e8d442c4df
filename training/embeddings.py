"""Sentence features from a frozen encoder, for the head-only mode and the embedding baseline.

Both run the same length-sorted, dynamically padded pass over every text; only the pooling differs
([CLS] state for the head the classifier will keep, normalised mean for the linear-probe baseline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from tqdm.auto import tqdm

Pooling = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cls_pooling(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return hidden[:, 0]


def mean_pooling(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).float()
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1)


def encode_frozen(
    encoder: Any,
    tokenizer: Any,
    texts: list[str],
    max_length: int,
    pooling: Pooling,
    progress: bool = True,
    desc: str = "encoding",
    batch_size: int = 64,
) -> torch.Tensor:
    """``(len(texts), hidden)`` pooled last-layer states, in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.zeros((len(texts), encoder.config.hidden_size))
    with torch.inference_mode():
        for start in tqdm(range(0, len(order), batch_size), desc=desc, disable=not progress):
            index = order[start : start + batch_size]
            inputs = tokenizer(
                [texts[i] for i in index], truncation=True, max_length=max_length, padding=True, return_tensors="pt"
            )
            out[index] = pooling(encoder(**inputs).last_hidden_state, inputs["attention_mask"])
    return out
