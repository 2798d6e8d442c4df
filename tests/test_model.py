from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from narrascope.model.aggregate import RiskPolicy, assess_risk
from narrascope.model.classifier import ModelFolderError, NarrativeClassifier
from narrascope.model.documents import Document, ScoringOptions, ScoringOptionsError, score_documents

KINDS = {"war_preparation": "claim", "border_buildup": "claim", "reassurance": "counter", "leader_praise": "framing"}
LABELS = list(KINDS)
DEFAULT = RiskPolicy()


def test_batched_scores_equal_one_at_a_time(tiny_classifier: NarrativeClassifier) -> None:
    texts = [
        "Short.",
        "A somewhat longer sentence about the territorial defence law.",
        "Казахстан не готовится к войне.",
    ]
    together = tiny_classifier.predict_proba(texts)
    alone = np.vstack([tiny_classifier.predict_proba([text]) for text in texts])
    assert together.shape == (3, len(tiny_classifier.labels))
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_long_sentences_are_windowed_not_truncated(tiny_classifier: NarrativeClassifier) -> None:
    head = "army border law " * 10
    tail = "peace president drones " * 40
    long_text = head + tail
    windows = tiny_classifier.tokenizer(
        [long_text], truncation=True, max_length=tiny_classifier.max_length, stride=16, return_overflowing_tokens=True
    )["input_ids"]
    assert len(windows) > 1
    score = tiny_classifier.predict_proba([long_text])[0]
    first_window = tiny_classifier.tokenizer.decode(windows[0], skip_special_tokens=True)
    assert (score >= tiny_classifier.predict_proba([first_window])[0] - 1e-5).all()


def _edited_copy(source: Path, target: Path, edit) -> Path:  # noqa: ANN001
    """A copy of a model folder with its ``config.json`` changed by ``edit``."""
    shutil.copytree(source, target)
    config = json.loads((target / "config.json").read_text())
    edit(config)
    (target / "config.json").write_text(json.dumps(config))
    return target


def test_thresholds_and_kinds_come_from_the_folder(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _edited_copy(
        tiny_model_dir,
        tmp_path / "model",
        lambda c: c["narrascope"]["thresholds"].update(reassurance=0.37, war_preparation=0),
    )
    classifier = NarrativeClassifier.load(folder)
    assert classifier.thresholds["reassurance"] == 0.37 and classifier.thresholds["war_preparation"] == 0.0
    assert classifier.kinds["war_preparation"] == "claim"
    described = {item["id"]: item for item in classifier.describe_labels()}
    assert described["reassurance"]["kind"] == "counter" and described["reassurance"]["name"]
    assert described["reassurance"]["threshold"] == 0.37


def test_loading_a_non_model_folder_fails_clearly(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ModelFolderError, match="no config.json"):
        NarrativeClassifier.load(tmp_path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["narrascope"]["thresholds"].update(war_preparation=7), "'war_preparation' has threshold 7.0"),
        (
            lambda c: c["narrascope"]["thresholds"].update(war_preparation="0.5"),
            "'war_preparation' has threshold '0.5'",
        ),
        (
            lambda c: c["narrascope"]["thresholds"].pop("reassurance"),
            r"model/config.json: narrascope.thresholds has no threshold for 'reassurance'",
        ),
        (lambda c: c["narrascope"]["label_kinds"].pop("reassurance"), r"label_kinds lacks \['reassurance'\]"),
        (lambda c: c["id2label"].update({"1": c["id2label"]["0"]}), "id2label repeats labels"),
    ],
)
def test_loading_refuses_inconsistent_label_config(tiny_model_dir: Path, tmp_path: Path, edit, message) -> None:  # noqa: ANN001
    """Batch jobs and eval load through here, so they refuse what the service's reload refuses. A label without
    a threshold is refused like a label without a kind: a guessed threshold would change every verdict."""
    folder = _edited_copy(tiny_model_dir, tmp_path / "model", edit)
    with pytest.raises(ModelFolderError, match=message):
        NarrativeClassifier.load(folder)


def test_document_results_have_exact_offsets_and_input_order(tiny_classifier: NarrativeClassifier) -> None:
    docs = [
        Document("b", "Заголовок без точки\n\nПервое предложение. Второе предложение!"),
        Document("a", "One sentence only", lang="en"),
    ]
    results = score_documents(tiny_classifier, docs)
    assert [r.id for r in results] == ["b", "a"]
    assert results[0].language == "ru" and results[1].language == "en"
    assert results[0].n_sentences == 3
    for doc, result in zip(docs, results, strict=True):
        for sentence in result.sentences or []:
            assert doc.text[sentence.start : sentence.end] == sentence.text
        assert set(result.scores) == set(tiny_classifier.labels)


def test_options_override_thresholds_and_restrict_labels(tiny_classifier: NarrativeClassifier) -> None:
    doc = [Document("x", "Kazakhstan is preparing for war.")]
    everything = score_documents(
        tiny_classifier, doc, ScoringOptions(thresholds=dict.fromkeys(tiny_classifier.labels, 0.0))
    )
    assert everything[0].labels == tiny_classifier.labels
    nothing = score_documents(
        tiny_classifier, doc, ScoringOptions(thresholds=dict.fromkeys(tiny_classifier.labels, 1.0))
    )
    assert nothing[0].labels == [] and nothing[0].risk.level == "none"
    some = score_documents(tiny_classifier, doc, ScoringOptions(labels=["reassurance"], include_sentences=False))
    assert list(some[0].scores) == ["reassurance"] and some[0].sentences is None


@pytest.mark.parametrize(
    "options",
    [ScoringOptions(labels=["rumour"]), ScoringOptions(thresholds={"reassurance": 1.5})],
)
def test_bad_options_are_rejected(tiny_classifier: NarrativeClassifier, options: ScoringOptions) -> None:
    with pytest.raises(ScoringOptionsError):
        score_documents(tiny_classifier, [Document("x", "text")], options)


def test_risk_pushed_versus_rebutted() -> None:
    scores = np.array([0.9, 0.6, 0.8, 0.7])
    claim_piece = [["war_preparation"], ["border_buildup"], ["war_preparation"], ["reassurance"], []]
    pushed = assess_risk(
        LABELS, KINDS, scores, {"war_preparation", "border_buildup", "reassurance"}, claim_piece, DEFAULT
    )
    assert pushed.level == "high" and pushed.claims_pushed == ["war_preparation", "border_buildup"]
    assert (pushed.claim_sentences, pushed.counter_sentences) == (3, 1)
    fact_check = [["war_preparation"], ["reassurance"], ["reassurance", "leader_praise"], []]
    debunk = assess_risk(LABELS, KINDS, scores, {"war_preparation", "reassurance"}, fact_check, DEFAULT)
    assert debunk.level == "debunk" and debunk.claims_rebutted == ["war_preparation"] and not debunk.claims_pushed
    low = assess_risk(LABELS, KINDS, scores, {"border_buildup"}, [["border_buildup"]], DEFAULT)
    assert low.level == "low"
    assert assess_risk(LABELS, KINDS, scores, {"leader_praise"}, [["leader_praise"]], DEFAULT).level == "none"
    # The ratio is the caller's: with a strict one, even one rebuttal against three claims makes a debunk.
    assert (
        assess_risk(LABELS, KINDS, scores, {"war_preparation"}, claim_piece, RiskPolicy(push_ratio=3.0)).level
        == "debunk"
    )
