"""``narrascope stories``: document vectors, the nearest-neighbour clustering, and story ids on scored rows.

The encoder here is a tiny random BERT in the real folder format (no download); what it is tested for holds
for any encoder (identical and sentence-shuffled texts share a vector). One ``slow`` test uses the real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from narrascope.batch.writers import read_output
from narrascope.cli import main
from narrascope.report.cluster import ClusterSettings, cluster
from narrascope.report.embed import EmbedSettings, embed_texts, load_encoder, units
from narrascope.report.stories import StorySettings, assign_stories
from narrascope.training.tiny import SAMPLE_SENTENCES
from tests.reportfactory import scored_row, write_jsonl


def _unit(angles_deg: list[float]) -> np.ndarray:
    angles = np.radians(angles_deg)
    return np.stack([np.cos(angles), np.sin(angles), np.zeros(len(angles))], axis=1).astype(np.float32)


def test_near_vectors_group_and_far_ones_do_not() -> None:
    vectors = _unit([0, 2, 90, 91, 180])
    assert cluster(vectors, ClusterSettings(threshold=0.95)).tolist() == [0, 0, 1, 1, 2]
    assert cluster(vectors[:1], ClusterSettings()).tolist() == [0] and cluster(vectors[:0], ClusterSettings()).size == 0


def test_approximate_neighbours_find_the_same_groups_as_exact_ones() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(40, 16))
    vectors = np.repeat(centres, 5, axis=0) + rng.normal(scale=0.01, size=(200, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    exact = cluster(vectors, ClusterSettings(threshold=0.95))
    hnsw = cluster(vectors, ClusterSettings(threshold=0.95, exact_below=0))
    assert exact.tolist() == hnsw.tolist() == np.repeat(np.arange(40), 5).tolist()


def test_average_linkage_does_not_chain_what_components_chain() -> None:
    chain = _unit([0, 20, 40])  # neighbours are 0.94 apart, the ends only 0.77
    assert len(set(cluster(chain, ClusterSettings(threshold=0.9, method="components")).tolist())) == 1
    assert len(set(cluster(chain, ClusterSettings(threshold=0.9, method="average")).tolist())) == 2


def test_settings_refuse_bad_values() -> None:
    with pytest.raises(ValueError, match="method"):
        ClusterSettings(method="kmeans")
    with pytest.raises(ValueError, match="pooling"):
        EmbedSettings(pooling="max")


def test_sentence_mean_is_blind_to_order_and_prefixes_like_e5(tiny_encoder: Path) -> None:
    settings = EmbedSettings(encoder=tiny_encoder, pooling="sentence-mean")
    text = " ".join(SAMPLE_SENTENCES[:3])
    shuffled = " ".join([SAMPLE_SENTENCES[2], SAMPLE_SENTENCES[0], SAMPLE_SENTENCES[1]])
    assert all(u.startswith("query: ") for u in units(text, settings)) and len(units(text, settings)) == 3
    vectors = embed_texts([text, shuffled, SAMPLE_SENTENCES[5]], settings, load_encoder(tiny_encoder))
    assert vectors.shape == (3, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0, abs=1e-5)
    assert float(vectors[0] @ vectors[2]) < 0.999
    document = EmbedSettings(encoder=tiny_encoder)  # the default: the text as one unit, order matters
    assert units(text, document) == ["query: " + text]
    both = embed_texts([text, shuffled], document, load_encoder(tiny_encoder))
    assert float(both[0] @ both[1]) < 0.99999


def test_missing_encoder_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="encoder prepare"):
        load_encoder(tmp_path / "nowhere")


def test_stories_are_written_onto_scored_rows(tiny_encoder: Path, tmp_path: Path) -> None:
    base = " ".join(SAMPLE_SENTENCES[:3])
    feed = [
        {"id": "orig", "text": base},
        {"id": "repost", "text": " ".join(reversed(SAMPLE_SENTENCES[:3]))},
        {"id": "other", "text": SAMPLE_SENTENCES[6]},
    ]
    texts = write_jsonl(tmp_path / "feed.jsonl", feed, extra_lines=("{broken\n",))
    rows = [scored_row(r["id"]) for r in feed] + [scored_row("no-text")]
    scored = write_jsonl(tmp_path / "scored.jsonl", rows)
    out = tmp_path / "with-stories.jsonl"
    summary = assign_stories(
        StorySettings(
            inputs=[str(scored)], output=str(out), texts=[str(texts)],
            embed=EmbedSettings(encoder=tiny_encoder, pooling="sentence-mean"),
            clustering=ClusterSettings(threshold=0.9999), progress=False,
        )
    )  # fmt: skip
    got = {row["id"]: row for row in read_output(str(out))}
    assert list(got) == ["orig", "repost", "other", "no-text"]  # every scored row comes out, in order
    assert got["orig"]["story"] == got["repost"]["story"] != got["other"]["story"]
    assert got["orig"]["story_size"] == 2 and got["no-text"]["story"] is None
    assert got["orig"]["risk"] == rows[0]["risk"]  # the scores pass through untouched
    assert (summary.documents, summary.with_text, summary.multi_document, summary.problems) == (4, 3, 1, 2)
    meta = json.loads((tmp_path / "with-stories.jsonl.stories.json").read_text(encoding="utf-8"))
    assert meta["clustering"]["threshold"] == 0.9999 and meta["embedding"]["prefix"] == "query: "
    assert meta["link_threshold"] == 0.9999 and meta["centered"] is False  # 3 documents: no language mean
    assert any("feed.jsonl:4" in problem for problem in meta["problems"])
    # The same input gives the same ids; an existing output needs --force.
    again = tmp_path / "again.parquet"
    args = ["stories", "--input", str(scored), "--texts", str(texts), "--encoder", str(tiny_encoder), "--pooling"]
    args.append("sentence-mean")
    assert main([*args, "--output", str(again), "--threshold", "0.9999", "--no-progress"]) == 0
    assert [r["story"] for r in read_output(str(again))] == [got[i]["story"] for i in got]
    with pytest.raises(SystemExit):
        main([*args, "--output", str(again), "--no-progress"])


@pytest.mark.slow
def test_real_encoder_puts_a_translation_closer_than_a_different_story() -> None:
    from narrascope.training.encoder import prepare_encoder

    settings = EmbedSettings(encoder=prepare_encoder(), pooling="document")
    en = "Eight brigades are being massed on the Russian border, and foreigners may serve in them."
    ru = "Восемь бригад стягивают к границе с Россией, и в них смогут служить иностранцы."
    other = "The Ministry of Defense said the law names no adversary and protects settlements."
    vectors = embed_texts([en, ru, other], settings)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def test_language_centring_puts_translations_next_to_each_other() -> None:
    from narrascope.report.centering import center_by_language

    rng = np.random.default_rng(3)
    stories = rng.normal(size=(12, 16))
    offset = {"en": rng.normal(size=16) * 3, "ru": rng.normal(size=16) * 3}
    vectors = np.vstack([stories + offset["en"], stories + offset["ru"] + rng.normal(scale=0.05, size=(12, 16))])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    languages = ["en"] * 12 + ["ru"] * 12
    nearest_before = (vectors @ vectors.T - 2 * np.eye(24)).argmax(axis=1)
    centred, done = center_by_language(vectors.astype(np.float32), languages, min_documents=10)
    nearest_after = (centred @ centred.T - 2 * np.eye(24)).argmax(axis=1)
    translation = np.r_[np.arange(12, 24), np.arange(12)]
    assert done and (nearest_after == translation).all() and (nearest_before != translation).any()
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    # One French document: too few for a mean of its own, so it gets the average of the estimated means.
    with_fr, _ = center_by_language(np.vstack([vectors, vectors[:1]]), [*languages, "fr"], min_documents=10)
    shared = (vectors[:12].mean(axis=0) + vectors[12:].mean(axis=0)) / 2
    expected = (vectors[0] - shared) / np.linalg.norm(vectors[0] - shared)
    assert np.allclose(with_fr[-1], expected, atol=1e-5)
    # No language with enough documents: the vectors are returned as they are, and the caller is told.
    same, done_small = center_by_language(vectors[:5], languages[:5], min_documents=10)
    assert not done_small and np.array_equal(same, vectors[:5])
    with pytest.raises(ValueError, match="5 vectors but 4 languages"):
        center_by_language(vectors[:5], languages[:4], min_documents=2)


def test_the_link_threshold_follows_the_vector_space() -> None:
    assert ClusterSettings().link_threshold(centered=True) == 0.5
    assert ClusterSettings().link_threshold(centered=False) == 0.93
    assert ClusterSettings(threshold=0.7).link_threshold(centered=True) == 0.7
