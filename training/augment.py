"""Training-time augmentation: Cyrillic Kazakh training rows added again in the Latin alphabet.

Kazakh is written online in Latin script as well as Cyrillic (the 2021 official alphabet, the 2018 acute-accent
one, and both typed without diacritics), but the dataset has far fewer Latin-script rows (387) than Cyrillic
ones (about 2,100). The Latin spelling of a Kazakh sentence is a deterministic function of its Cyrillic one, so
a share of the Cyrillic training rows is added in one Latin form each, keeping its labels: the model sees the
same ideas in both scripts. Only ``train`` is augmented; dev, test and idea_test keep the rows people wrote, so
Latin-script figures are measured on authored text. The share is a recorded training argument.
"""

from __future__ import annotations

import hashlib

import numpy as np

from narrascope.dataset.rows import LATIN_KAZAKH
from narrascope.dataset.splits import SplitData
from narrascope.model.kazakh_latin import ALPHABETS

# How often each written form occurs online, roughly (2021 alphabet, 2018 alphabet, no diacritics).
FORMS = (("2021", False), ("2021", False), ("2018", False), ("2021", True), ("2018", True))
_ASCII = str.maketrans("áǵıńóúýäğñöşūüÁǴIŃÓÚÝÄĞÑÖŞŪÜ", "aginouyagnosuuAGINOUYAGNOSUU")


def to_latin(text: str, alphabet: str, ascii_only: bool = False) -> str:
    """A Cyrillic Kazakh text in a Latin alphabet, keeping capitals (``Қазақстан`` -> ``Qazaqstan``)."""
    table = ALPHABETS[alphabet]
    out = []
    for char in text:
        lower = char.lower()
        latin = table.get(lower, char)
        out.append(latin[:1].upper() + latin[1:] if char != lower and latin != char else latin)
    result = "".join(out)
    return result.translate(_ASCII) if ascii_only else result


def _pick(text: str, seed: int) -> int:
    return int(hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()[:8], 16)


def add_latin_kazakh(train: SplitData, share: float, seed: int) -> SplitData:
    """``train`` plus ``share`` of its Cyrillic Kazakh rows (chosen by a seeded hash) in one Latin form each."""
    if share <= 0.0:
        return train
    picked = [
        i
        for i, (text, lang) in enumerate(zip(train.texts, train.languages, strict=True))
        if lang == "kk" and _pick(text, seed) % 10_000 < share * 10_000
    ]
    extra = []
    for i in picked:
        alphabet, ascii_only = FORMS[_pick(train.texts[i], seed + 1) % len(FORMS)]
        extra.append(to_latin(train.texts[i], alphabet, ascii_only))
    return SplitData(
        train.texts + extra,
        np.concatenate([train.targets, train.targets[picked]]) if picked else train.targets,
        train.languages + [LATIN_KAZAKH] * len(extra),
    )
