"""Everything that runs on Ray, on one local two-CPU Ray per test run (starting one costs seconds): the Ray
engine gives exactly the local engine's output, errors and counts, and story embeddings equal local ones."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from narrascope.batch.records import FieldMap
from narrascope.batch.run import ScoreSettings, score_feed
from narrascope.batch.writers import read_output
from narrascope.model.classifier import NarrativeClassifier

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

from narrascope.batch.ray_engine import RaySettings, score_feed_ray  # noqa: E402  (after the skip: needs ray)
from narrascope.report.embed import EmbedSettings, embed_texts, load_encoder  # noqa: E402
from narrascope.training.tiny import SAMPLE_SENTENCES  # noqa: E402

SENTENCES = [
    "Kazakhstan is not preparing for war, the Ministry of Defense said.",
    "Eight brigades are being massed along the border with Russia, anonymous channels claim.",
    "Казахстан не готовится к войне, заявили в Министерстве обороны.",
    "Аумақтық қорғаныс туралы заң еріктілерден өзін-өзі қорғау құралымдарын құрады.",
    "Закон про територіальну оборону створює формування самооборони з добровольців.",
]


def _articles(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [
        {"id": f"r-{i:03d}", "text": " ".join(rng.sample(SENTENCES, rng.randint(1, 4))), "meta": {"n": i}}
        for i in range(count)
    ]


def _settings(source: Path, output: Path, model: Path, **overrides: Any) -> ScoreSettings:
    return ScoreSettings(input=str(source), output=str(output), model=model, progress=False, batch_size=8, **overrides)


def _errors(path: Path) -> list[tuple[str, str, str]]:
    """Errors as (id, location, reason), sorted: their order within a batch is not part of the contract."""
    return sorted(
        (e["id"] or "", e["location"], e["reason"])
        for e in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    )


@pytest.fixture(scope="module")
def local_ray() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


def test_ray_engine_equals_local_engine(
    tmp_path: Path, tiny_model_dir: Path, tiny_classifier: NarrativeClassifier, local_ray: Any
) -> None:
    articles = _articles(40)
    source = tmp_path / "in.jsonl"
    lines = [json.dumps(a, ensure_ascii=False) for a in articles]
    # A malformed line, a record without text, a repeat of an earlier batch's id, and an id three times in a row
    # (repeats within one batch must be reported at their own lines, as the local engine does).
    repeat = json.dumps(articles[9])
    lines[10:10] = ['{"id": "broken", "text": ', '{"id": "no-text"}', json.dumps(articles[3]), repeat, repeat]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    local = score_feed(_settings(source, tmp_path / "local.jsonl", tiny_model_dir), tiny_classifier)
    distributed = score_feed_ray(_settings(source, tmp_path / "ray.jsonl", tiny_model_dir), RaySettings(actors=1))
    assert read_output(str(tmp_path / "ray.jsonl")) == read_output(str(tmp_path / "local.jsonl"))
    assert _errors(tmp_path / "ray.jsonl.errors.jsonl") == _errors(tmp_path / "local.jsonl.errors.jsonl")
    counts = ("scored", "failed", "skipped", "duplicates", "sentences")
    assert (
        [getattr(distributed, c) for c in counts]
        == [getattr(local, c) for c in counts]
        == [40, 2, 0, 3, local.sentences]
    )
    assert distributed.engine.startswith("ray")


def test_ray_engine_resumes_parquet_with_a_shipped_model(
    tmp_path: Path, tiny_model_dir: Path, tiny_classifier: NarrativeClassifier, local_ray: Any
) -> None:
    articles = _articles(30)
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(articles), source)
    partial = tmp_path / "part.parquet"
    pq.write_table(pa.Table.from_pylist(articles[:11]), partial)
    out = tmp_path / "ray.parquet"
    score_feed(_settings(partial, out, tiny_model_dir), tiny_classifier)
    summary = score_feed_ray(_settings(source, out, tiny_model_dir, resume=True), RaySettings(actors=2, ship=True))
    assert (summary.skipped, summary.scored) == (11, 19)
    score_feed(_settings(source, tmp_path / "local.parquet", tiny_model_dir), tiny_classifier)
    assert read_output(str(out)) == read_output(str(tmp_path / "local.parquet"))


def test_ray_engine_rejects_other_inputs(tmp_path: Path, tiny_model_dir: Path) -> None:
    feed = tmp_path / "wire.rss"
    feed.write_text("<rss/>", encoding="utf-8")
    with pytest.raises(ValueError, match="JSONL or Parquet"):
        score_feed_ray(_settings(feed, tmp_path / "o.jsonl", tiny_model_dir), RaySettings())
    with pytest.raises(ValueError, match="actors must be at least 1, got 0"):
        RaySettings(actors=0)


def test_ray_engine_names_a_missing_parquet_column_before_starting(
    tmp_path: Path, tiny_model_dir: Path, tiny_classifier: NarrativeClassifier
) -> None:
    """As the local engine does, instead of one bad record per row."""
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(_articles(3)), source)
    fields = FieldMap("id", "body")
    with pytest.raises(ValueError, match="the Parquet schema has no 'body' column"):
        score_feed(_settings(source, tmp_path / "local.jsonl", tiny_model_dir, fields=fields), tiny_classifier)
    with pytest.raises(ValueError, match="the Parquet schema has no 'body' column"):
        score_feed_ray(_settings(source, tmp_path / "ray.jsonl", tiny_model_dir, fields=fields), RaySettings())


def test_ray_engine_refuses_a_pool_larger_than_the_cluster(
    tmp_path: Path, tiny_model_dir: Path, local_ray: Any
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(_articles(1)[0]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="need 3 CPU, the Ray cluster has 2"):
        score_feed_ray(_settings(source, tmp_path / "o.jsonl", tiny_model_dir), RaySettings(actors=3))


def test_ray_story_embedding_equals_local(tiny_encoder: Path, local_ray: Any) -> None:
    from narrascope.report.ray_embed import embed_on_ray

    settings = EmbedSettings(encoder=tiny_encoder, batch_size=4)
    texts = SAMPLE_SENTENCES * 5
    local = embed_texts(texts, settings, load_encoder(tiny_encoder))
    assert np.allclose(embed_on_ray(texts, settings, actors=1), local, atol=1e-5)
