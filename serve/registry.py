"""The classifier being served, swapped atomically on reload.

Readers take a reference with :attr:`ModelRegistry.current` once per batch and keep it until the batch is
done, so a swap (a single attribute assignment) never changes the model under a request that is already
being scored: in-flight batches finish on the old model and the old model is freed when the last of them
drops its reference. A candidate is validated before the swap; any failure leaves the old model serving.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrascope.model.classifier import ModelFolderError
from narrascope.model.documents import Document, ScoringOptions, score_documents
from narrascope.model.protocol import Classifier

logger = logging.getLogger(__name__)

SMOKE_TEXT = (
    "Kazakhstan is not preparing for war, the Ministry of Defense said. "
    "Казахстан не готовится к войне. The law creates territorial defence units."
)

Loader = Callable[[Path], Classifier]


class ModelNotReadyError(RuntimeError):
    """No model is loaded yet (or loading failed at startup)."""


class ModelValidationError(ValueError):
    """A loaded folder failed the checks that must pass before it may serve traffic."""


@dataclass(frozen=True)
class ReloadOutcome:
    ok: bool
    reason: str | None
    serving: dict[str, Any]
    previous: dict[str, Any] | None = None
    labels_changed: bool = False
    seconds: float = 0.0


def validate_classifier(classifier: Classifier) -> None:
    """Labels present and a smoke score that returns sane probabilities.

    The folder's static checks (unique labels, a kind and a threshold in [0, 1] for each) live in
    ``NarrativeClassifier.load``, so batch jobs and eval refuse the same folders the service does.
    """
    if not classifier.labels:
        raise ModelValidationError("the model has no labels")
    results = score_documents(classifier, [Document("smoke", SMOKE_TEXT)], ScoringOptions())
    if len(results) != 1 or set(results[0].scores) != set(classifier.labels):
        raise ModelValidationError("smoke score returned a result that does not cover the model's labels")
    bad = {k: v for k, v in results[0].scores.items() if not (math.isfinite(v) and 0.0 <= v <= 1.0)}
    if bad:
        raise ModelValidationError(f"smoke score returned probabilities outside [0, 1]: {bad}")


def _summary(classifier: Classifier) -> dict[str, Any]:
    info = classifier.info
    return {"name": info.name, "version": info.version, "path": info.path, "labels": len(classifier.labels)}


class ModelRegistry:
    """Holds the current classifier; loads and validates candidates off the event loop."""

    def __init__(self, loader: Loader) -> None:
        self._loader = loader
        self._current: Classifier | None = None
        self._lock = asyncio.Lock()
        self.loaded_at: float | None = None
        self.on_swap: list[Callable[[Classifier], None]] = []

    @property
    def ready(self) -> bool:
        return self._current is not None

    @property
    def current(self) -> Classifier:
        classifier = self._current
        if classifier is None:
            raise ModelNotReadyError("no model is loaded")
        return classifier

    def _load_and_validate(self, path: Path) -> Classifier:
        classifier = self._loader(path)
        validate_classifier(classifier)
        return classifier

    def _swap(self, classifier: Classifier) -> None:
        self._current = classifier
        self.loaded_at = time.time()
        for callback in self.on_swap:
            callback(classifier)

    async def load_initial(self, path: Path) -> None:
        """Startup load: failures propagate, since a service with no model must not report ready."""
        async with self._lock:
            classifier = await asyncio.to_thread(self._load_and_validate, path)
            self._swap(classifier)
        logger.info("model loaded", extra={"model": _summary(classifier)})

    async def reload(self, path: Path) -> ReloadOutcome:
        """Load ``path``, validate it, and swap it in; on any failure keep serving the old model."""
        async with self._lock:  # one reload at a time; scoring is never blocked by it
            started = time.perf_counter()
            previous = self._current
            try:
                candidate = await asyncio.to_thread(self._load_and_validate, path)
            except (ModelFolderError, ModelValidationError) as exc:
                reason = str(exc)
            except Exception as exc:  # any failure (corrupt weights, odd config) must leave the old model serving
                # The admin asked for this folder and needs to know why it cannot serve.
                reason = f"{type(exc).__name__}: {exc}"
            else:
                self._swap(candidate)
                outcome = ReloadOutcome(
                    ok=True,
                    reason=None,
                    serving=_summary(candidate),
                    previous=_summary(previous) if previous else None,
                    labels_changed=previous is not None and previous.labels != candidate.labels,
                    seconds=time.perf_counter() - started,
                )
                logger.info("model reloaded", extra={"serving": outcome.serving, "previous": outcome.previous})
                return outcome
            logger.warning("model reload failed; keeping the old model", extra={"reason": reason})
            return ReloadOutcome(
                ok=False,
                reason=reason,
                serving=_summary(previous) if previous else {},
                seconds=time.perf_counter() - started,
            )
