"""Train/dev/test as label-target matrices, shared by training, evaluation and the baselines.

Kept apart from the training loop so the modules that only need the split (``evaluate``, ``baselines``)
do not import fine-tuning, and so the function can move to the dataset layer with one import change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from narrascope.dataset.rows import SentenceRow, load_sentences
from narrascope.labels import Taxonomy


@dataclass
class SplitData:
    texts: list[str]
    targets: np.ndarray
    languages: list[str]

    @classmethod
    def from_rows(cls, rows: list[SentenceRow], labels: list[str]) -> SplitData:
        index = {label: i for i, label in enumerate(labels)}
        targets = np.zeros((len(rows), len(labels)), dtype=np.float32)
        for r, row in enumerate(rows):
            for label in row.labels:
                if label in index:
                    targets[r, index[label]] = 1.0
        return cls([row.text for row in rows], targets, [row.lang for row in rows])


def load_splits(data_dir: Path, taxonomy: Taxonomy, labels: list[str] | None = None) -> dict[str, SplitData]:
    """Train/dev/test with one target column per label of ``labels`` (default: the taxonomy's ids, in order).

    Evaluation passes the model's own labels so gold and predicted columns line up even when the taxonomy
    gained, lost or reordered labels after the model was trained; gold labels the model lacks are left out.
    """
    rows = load_sentences(data_dir)
    unknown = sorted({label for row in rows for label in row.labels if label not in taxonomy})
    if unknown:
        raise ValueError(f"{data_dir}: labels {unknown} are not in the taxonomy; run narrascope data check")
    splits = {
        name: SplitData.from_rows([r for r in rows if r.split == name], labels or taxonomy.ids)
        for name in ("train", "dev", "test")
    }
    for name, split in splits.items():
        if not split.texts:
            raise ValueError(f"{data_dir}: the {name} split is empty; run narrascope data split")
    return splits
