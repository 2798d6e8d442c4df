"""Latin-script Kazakh augmentation: which rows are added, in which form, with which labels."""

from __future__ import annotations

import numpy as np
import pytest

from narrascope.dataset.splits import SplitData
from narrascope.model.language import dominant_script
from narrascope.training.args import TrainingArguments
from narrascope.training.augment import add_latin_kazakh, to_latin

KK = "Қазақстан Ресеймен соғысқа дайындалып жатыр деген жазба жалған."


def test_transliteration_keeps_capitals_in_each_written_form() -> None:
    assert to_latin(KK, "2021") == "Qazaqstan Reseimen soğysqa daiyndalyp jatyr degen jazba jalğan."
    assert to_latin(KK, "2018") == "Qazaqstan Reseımen soǵysqa daıyndalyp jatyr degen jazba jalǵan."
    assert to_latin("ҰҚШҰ жаттығуы", "2021", ascii_only=True) == "UQSU jattyguy"


def test_a_share_of_cyrillic_kazakh_rows_is_added_in_latin_with_its_labels() -> None:
    texts = [f"{KK} {i}" for i in range(40)] + ["Russian text 1", "Русский текст"]
    targets = np.eye(42, 3, dtype=np.float32)
    train = SplitData(texts, targets, ["kk"] * 40 + ["en", "ru"])
    assert add_latin_kazakh(train, 0.0, seed=13) is train
    full = add_latin_kazakh(train, 1.0, seed=13)
    assert len(full.texts) == 82 and full.languages[42:] == ["kk-Latn"] * 40
    assert all(dominant_script(text)[0] == "Latn" for text in full.texts[42:])
    assert np.array_equal(full.targets[42:], targets[:40])
    half = add_latin_kazakh(train, 0.5, seed=13)
    assert 10 < len(half.texts) - 42 < 30  # about half, chosen by a seeded hash
    assert half.texts == add_latin_kazakh(train, 0.5, seed=13).texts  # deterministic
    assert half.texts != add_latin_kazakh(train, 0.5, seed=14).texts


def test_the_share_is_a_validated_training_argument() -> None:
    assert TrainingArguments().to_dict()["latin_kazakh_augment"] == 1.0
    with pytest.raises(ValueError, match="latin_kazakh_augment must be within"):
        TrainingArguments(latin_kazakh_augment=1.5)
