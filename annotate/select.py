"""``narrascope select``: read a feed, rank its sentences (``annotate.selection``), write annotation tasks.

Bad records are reported and skipped (the batch readers never stop on one); what was selected, from which
document and offsets, by which model version and settings, travels inside every task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from tqdm.auto import tqdm

from narrascope.annotate.selection import Candidate, SelectionSettings, choose, embed, prioritise
from narrascope.annotate.tasks import doccano_example, labelstudio_task, write_tasks
from narrascope.batch.readers import open_input
from narrascope.batch.records import BadRecord, Record
from narrascope.dataset.annotated import ANNOTATED_SOURCE
from narrascope.dataset.rows import REGISTERS, load_sentences, normalize_text
from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.language import detect_language
from narrascope.model.sentences import split_sentences

logger = logging.getLogger(__name__)
# Where an outlet name is looked for when the feed has no ``--outlet-field``: the host of a link, else "unknown".
_LINK_FIELDS = ("url", "link")


@dataclass
class SelectionReport:
    tasks: int = 0
    documents: int = 0
    candidates: int = 0
    skipped_records: list[str] = field(default_factory=list)


def _outlet(record: Record, outlet_field: str) -> str:
    value = record.fields.get(outlet_field)
    if value:
        return str(value)
    for name in _LINK_FIELDS:
        host = urlparse(str(record.fields.get(name) or "")).netloc
        if host:
            return host
    return "unknown"


def read_candidates(
    input_spec: str, known: set[str], settings: SelectionSettings, outlet_field: str, report: SelectionReport
) -> list[Candidate]:
    """Sentences of every readable document, minus short, repeated and already-labelled ones."""
    seen = set(known)
    candidates = []
    for item in tqdm(open_input(input_spec), desc="reading", unit="doc", disable=None):
        if isinstance(item, BadRecord):
            report.skipped_records.append(f"{item.location}: {item.reason}")
            continue
        report.documents += 1
        for span in split_sentences(item.text):
            key = normalize_text(span.text)
            if len(span.text.strip()) < settings.min_chars or key in seen:
                continue
            seen.add(key)
            lang = item.lang or detect_language(span.text)
            candidates.append(
                Candidate(item.id, span.start, span.end, span.text, lang, _outlet(item, outlet_field), item.fields)
            )
    return candidates


def _predicted(classifier: NarrativeClassifier, probs: np.ndarray) -> list[str]:
    return [
        label for label, p, t in zip(classifier.labels, probs, classifier.threshold_vector(), strict=True) if p >= t
    ]


def _row(c: Candidate, number: int, batch: str, register: str, settings: SelectionSettings) -> dict[str, Any]:
    register = str(c.fields.get("register") or register)
    return {
        "text": c.text,
        "id": f"{batch}-{number:05d}",
        "lang": c.lang if c.lang != "und" else "en",
        # Sentences of one document share a group, so the split keeps a document's sentences together.
        "group": f"{batch}:{c.document_id}",
        "register": register if register in REGISTERS else "wire_news",
        "source": ANNOTATED_SOURCE.format(batch=batch),
        "split": "train",
        "document_id": c.document_id,
        "start": c.start,
        "end": c.end,
        "outlet": c.outlet,
        "selection": {
            "priority": round(c.priority, 4),
            "uncertainty": round(c.uncertainty, 4),
            **({"disagreement": round(c.disagreement, 4)} if c.disagreement is not None else {}),
            "settings": settings.to_dict(),
        },
    }


def select_tasks(
    model_dir: Path,
    input_spec: str,
    output: Path,
    fmt: str,
    batch: str,
    settings: SelectionSettings | None = None,
    model2_dir: Path | None = None,
    data_dir: Path | None = None,
    register: str = "wire_news",
    outlet_field: str = "outlet",
) -> SelectionReport:
    """Write up to ``settings.k`` tasks for the sentences of ``input_spec`` most worth annotating."""
    settings = settings or SelectionSettings()
    if register not in REGISTERS:
        raise ValueError(f"register must be one of {', '.join(REGISTERS)}, got {register!r}")
    report = SelectionReport()
    # PyTorch: the diversity step reads the encoder's own states, which an exported graph does not expose.
    classifier = NarrativeClassifier.load(model_dir, runtime="torch")
    second = NarrativeClassifier.load(model2_dir, runtime="torch") if model2_dir else None
    if second is not None and second.labels != classifier.labels:
        raise ValueError(f"--model2 {model2_dir} has labels {second.labels}, --model has {classifier.labels}")
    known = {normalize_text(r.text) for r in load_sentences(data_dir)} if data_dir and data_dir.is_dir() else set()
    candidates = read_candidates(input_spec, known, settings, outlet_field, report)
    report.candidates = len(candidates)
    texts = [c.text for c in candidates]
    for c, p in zip(candidates, classifier.predict_proba(texts), strict=True):
        c.probs = p
    if second is not None:
        for c, p in zip(candidates, second.predict_proba(texts), strict=True):
            c.probs2 = p
    prioritise(candidates, classifier.threshold_vector(), second.threshold_vector() if second else None)
    pool = sorted(candidates, key=lambda c: -c.priority)[: settings.k * settings.pool_factor]
    picked = [pool[i] for i in choose(pool, embed(classifier, [c.text for c in pool]), settings)]
    version = f"{classifier.info.name}:{classifier.info.version}"
    tasks = []
    for number, c in enumerate(picked, 1):
        row = _row(c, number, batch, register, settings)
        predicted = _predicted(classifier, c.probs)
        if fmt == "labelstudio":
            tasks.append(labelstudio_task(row, predicted, 1.0 - c.uncertainty, version))
        else:
            tasks.append(doccano_example(row, predicted))
    write_tasks(output, tasks, fmt)
    report.tasks = len(tasks)
    return report
