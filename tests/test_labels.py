from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from narrascope.labels import KINDS, Taxonomy, TaxonomyError, load_taxonomy

SHARED_DOC = Path(__file__).resolve().parents[2] / "shared" / "docs" / "taxonomy.md"


def test_default_taxonomy_has_the_contract_ids() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy) == 11
    assert set(taxonomy.ids_of_kind("claim")) == {
        "war_preparation",
        "anti_russia_intent",
        "border_buildup",
        "foreign_fighters",
        "western_pivot",
    }
    assert set(taxonomy.ids_of_kind("counter")) == {"reassurance", "defensive_purpose"}
    assert all(label.kind in KINDS and label.description for label in taxonomy.labels)


@pytest.mark.skipif(not SHARED_DOC.is_file(), reason="shared/docs not checked out beside the repo")
def test_ids_match_the_shared_taxonomy_document() -> None:
    text = SHARED_DOC.read_text(encoding="utf-8")
    for label_id in load_taxonomy().ids:
        assert f"`{label_id}`" in text


def _raw() -> dict:
    return yaml.safe_load((Path(__file__).resolve().parents[1] / "labels" / "taxonomy.yaml").read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw["labels"].append(dict(raw["labels"][0])), "duplicate id"),
        (lambda raw: raw["labels"][0].update(kind="rumour"), "kind 'rumour'"),
        (lambda raw: raw["labels"][1].update(description="  "), "empty description"),
        (lambda raw: raw["labels"][2].update(id="Bad-Id"), "snake_case"),
        (lambda raw: raw["labels"][0].update(colour="red"), "unknown keys"),
        (lambda raw: raw.update(extra=1), "unknown top-level keys"),
    ],
)
def test_invalid_taxonomies_are_rejected_with_the_label_named(mutate, message) -> None:  # noqa: ANN001
    raw = _raw()
    mutate(raw)
    with pytest.raises(TaxonomyError, match=message):
        Taxonomy.from_dict(raw, source="t.yaml")


def test_adding_a_label_needs_only_yaml(tmp_path: Path) -> None:
    raw = _raw()
    raw["labels"].append({"id": "sanctions_evasion", "kind": "claim", "name": "Sanctions", "description": "d"})
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.ids[-1] == "sanctions_evasion"
    assert taxonomy.kind_of("sanctions_evasion") == "claim"
