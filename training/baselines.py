"""The two baselines every fine-tuned model must beat, trained and scored on the same split.

A character n-gram TF-IDF model tells whether the transformer learned more than surface wording; frozen
mean-pooled encoder embeddings with logistic regression tell whether fine-tuning beat a linear probe.
Both tune per-label thresholds on dev exactly as the fine-tuned model does, so the comparison is fair.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from narrascope.training.embeddings import encode_frozen, mean_pooling
from narrascope.training.splitdata import SplitData
from narrascope.training.thresholds import tune_thresholds


def _fit_predict_lr(train_x: Any, train_y: np.ndarray, others: list[Any], seed: int) -> list[np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    outputs = [np.zeros((x.shape[0], train_y.shape[1]), dtype=np.float32) for x in others]
    for j in range(train_y.shape[1]):
        y = train_y[:, j] > 0.5
        if y.all() or not y.any():
            for out in outputs:
                out[:, j] = float(y.mean())
            continue
        clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=seed)
        clf.fit(train_x, y)
        for out, x in zip(outputs, others, strict=True):
            out[:, j] = clf.predict_proba(x)[:, 1]
    return outputs


def tfidf_baseline(splits: dict[str, SplitData], labels: list[str], seed: int = 13) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=200_000
    )
    train_x = vectorizer.fit_transform(splits["train"].texts)
    dev_x = vectorizer.transform(splits["dev"].texts)
    test_x = vectorizer.transform(splits["test"].texts)
    dev_p, test_p = _fit_predict_lr(train_x, splits["train"].targets, [dev_x, test_x], seed)
    thresholds = tune_thresholds(dev_p, splits["dev"].targets > 0.5, labels)
    return {"name": "char n-gram TF-IDF + logistic regression", "thresholds": thresholds, "test_probs": test_p}


def embedding_baseline(
    splits: dict[str, SplitData], labels: list[str], base_model: str, seed: int = 13, progress: bool = True
) -> dict[str, Any]:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_model)
    encoder = AutoModel.from_pretrained(base_model).eval()
    features = {
        name: encode_frozen(encoder, tokenizer, split.texts, 128, mean_pooling, progress, "embedding").numpy()
        for name, split in splits.items()
    }
    dev_p, test_p = _fit_predict_lr(
        features["train"], splits["train"].targets, [features["dev"], features["test"]], seed
    )
    thresholds = tune_thresholds(dev_p, splits["dev"].targets > 0.5, labels)
    return {"name": "frozen mean-pooled encoder + logistic regression", "thresholds": thresholds, "test_probs": test_p}
