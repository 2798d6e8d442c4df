"""Score a feed, an archive or a folder into an output file: the local engine behind ``narrascope score``.

Documents are read lazily, grouped into batches of ``batch_size`` and scored with one
:func:`narrascope.model.documents.score_documents` call per batch, so sentences of different documents share
length-sorted forward passes; each batch is written and flushed before the next is read.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from narrascope.batch.formats import STDIO, input_format, output_format
from narrascope.batch.preflight import check_targets
from narrascope.batch.readers import InputSource, open_input
from narrascope.batch.records import BadRecord, FieldMap, Record
from narrascope.batch.scoring import default_options, score_records
from narrascope.batch.sink import ErrorLog, ResultSink, Summary
from narrascope.batch.writers import OutputState, open_writer, prepare_output
from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.documents import EVIDENCE_PER_LABEL, ScoringOptions
from narrascope.model.protocol import Classifier
from narrascope.model.runtime import requested_runtime
from narrascope.model.threads import use_threads
from narrascope.paths import default_model_dir

logger = logging.getLogger(__name__)

ERRORS_SUFFIX = ".errors.jsonl"


@dataclass(frozen=True)
class ScoreSettings:
    """One batch job, as the CLI flags describe it; invalid values fail here with the value quoted."""

    input: str
    output: str
    model: Path | None = None
    output_format: str | None = None
    input_format: str | None = None
    resume: bool = False
    force: bool = False
    errors: str | None = None
    batch_size: int = 64
    fields: FieldMap = field(default_factory=FieldMap)
    progress: bool = True
    evidence_per_label: int = EVIDENCE_PER_LABEL
    # None: the forward budget measured for the model's runtime and saved in its folder.
    forward_tokens: int | None = None
    device: str | None = None
    # None: NARRASCOPE_RUNTIME, else auto (the folder's exported default); resolved once, so Ray actors agree.
    runtime: str | None = None
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {self.batch_size}")
        if self.evidence_per_label < 0:
            raise ValueError(f"evidence per label must be 0 or more, got {self.evidence_per_label}")
        if self.forward_tokens is not None and self.forward_tokens < 16:
            raise ValueError(f"forward tokens must be at least 16, got {self.forward_tokens}")
        object.__setattr__(self, "runtime", requested_runtime(self.runtime))
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        if self.resume and self.force:
            raise ValueError("--resume and --force contradict each other; choose one")
        # Fail on an unknown format now, before anything is read, loaded or overwritten.
        output_format(self.output, self.output_format)
        input_format(self.input, self.input_format)

    @property
    def out_format(self) -> str:
        return output_format(self.output, self.output_format)

    @property
    def in_format(self) -> str:
        return input_format(self.input, self.input_format)

    @property
    def errors_path(self) -> str | None:
        """``--errors``, else ``OUTPUT.errors.jsonl``; with output on stdout, bad records are logged instead."""
        if self.errors:
            return self.errors
        return None if self.output == STDIO else self.output.rstrip("/") + ERRORS_SUFFIX

    def model_dir(self) -> Path:
        folder = self.model or default_model_dir()
        if not folder.is_dir():
            raise FileNotFoundError(f"no model at {folder}; train one (narrascope train) or pass --model DIR")
        return folder


def load_classifier(settings: ScoreSettings) -> NarrativeClassifier:
    """The job's model; a batch job owns its process, so it also sets the process's torch threads here."""
    use_threads(settings.threads)
    return NarrativeClassifier.load(settings.model_dir(), device=settings.device, runtime=settings.runtime)


def open_job(settings: ScoreSettings, stdin: IO[bytes] | None = None) -> tuple[InputSource, OutputState]:
    """Resolve the input and apply the output rules (overwrite refused, resume repaired) before any work."""
    source = open_input(settings.input, settings.input_format, settings.fields, stdin=stdin)
    return source, prepare_targets(settings)


def prepare_targets(settings: ScoreSettings) -> OutputState:
    """Prove the output and error file can be created, then apply the overwrite and resume rules; both engines
    call this before any model work, whatever their input."""
    check_targets(settings.output, settings.out_format, settings.errors_path)
    state = prepare_output(settings.output, settings.out_format, resume=settings.resume, force=settings.force)
    if state.done_ids:
        logger.info("resuming: %d documents already in %s will be skipped", len(state.done_ids), settings.output)
    return state


def open_sink(
    settings: ScoreSettings, state: OutputState, total: int | None, engine: str, stdout: IO[str] | None = None
) -> ResultSink:
    writer = open_writer(settings.output, settings.out_format, state, stdout=stdout)
    return ResultSink(
        writer,
        ErrorLog(settings.errors_path),
        state.done_ids,
        output=settings.output,
        total=total,
        progress=settings.progress,
        engine=engine,
    )


def score_feed(
    settings: ScoreSettings,
    classifier: Classifier | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
) -> Summary:
    """Run one job with the local engine and return what it did.

    ``classifier`` lets callers (tests, notebooks) reuse a loaded model; by default it is loaded from
    ``settings.model`` or the default model folder.
    """
    source, state = open_job(settings, stdin)
    if classifier is None:
        started = time.perf_counter()
        classifier = load_classifier(settings)
        logger.info(
            "loaded %s %s in %.1f s", classifier.info.name, classifier.info.version, time.perf_counter() - started
        )
    options = default_options(settings.evidence_per_label)
    with open_sink(settings, state, source.estimate(), "local", stdout=stdout) as sink:
        pending: list[Record] = []
        for item in source:
            if isinstance(item, BadRecord):
                sink.fail(item)
            elif sink.claim(item.id, item.location):
                pending.append(item)
                if len(pending) >= settings.batch_size:
                    _flush_batch(sink, classifier, pending, options, settings.forward_tokens)
                    pending = []
        _flush_batch(sink, classifier, pending, options, settings.forward_tokens)
        return sink.summary()


def _flush_batch(
    sink: ResultSink,
    classifier: Classifier,
    pending: list[Record],
    options: ScoringOptions,
    forward_tokens: int | None,
) -> None:
    if pending:
        batch = score_records(classifier, pending, options, forward_tokens)
        sink.write(batch.rows, batch.failed, batch.sentences)
