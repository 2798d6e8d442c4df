from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from narrascope.dataset.interchange import InterchangeError, read_rows, write_rows
from narrascope.dataset.rows import load_sentences, row_from_json
from narrascope.dataset.splits import assign_splits, load_splits, resplit_dataset
from narrascope.labels import load_taxonomy
from tests.datafactory import sentence_rows, write_dataset


def _rows(n: int = 40):  # noqa: ANN202
    rows = []
    for i, obj in enumerate(sentence_rows(n)):
        obj["group"] = f"g{i // 2}"  # pairs of paraphrases
        rows.append(row_from_json(obj, None))  # type: ignore[arg-type]
    return rows


def test_split_is_deterministic_grouped_and_near_ratios() -> None:
    rows = _rows(150)
    first = assign_splits(rows, seed=3)
    assert first == assign_splits(rows, seed=3)
    sizes = Counter(first[row.group] for row in rows)
    assert abs(sizes["train"] / len(rows) - 0.70) < 0.06
    assert abs(sizes["dev"] / len(rows) - 0.15) < 0.05
    for lang in ("en", "ru", "kk", "uk"):
        assert {first[row.group] for row in rows if row.lang == lang} == {"train", "dev", "test"}


def test_pinned_groups_stay_where_pinned() -> None:
    rows = _rows()
    assignment = assign_splits(rows, pinned={"g0": "test", "g1": "dev"})
    assert assignment["g0"] == "test" and assignment["g1"] == "dev"


def test_resplit_rewrites_files_without_losing_fields(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    before = {row.id: row for row in load_sentences(tmp_path)}
    resplit_dataset(tmp_path, seed=1)
    after = {row.id: row for row in load_sentences(tmp_path)}
    assert before.keys() == after.keys()
    for key, row in after.items():
        assert (row.text, row.labels, row.group, row.hard_negative) == (
            before[key].text,
            before[key].labels,
            before[key].group,
            before[key].hard_negative,
        )


@pytest.mark.parametrize(("fmt", "name"), [("labelstudio", "tasks.json"), ("doccano", "rows.jsonl")])
def test_export_import_round_trip_is_lossless(tmp_path: Path, fmt: str, name: str) -> None:
    rows = [row.to_json() for row in _rows()]
    path = tmp_path / name
    write_rows(rows, path, fmt)
    assert read_rows(path, fmt) == rows


def test_labelstudio_takes_the_latest_annotation(tmp_path: Path) -> None:
    rows = [row.to_json() for row in _rows(4)]
    path = tmp_path / "tasks.json"
    write_rows(rows[:1], path, "labelstudio")
    tasks = json.loads(path.read_text(encoding="utf-8"))
    result = [{"from_name": "narratives", "to_name": "text", "type": "choices", "value": {"choices": ["reassurance"]}}]
    tasks[0]["annotations"].append({"result": result})
    path.write_text(json.dumps(tasks), encoding="utf-8")
    assert read_rows(path, "labelstudio")[0]["labels"] == ["reassurance"]


def test_import_rejects_invalid_rows_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"text": "x", "label": ["bogus"], "id": "a", "lang": "en"}) + "\n", encoding="utf-8")
    with pytest.raises(InterchangeError, match=r"rows.jsonl:1: unknown label 'bogus'"):
        read_rows(path, "doccano")
    path.write_text('{"text": "x"\n', encoding="utf-8")
    with pytest.raises(InterchangeError, match=r"rows.jsonl:1: invalid JSON"):
        read_rows(path, "doccano")


def test_split_targets_follow_the_requested_label_columns(tmp_path: Path) -> None:
    """Eval asks for the model's labels: a reordered or shrunken label set must not misalign gold columns."""
    data_dir = write_dataset(tmp_path)
    taxonomy = load_taxonomy()
    default = load_splits(data_dir, taxonomy)["dev"]
    reordered = load_splits(data_dir, taxonomy, taxonomy.ids[::-1])["dev"]
    np.testing.assert_array_equal(reordered.targets, default.targets[:, ::-1])
    present = [i for i in range(len(taxonomy.ids)) if default.targets[:, i].any()]
    assert len(present) >= 2, "the fixture must have positives in at least two columns"
    columns = present[::-1][:2]
    narrowed = load_splits(data_dir, taxonomy, [taxonomy.ids[i] for i in columns])["dev"]
    np.testing.assert_array_equal(narrowed.targets, default.targets[:, columns])


def test_load_splits_names_unknown_labels_and_empty_splits(tmp_path: Path) -> None:
    rows = sentence_rows()
    rows[0]["labels"] = ["rumour"]
    with pytest.raises(ValueError, match=r"labels \['rumour'\] are not in the taxonomy"):
        load_splits(write_dataset(tmp_path / "unknown", rows), load_taxonomy())
    rows = [{**row, "split": "train" if row["split"] == "test" else row["split"]} for row in sentence_rows()]
    with pytest.raises(ValueError, match="the test split is empty"):
        load_splits(write_dataset(tmp_path / "no-test", rows), load_taxonomy())
