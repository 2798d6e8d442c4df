"""Output formats round-trip, overwrite is refused, and resume repairs what a killed job left behind."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from narrascope.batch import parquet_parts
from narrascope.batch.writers import open_writer, prepare_output, read_output


def _row(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"doc-{i}",
        **extra,
        "language": "en",
        "script": "Latn",
        "labels": ["war_preparation"] if i % 2 else [],
        "scores": {"war_preparation": 0.5 + i / 100, "reassurance": 0.1},
        "risk": {
            "level": "low" if i % 2 else "none",
            "score": 0.51,
            "claims_pushed": ["war_preparation"],
            "claims_rebutted": [],
            "counter_labels": [],
            "claim_sentences": 1,
            "counter_sentences": 0,
        },
        "evidence": {"war_preparation": [{"start": 0, "end": 4, "text": "War.", "score": 0.51}]} if i % 2 else {},
        "n_sentences": 2,
        "model": {"name": "tiny", "version": "0"},
    }


def _write(spec: str, fmt: str, batches: list[list[dict[str, Any]]], resume: bool = False) -> set[str]:
    state = prepare_output(spec, fmt, resume=resume, force=False)
    writer = open_writer(spec, fmt, state)
    for batch in batches:
        writer.write(batch)
    writer.close()
    return state.done_ids


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_round_trip(tmp_path: Path, fmt: str) -> None:
    spec = str(tmp_path / f"out.{fmt}")
    rows = [_row(i, outlet="A") for i in range(5)]
    _write(spec, fmt, [rows[:2], rows[2:]])
    assert read_output(spec) == rows
    if fmt == "parquet":
        assert [p.name for p in parquet_parts.part_files(Path(spec))] == ["part-000000.parquet", "part-000001.parquet"]
        table = pq.read_table(spec)  # the folder reads as one table with plain pyarrow
        assert table.num_rows == 5 and table.schema.field("scores").type.num_fields == 2


def test_csv_varying_passthrough_and_newlines(tmp_path: Path) -> None:
    spec = str(tmp_path / "out.csv")
    rows = [_row(0, title="Two\nlines", n=1), _row(1, title="x", n=2, late="added"), _row(2, tags=["a", "b"])]
    _write(spec, "csv", [rows])
    back = read_output(spec)
    header = Path(spec).read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:3] == ["id", "title", "n"] and header[-1] == "extra_fields"
    assert back[0]["title"] == "Two\nlines" and back[0]["n"] == "1"
    assert back[1]["late"] == "added"
    assert back[2]["tags"] == ["a", "b"] and back[2]["title"] == ""
    assert [r["scores"] for r in back] == [r["scores"] for r in rows]


def test_parquet_passthrough_types_evolve(tmp_path: Path) -> None:
    spec = str(tmp_path / "out.parquet")
    _write(spec, "parquet", [[_row(0, note=None)], [_row(1, note="text", added=3)], [_row(2, note=5)]])
    back = read_output(spec)
    assert [r["note"] for r in back] == [None, "text", "5"]
    assert [r["added"] for r in back] == [None, 3, None]


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    spec = str(tmp_path / "out.jsonl")
    _write(spec, "jsonl", [[_row(0)]])
    with pytest.raises(FileExistsError, match="--resume .* --force"):
        prepare_output(spec, "jsonl", resume=False, force=False)
    with pytest.raises(ValueError, match="contradict"):
        prepare_output(spec, "jsonl", resume=True, force=True)
    state = prepare_output(spec, "jsonl", resume=False, force=True)
    assert state.done_ids == set() and not Path(spec).exists()


def test_force_never_deletes_foreign_files(tmp_path: Path) -> None:
    folder = tmp_path / "out.parquet"
    _write(str(folder), "parquet", [[_row(0)]])
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="did not write"):
        prepare_output(str(folder), "parquet", resume=False, force=True)
    (folder / "notes.txt").unlink()
    prepare_output(str(folder), "parquet", resume=False, force=True)
    assert not folder.exists()


def test_jsonl_resume_cuts_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    _write(str(path), "jsonl", [[_row(0), _row(1)]])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(_row(2))[:40])  # killed in the middle of a write
    done = _write(str(path), "jsonl", [[_row(2)]], resume=True)
    assert done == {"doc-0", "doc-1"}
    assert [r["id"] for r in read_output(str(path))] == ["doc-0", "doc-1", "doc-2"]


def test_jsonl_resume_refuses_corruption_before_the_end(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="corrupt"):
        prepare_output(str(path), "jsonl", resume=True, force=False)


@pytest.mark.parametrize("torn", ['doc-9,"Two\n', "doc-9,A,en"])
def test_csv_resume_cuts_a_torn_last_row(tmp_path: Path, torn: str) -> None:
    path = tmp_path / "out.csv"
    _write(str(path), "csv", [[_row(0, title="A"), _row(1, title="B")]])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(torn)
    done = _write(str(path), "csv", [[_row(2, title="C")]], resume=True)
    assert done == {"doc-0", "doc-1"}
    assert [(r["id"], r["title"]) for r in read_output(str(path))] == [("doc-0", "A"), ("doc-1", "B"), ("doc-2", "C")]


def test_parquet_resume_drops_unfinished_part_and_continues_numbering(tmp_path: Path) -> None:
    folder = tmp_path / "out.parquet"
    _write(str(folder), "parquet", [[_row(0)], [_row(1)]])
    (folder / "part-000002.parquet.inprogress").write_bytes(b"PAR1 half written")
    done = _write(str(folder), "parquet", [[_row(2)]], resume=True)
    assert done == {"doc-0", "doc-1"}
    assert sorted(p.name for p in folder.iterdir()) == [f"part-00000{i}.parquet" for i in range(3)]
    with pytest.raises(ValueError, match="folder of parts"):
        single = tmp_path / "single.parquet"
        single.write_bytes(b"PAR1")
        prepare_output(str(single), "parquet", resume=True, force=False)


def test_stdout_rules() -> None:
    stream = io.StringIO()
    writer = open_writer("-", "jsonl", prepare_output("-", "jsonl", resume=False, force=False), stdout=stream)
    writer.write([_row(0)])
    writer.close()
    assert json.loads(stream.getvalue())["id"] == "doc-0"
    with pytest.raises(ValueError, match="stdout"):
        prepare_output("-", "parquet", resume=False, force=False)
    with pytest.raises(ValueError, match="needs an output file"):
        prepare_output("-", "jsonl", resume=True, force=False)
