"""The selection strategy on hand-made scores and embeddings: uncertainty, disagreement, diversity."""

from __future__ import annotations

import numpy as np
import pytest

from narrascope.annotate.selection import Candidate, SelectionSettings, choose, prioritise, uncertainty


def _candidate(n: int, lang: str = "en", outlet: str = "a", probs: list[float] | None = None) -> Candidate:
    return Candidate(f"d{n}", 0, 5, f"text {n}", lang, outlet, probs=np.array(probs or [0.0, 0.0]))


def test_uncertainty_peaks_at_each_labels_threshold() -> None:
    thresholds = np.array([0.3, 0.7])
    values = uncertainty(np.array([[0.3, 0.7], [0.0, 1.0], [0.15, 0.85]]), thresholds)
    assert np.allclose(values, [[1, 1], [0, 0], [0.5, 0.5]])


def test_disagreement_of_two_models_raises_priority() -> None:
    thresholds = np.array([0.5, 0.5])
    agree = _candidate(0, probs=[0.05, 0.05])
    agree.probs2 = np.array([0.05, 0.05])
    differ = _candidate(1, probs=[0.05, 0.05])
    differ.probs2 = np.array([0.9, 0.05])  # the second model puts a label on it: disagreement 1
    prioritise([agree, differ], thresholds, thresholds)
    assert differ.disagreement == 1.0 and differ.priority == 1.0
    assert agree.priority == pytest.approx(0.1)


def test_choose_skips_near_duplicates_and_spreads_languages() -> None:
    candidates = [_candidate(i, lang="en" if i < 4 else "kk") for i in range(6)]
    for c, p in zip(candidates, [0.9, 0.89, 0.88, 0.87, 0.5, 0.4], strict=True):
        c.priority = p
    embeddings = np.eye(6)
    embeddings[1] = embeddings[0]  # candidate 1 repeats candidate 0
    picked = choose(candidates, embeddings, SelectionSettings(k=3, balance_weight=0.5))
    assert 1 not in picked
    assert picked[0] == 0 and {candidates[i].lang for i in picked} == {"en", "kk"}


def test_settings_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="near_duplicate"):
        SelectionSettings(near_duplicate=0.0)
    with pytest.raises(ValueError, match="k must be"):
        SelectionSettings(k=0)
