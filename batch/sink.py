"""The end of a batch job that both engines share: skip what is done, drop duplicates, write and flush each
batch, record bad rows in the error file, drive the progress bar, and sum it all up.

Keeping this in one place is what makes ``--engine local`` and ``--engine ray`` produce the same output,
error file and summary for the same input.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from tqdm import tqdm

from narrascope.batch.records import BadRecord
from narrascope.batch.writers import Writer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Summary:
    """What a job did; ``seconds`` covers reading, scoring and writing (not loading the model)."""

    scored: int
    skipped: int
    duplicates: int
    failed: int
    sentences: int
    seconds: float
    output: str
    errors: str | None
    engine: str = "local"

    @property
    def docs_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds > 0 else 0.0

    @property
    def sentences_per_second(self) -> float:
        return self.sentences / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "docs_per_second": round(self.docs_per_second, 2),
            "sentences_per_second": round(self.sentences_per_second, 2),
        }

    def describe(self) -> str:
        lines = [
            f"scored {self.scored} documents ({self.sentences} sentences) in {self.seconds:.1f} s: "
            f"{self.docs_per_second:.1f} docs/s, {self.sentences_per_second:.1f} sentences/s [{self.engine}]",
            f"skipped {self.skipped} already in the output, {self.duplicates} duplicate ids, {self.failed} failed",
            f"output: {self.output}",
        ]
        if self.errors and (self.failed or self.duplicates):
            lines.append(f"errors: {self.errors}")
        return "\n".join(lines)


class ErrorLog:
    """Bad records as JSONL (``id``, ``location``, ``reason``), or warnings when there is no error file.

    The file is rewritten by every run of a job, resumed or not: the whole input is read again, so every
    bad record is found again, and a stale file from an earlier run would only mislead.
    """

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.count = 0
        self._stream: IO[str] | None = None
        if path and Path(path).exists():
            Path(path).unlink()

    def add(self, bad: BadRecord) -> None:
        self.count += 1
        if self.path is None:
            logger.warning("bad record at %s (id %s): %s", bad.location, bad.id, bad.reason)
            return
        if self._stream is None:
            self._stream = open(self.path, "w", encoding="utf-8")  # closed by close(); lives as long as the job
        self._stream.write(json.dumps(bad.to_dict(), ensure_ascii=False) + "\n")

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


class ResultSink:
    """Counts, dedupes and writes; use as a context manager so the output is closed on every exit path."""

    def __init__(
        self,
        writer: Writer,
        errors: ErrorLog,
        done_ids: set[str],
        output: str,
        total: int | None = None,
        progress: bool = True,
        engine: str = "local",
    ) -> None:
        self.writer = writer
        self.errors = errors
        self.done_ids = done_ids
        self.output = output
        self.engine = engine
        self.seen: set[str] = set()
        self.scored = self.skipped = self.duplicates = self.failed = self.sentences = 0
        self._started = time.perf_counter()
        self._bar = tqdm(
            total=total,
            unit="doc",
            desc="scoring",
            disable=not progress,
            file=sys.stderr,
            dynamic_ncols=True,
            smoothing=0.05,
        )

    def __enter__(self) -> ResultSink:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._bar.close()
        self.errors.close()
        if kind is None:
            self.writer.close()
        else:
            try:
                self.writer.abort()
            except Exception:  # already failing; the original error is the one to report
                logger.debug("closing the output after an error failed", exc_info=True)

    def claim(self, doc_id: str, location: str) -> bool:
        """Whether to score ``doc_id``: not when it is already in the output or earlier in this input."""
        if doc_id in self.done_ids:
            self.skipped += 1
            self._bar.update(1)
            return False
        if doc_id in self.seen:
            self.duplicate(doc_id, location)
            return False
        self.seen.add(doc_id)
        return True

    def duplicate(self, doc_id: str, location: str) -> None:
        self.duplicates += 1
        self.errors.add(BadRecord(location, "duplicate id: an earlier record has the same id; kept the first", doc_id))
        self._bar.update(1)

    def fail(self, bad: BadRecord) -> None:
        self.failed += 1
        self.errors.add(bad)
        self._bar.update(1)

    def skip(self, count: int = 1) -> None:
        self.skipped += count
        self._bar.update(count)

    def write(self, rows: list[dict[str, Any]], failed: list[BadRecord], sentences: int) -> None:
        """One scored batch: written and flushed together with its errors."""
        for bad in failed:
            self.fail(bad)
        self.writer.write(rows)
        self.errors.flush()
        self.scored += len(rows)
        self.sentences += sentences
        self._bar.update(len(rows))
        elapsed = time.perf_counter() - self._started
        if elapsed > 0:
            self._bar.set_postfix_str(f"{self.scored / elapsed:.1f} scored/s", refresh=False)

    def summary(self) -> Summary:
        return Summary(
            scored=self.scored,
            skipped=self.skipped,
            duplicates=self.duplicates,
            failed=self.failed,
            sentences=self.sentences,
            seconds=round(time.perf_counter() - self._started, 3),
            output=self.output,
            errors=self.errors.path,
            engine=self.engine,
        )
