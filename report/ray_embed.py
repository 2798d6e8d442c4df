"""The embedding step of ``narrascope stories --engine ray``: texts embedded by an actor pool on Ray Data.

Embedding is the only costly step (clustering 100,000 vectors takes seconds), so it is the one that runs on
the cluster, like scoring does (:mod:`narrascope.batch.ray_engine`): each actor loads the encoder once, texts
travel in blocks with their position, and the vectors come back in input order.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from narrascope.batch.ray_engine import require_ray
from narrascope.report.embed import EmbedSettings, embed_texts, load_encoder


class EmbedActor:
    """Loads the encoder once; turns a block of ``{"index", "text"}`` rows into ``{"index", "vector"}``."""

    def __init__(self, settings: EmbedSettings, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        self.settings = settings
        self.model = load_encoder(settings.encoder)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        vectors = embed_texts([str(t) for t in batch["text"]], self.settings, self.model)
        return {"index": batch["index"], "vector": list(vectors)}


def embed_on_ray(
    texts: list[str], settings: EmbedSettings, actors: int, address: str | None = None, cpus_per_actor: float = 1.0
) -> np.ndarray:
    """``embed_texts`` on a local Ray (started and stopped here) or the cluster at ``address``."""
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    try:
        dataset = ray.data.from_items([{"index": i, "text": t} for i, t in enumerate(texts)])
        embedded = dataset.map_batches(
            EmbedActor,
            fn_constructor_kwargs={"settings": settings, "threads": max(1, int(cpus_per_actor))},
            compute=ray.data.ActorPoolStrategy(size=actors),
            batch_size=max(settings.batch_size, 32),
            num_cpus=cpus_per_actor,
        )
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for row in embedded.iter_rows():
            vector = np.asarray(row["vector"], dtype=np.float32)
            if out.shape[1] == 0:
                out = np.zeros((len(texts), len(vector)), dtype=np.float32)
            out[int(row["index"])] = vector
        return out
    finally:
        if started:
            ray.shutdown()
