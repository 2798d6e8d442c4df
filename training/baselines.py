"""The two baselines every fine-tuned model must beat, trained and scored on the same split.

A character n-gram TF-IDF model tells whether the transformer learned more than surface wording; frozen
mean-pooled encoder embeddings with logistic regression tell whether fine-tuning beat a linear probe.
Both tune per-label thresholds on dev exactly as the fine-tuned model does, so the comparison is fair.
Their settings are a :class:`BaselineSettings`, returned with each result so the report records them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from narrascope.dataset.splits import SplitData
from narrascope.training.args import threshold_search_from
from narrascope.training.embeddings import encode_frozen, mean_pooling
from narrascope.training.thresholds import ThresholdSearch, tune_thresholds


@dataclass(frozen=True)
class BaselineSettings:
    """Everything that changes a baseline's numbers; the defaults are the published comparison's."""

    seed: int = 13
    logreg_c: float = 4.0
    logreg_class_weight: str | None = "balanced"
    logreg_max_iter: int = 2000
    tfidf_analyzer: str = "char_wb"
    tfidf_ngram_min: int = 2
    tfidf_ngram_max: int = 5
    tfidf_min_df: int = 2
    tfidf_sublinear_tf: bool = True
    tfidf_max_features: int = 200_000
    embedding_max_length: int = 128
    embedding_batch_size: int = 64
    thresholds: ThresholdSearch = field(default_factory=ThresholdSearch)

    @classmethod
    def for_model(cls, training_args: dict[str, Any]) -> BaselineSettings:
        """Default settings, with thresholds searched as the model's own were (read from its training args)."""
        return cls(thresholds=threshold_search_from(training_args))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fit_predict_lr(
    train_x: Any, train_y: np.ndarray, others: list[Any], settings: BaselineSettings
) -> list[np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    outputs = [np.zeros((x.shape[0], train_y.shape[1]), dtype=np.float32) for x in others]
    for j in range(train_y.shape[1]):
        y = train_y[:, j] > 0.5
        if y.all() or not y.any():
            for out in outputs:
                out[:, j] = float(y.mean())
            continue
        clf = LogisticRegression(
            C=settings.logreg_c,
            class_weight=settings.logreg_class_weight,
            max_iter=settings.logreg_max_iter,
            random_state=settings.seed,
        )
        clf.fit(train_x, y)
        for out, x in zip(outputs, others, strict=True):
            out[:, j] = clf.predict_proba(x)[:, 1]
    return outputs


def tfidf_baseline(
    splits: dict[str, SplitData], labels: list[str], settings: BaselineSettings | None = None
) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    settings = settings or BaselineSettings()
    vectorizer = TfidfVectorizer(
        analyzer=settings.tfidf_analyzer,
        ngram_range=(settings.tfidf_ngram_min, settings.tfidf_ngram_max),
        min_df=settings.tfidf_min_df,
        sublinear_tf=settings.tfidf_sublinear_tf,
        max_features=settings.tfidf_max_features,
    )
    train_x = vectorizer.fit_transform(splits["train"].texts)
    dev_x = vectorizer.transform(splits["dev"].texts)
    test_x = vectorizer.transform(splits["test"].texts)
    return _lr_report("char n-gram TF-IDF + logistic regression", [train_x, dev_x, test_x], splits, labels, settings)


def embedding_baseline(
    splits: dict[str, SplitData],
    labels: list[str],
    base_model: str,
    settings: BaselineSettings | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    from transformers import AutoModel, AutoTokenizer

    settings = settings or BaselineSettings()
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    encoder = AutoModel.from_pretrained(base_model).eval()
    features = {
        name: encode_frozen(
            encoder,
            tokenizer,
            split.texts,
            settings.embedding_max_length,
            mean_pooling,
            progress,
            "embedding",
            batch_size=settings.embedding_batch_size,
        ).numpy()
        for name, split in splits.items()
    }
    return _lr_report(
        "frozen mean-pooled encoder + logistic regression",
        [features["train"], features["dev"], features["test"]],
        splits,
        labels,
        settings,
    )


def _lr_report(
    name: str, features: list[Any], splits: dict[str, SplitData], labels: list[str], settings: BaselineSettings
) -> dict[str, Any]:
    """Fit on train features, tune thresholds on dev as the model's were, keep test probabilities to score."""
    train_x, dev_x, test_x = features
    dev_p, test_p = _fit_predict_lr(train_x, splits["train"].targets, [dev_x, test_x], settings)
    thresholds = tune_thresholds(dev_p, splits["dev"].targets > 0.5, labels, settings.thresholds)
    return {"name": name, "thresholds": thresholds, "test_probs": test_p, "settings": settings.to_dict()}
