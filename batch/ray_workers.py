"""The parts of the Ray engine that run on the cluster: a JSONL datasource and the scoring actor.

This module imports Ray at import time; :mod:`narrascope.batch.ray_engine` imports it only after checking that Ray
is installed, so the rest of the package works without the ``distributed`` extra.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from ray.data.datasource import FileBasedDatasource

from narrascope.batch.records import BadRecord, FieldMap, Record, parse_json_line, record_from_mapping
from narrascope.batch.scoring import default_options, score_records
from narrascope.model.classifier import NarrativeClassifier
from narrascope.model.threads import use_threads

logger = logging.getLogger(__name__)

# Columns the actor returns. ``payload`` is the pickled output row: Arrow would otherwise infer a schema
# from each block's nested dicts (evidence keys differ per document) and blocks would disagree; rows
# travel between processes of one job only, never to disk.
OUT_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),  # "ok", "bad", "skip" or "dup" (an id repeated within the batch)
        ("id", pa.string()),
        ("location", pa.string()),
        ("reason", pa.string()),
        ("payload", pa.binary()),
        ("n_sentences", pa.int64()),
    ]
)
_READ_CHUNK = 1 << 20


def _lines_block(raws: list[bytes], numbers: list[int], path: str) -> pa.Table:
    """The one block layout both datasources produce, so blocks of any files concatenate into a batch."""
    return pa.table(
        {
            "raw": pa.array(raws, type=pa.binary()),
            "path": pa.array([path] * len(raws), type=pa.string()),
            "line": pa.array(numbers, type=pa.int64()),
        }
    )


class JsonLinesDatasource(FileBasedDatasource):
    """JSONL as raw lines with their line numbers, parsed later by the same code as the local reader.

    ``read_json`` would fail the whole job on one malformed line and infer Arrow types across blocks for
    free-form passthrough fields; ``read_text`` decodes whole files strictly and splits on Unicode line
    separators that JSON strings may contain. Splitting on ``\\n`` and keeping bytes avoids all three.
    """

    def __init__(self, paths: str | list[str], lines_per_block: int = 256, **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self.lines_per_block = max(1, lines_per_block)

    def _read_stream(self, f: Any, path: str) -> Iterator[pa.Table]:
        lines: list[bytes] = []
        numbers: list[int] = []
        number = 0
        pending = b""
        while True:
            chunk = f.read(_READ_CHUNK)
            if chunk:
                pending += chunk
                *complete, pending = pending.split(b"\n")
            else:
                complete, pending = ([pending] if pending else []), b""
            for raw in complete:
                number += 1
                if raw.strip():
                    lines.append(raw.rstrip(b"\r"))
                    numbers.append(number)
                if len(lines) >= self.lines_per_block:
                    yield _lines_block(lines, numbers, path)
                    lines, numbers = [], []
            if not chunk:
                break
        if lines:
            yield _lines_block(lines, numbers, path)


class ParquetRowsDatasource(FileBasedDatasource):
    """Parquet rows, pickled one by one, in blocks of ``rows_per_block``.

    ``read_parquet`` yields blocks with each file's own schema (which differ when passthrough columns
    evolve, and Ray cannot concatenate them into one batch), one block per row group (a single large file
    would feed one actor), and lists files in a task that needs a CPU the actors may all hold. Rows as
    Python values are also exactly what the local reader produces, so both engines validate the same data.
    """

    def __init__(self, paths: str | list[str], rows_per_block: int = 256, **kwargs: Any) -> None:
        super().__init__(paths, **kwargs)
        self.rows_per_block = max(1, rows_per_block)

    def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
        return filesystem.open_input_file(path)  # Parquet needs random access, not a stream

    def _read_stream(self, f: Any, path: str) -> Iterator[pa.Table]:
        import pyarrow.parquet as pq

        number = 0
        for batch in pq.ParquetFile(f).iter_batches(batch_size=self.rows_per_block):
            rows = batch.to_pylist()
            numbers = list(range(number + 1, number + len(rows) + 1))
            number += len(rows)
            yield _lines_block([pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL) for row in rows], numbers, path)


def _materialise_model(files: dict[str, bytes]) -> Path:
    """Write a shipped model folder to local disk once per actor (nodes may not share a filesystem)."""
    folder = Path(tempfile.mkdtemp(prefix="narrascope-model-"))
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return folder


class ScoreActor:
    """Loads the model once per actor, then scores whatever batches Ray Data hands it."""

    def __init__(
        self,
        model_dir: str,
        model_files: list[Any] | None,
        input_kind: str,
        fields: FieldMap,
        evidence_per_label: int,
        forward_tokens: int | None,
        done_ids: frozenset[str],
        threads: int,
        device: str,
        runtime: str | None = None,
    ) -> None:
        folder = Path(model_dir)
        if model_files:
            import ray

            folder = _materialise_model(ray.get(model_files[0]))
        use_threads(threads)  # an actor owns its worker process; its CPU share is its thread count
        self.classifier = NarrativeClassifier.load(folder, device=device, runtime=runtime)
        self.input_kind = input_kind
        self.fields = fields
        self.options = default_options(evidence_per_label)
        self.forward_tokens = forward_tokens
        self.done_ids = done_ids

    def _items(self, batch: pa.Table) -> list[Record | BadRecord]:
        items: list[Record | BadRecord] = []
        columns = batch.to_pydict()
        for raw, path, line in zip(columns["raw"], columns["path"], columns["line"], strict=True):
            if self.input_kind == "jsonl":
                item = parse_json_line(raw, f"{path}:{line}", self.fields)
            else:  # pickled by ParquetRowsDatasource in this same job
                item = record_from_mapping(pickle.loads(raw), f"{path}:row {line}", self.fields)
            if item is not None:
                items.append(item)
        return items

    def __call__(self, batch: pa.Table) -> pa.Table:
        out: dict[str, list[Any]] = {name: [] for name in OUT_SCHEMA.names}

        def emit(
            kind: str,
            doc_id: str | None,
            location: str,
            reason: str | None = None,
            payload: bytes | None = None,
            sentences: int = 0,
        ) -> None:
            for name, value in zip(OUT_SCHEMA.names, (kind, doc_id, location, reason, payload, sentences), strict=True):
                out[name].append(value)

        records: list[Record] = []
        in_batch: set[str] = set()
        for item in self._items(batch):
            if isinstance(item, BadRecord):
                emit("bad", item.id, item.location, item.reason)
            elif item.id in self.done_ids:
                emit("skip", item.id, item.location)
            elif item.id in in_batch:  # the driver keeps the first copy; a repeat is never scored
                emit("dup", item.id, item.location)
            else:
                in_batch.add(item.id)
                records.append(item)
        scored = score_records(self.classifier, records, self.options, self.forward_tokens)
        for bad in scored.failed:
            emit("bad", bad.id, bad.location, bad.reason)
        locations = {record.id: record.location for record in records}
        for row in scored.rows:
            emit(
                "ok",
                row["id"],
                locations[row["id"]],
                None,
                pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL),
                int(row["n_sentences"]),
            )
        return pa.table(out, schema=OUT_SCHEMA)
