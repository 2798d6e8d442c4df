"""Batch scoring throughput: ``narrascope score`` (local engine) vs naive per-document loops, same run.

A 5,000-article feed is generated deterministically from the dataset's sentences (``data/sentences``):
each article is 3-14 sentences of one language in paragraphs, with the extra fields a scraper would keep.
Then, one after the other, on the same machine, model and input:

* ``local engine``: :func:`narrascope.batch.run.score_feed` as shipped: streamed JSONL in, batches of ``--batch-size``
  documents whose sentences share length-sorted, token-bounded forward passes, JSONL out flushed per batch;
* ``naive per document``: read a line, call ``score_documents`` on that one document, write its row: what a
  script looping over ``narrascope.model.documents`` would do (no cross-document batching);
* ``naive per sentence``: split each document and call ``predict_proba`` on one sentence at a time (the
  classic pipeline loop), scores only;
* optionally ``--ray-actors 1,2``: the Ray engine on a local Ray, one torch thread per actor (its time
  includes starting the actors and loading the model in each).

The feed is cut into ``--rounds`` parts; each round runs the engine on one part and then the naive loops on
the start of the same part (``--naive-limit`` documents in all; rates are per document, so they stay
comparable), so load from other processes on a shared machine hits every pipeline alike. Results are
appended to ``bench/RESULTS.md``.

    .venv/bin/python bench/batch_throughput.py                   # default model if trained, else tiny
    .venv/bin/python bench/batch_throughput.py --model tiny --ray-actors 1,2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import append_results, describe_model, machine_facts  # noqa: E402
from narrascope.batch.run import ScoreSettings, score_feed  # noqa: E402
from narrascope.model.classifier import NarrativeClassifier  # noqa: E402
from narrascope.model.documents import Document, ScoringOptions, score_documents  # noqa: E402
from narrascope.model.sentences import split_sentences  # noqa: E402
from narrascope.model.threads import use_threads  # noqa: E402
from narrascope.paths import default_data_dir, default_model_dir  # noqa: E402

FALLBACK_SENTENCES = {
    "en": [
        "Kazakhstan is not preparing for war, the Ministry of Defense said.",
        "The law on territorial defence creates self-defence units of citizen volunteers.",
    ],
    "ru": [
        "Казахстан не готовится к войне, заявили в Министерстве обороны.",
        "Закон о территориальной обороне создаёт формирования самообороны из добровольцев.",
    ],
}
OUTLETS = ("steppe-wire", "astana-daily", "kz-telegraph", "eurasia-monitor", "tg-channel-aggregator")


@dataclass
class Rate:
    name: str
    documents: int
    sentences: int
    seconds: float

    def add(self, other: Rate) -> None:
        self.documents += other.documents
        self.sentences += other.sentences
        self.seconds += other.seconds

    @property
    def docs_per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0

    @property
    def sentences_per_second(self) -> float:
        return self.sentences / self.seconds if self.seconds else 0.0


def load_sentences(data_dir: Path) -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {}
    for path in sorted((data_dir / "sentences").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                by_lang.setdefault(row.get("lang") or path.stem, []).append(row["text"])
    return by_lang or FALLBACK_SENTENCES


def generate_feed(path: Path, count: int, seed: int, data_dir: Path) -> None:
    """Deterministic articles: one language each, 3-14 sentences, a paragraph break every 2-4 sentences."""
    rng = random.Random(seed)
    sentences = load_sentences(data_dir)
    languages = sorted(sentences)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            pool = sentences[rng.choice(languages)]
            picked = [rng.choice(pool) for _ in range(rng.randint(3, 14))]
            paragraphs, current = [], []
            for sentence in picked:
                current.append(sentence.strip())
                if len(current) >= rng.randint(2, 4):
                    paragraphs.append(" ".join(current))
                    current = []
            if current:
                paragraphs.append(" ".join(current))
            row = {
                "id": f"bench-{i:05d}",
                "text": "\n\n".join(paragraphs),
                "outlet": rng.choice(OUTLETS),
                "published": f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "url": f"https://example.org/{i}",
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def split_feed(feed: Path, rounds: int) -> list[Path]:
    """The feed cut into ``rounds`` consecutive chunk files."""
    lines = feed.read_text(encoding="utf-8").splitlines(keepends=True)
    size = -(-len(lines) // max(1, rounds))
    chunks = []
    for number, start in enumerate(range(0, len(lines), size)):
        chunk = feed.with_name(f"chunk-{number}.jsonl")
        chunk.write_text("".join(lines[start : start + size]), encoding="utf-8")
        chunks.append(chunk)
    return chunks


def naive_per_document(classifier: NarrativeClassifier, feed: Path, output: Path, limit: int) -> Rate:
    """One ``score_documents`` call per document, one row written per document."""
    options = ScoringOptions(include_sentences=False)
    documents = sentences = 0
    started = time.perf_counter()
    with feed.open(encoding="utf-8") as source, output.open("w", encoding="utf-8") as sink:
        for line in source:
            if documents >= limit:
                break
            row = json.loads(line)
            (result,) = score_documents(classifier, [Document(row["id"], row["text"])], options)
            sink.write(json.dumps({**row, **result.to_dict()}, ensure_ascii=False) + "\n")
            sink.flush()
            documents += 1
            sentences += result.n_sentences
    return Rate("naive per document", documents, sentences, time.perf_counter() - started)


def naive_per_sentence(classifier: NarrativeClassifier, feed: Path, limit: int) -> Rate:
    """One forward pass per sentence, article score = max over its sentences (scores only, nothing written)."""
    documents = sentences = 0
    started = time.perf_counter()
    with feed.open(encoding="utf-8") as source:
        for line in source:
            if documents >= limit:
                break
            text = json.loads(line)["text"]
            spans = split_sentences(text)
            probs = [classifier.predict_proba([span.text])[0] for span in spans]
            _ = max((float(p.max()) for p in probs), default=0.0)
            documents += 1
            sentences += len(spans)
    return Rate("naive per sentence", documents, sentences, time.perf_counter() - started)


def resolve_model(spec: str | None, workdir: Path) -> tuple[Path, str]:
    if spec == "tiny" or (spec is None and not default_model_dir().is_dir()):
        from narrascope.training.tiny import build_tiny_model_dir

        folder = build_tiny_model_dir(workdir / "tiny")
    else:
        folder = Path(spec).expanduser() if spec else default_model_dir()
    return folder, describe_model(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--naive-limit", type=int, default=1000, help="documents for each naive loop")
    parser.add_argument("--model", default=None, help="model folder, or 'tiny' (default: trained default model)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of engine and naive loops")
    parser.add_argument("--ray-actors", default="", help="comma-separated actor counts, e.g. 1,2")
    parser.add_argument("--no-append", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args(argv)

    load_before = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="narrascope-bench-") as tmp:
        work = Path(tmp)
        model_dir, model_name = resolve_model(args.model, work)
        feed = work / "feed.jsonl"
        generate_feed(feed, args.docs, args.seed, default_data_dir())
        use_threads(args.threads)
        classifier = NarrativeClassifier.load(model_dir)
        # Warm-up outside the clock (first forward passes allocate).
        score_documents(classifier, [Document("w", "Warm up. Twice.")], ScoringOptions(include_sentences=False))

        # Interleaved rounds: on a shared machine, background load then hits every pipeline alike.
        chunks = split_feed(feed, args.rounds)
        limit = min(args.naive_limit, args.docs)
        per_round = -(-limit // len(chunks))
        local = Rate(f"local engine (batch {args.batch_size})", 0, 0, 0.0)
        per_document = Rate("naive per document", 0, 0, 0.0)
        per_sentence = Rate("naive per sentence", 0, 0, 0.0)
        for number, chunk in enumerate(chunks):
            summary = score_feed(
                ScoreSettings(
                    input=str(chunk),
                    output=str(work / f"local-{number}.jsonl"),
                    batch_size=args.batch_size,
                    progress=False,
                ),
                classifier,
            )
            local.add(Rate(local.name, summary.scored, summary.sentences, summary.seconds))
            take = min(per_round, limit - per_document.documents)
            if take > 0:
                per_document.add(naive_per_document(classifier, chunk, work / f"naive-{number}.jsonl", take))
                per_sentence.add(naive_per_sentence(classifier, chunk, take))
        rates = [local, per_document, per_sentence]
        actor_counts = [int(a) for a in args.ray_actors.split(",") if a.strip()]
        if actor_counts:
            # The reference for one-thread actors: the local engine on one thread.
            import torch

            previous = torch.get_num_threads()
            torch.set_num_threads(1)
            single = score_feed(
                ScoreSettings(
                    input=str(feed), output=str(work / "local-1.jsonl"), batch_size=args.batch_size, progress=False
                ),
                classifier,
            )
            torch.set_num_threads(previous)
            rates.append(Rate("local engine, 1 thread", single.scored, single.sentences, single.seconds))
        for actors in actor_counts:
            from narrascope.batch.ray_engine import RaySettings, score_feed_ray

            ray_summary = score_feed_ray(
                ScoreSettings(
                    input=str(feed),
                    output=str(work / f"ray-{actors}.jsonl"),
                    model=model_dir,
                    batch_size=args.batch_size,
                    progress=False,
                ),
                RaySettings(actors=actors, cpus_per_actor=1.0),
            )
            rates.append(
                Rate(
                    f"ray engine, {actors} actor(s) x 1 thread",
                    ray_summary.scored,
                    ray_summary.sentences,
                    ray_summary.seconds,
                )
            )

    load_after = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    base = rates[0]
    table = [
        "| pipeline | documents | sentences | seconds | docs/s | sentences/s | local engine speed-up |",
        "|---|---|---|---|---|---|---|",
    ]
    for rate in rates:
        speedup = base.docs_per_second / rate.docs_per_second if rate.docs_per_second else 0.0
        table.append(
            f"| {rate.name} | {rate.documents} | {rate.sentences} | {rate.seconds:.1f} | "
            f"{rate.docs_per_second:.1f} | {rate.sentences_per_second:.1f} | {speedup:.2f}x |"
        )
    threads = args.threads or "default (all cores)"
    markdown = (
        f"Model: {model_name}; generated feed of {args.docs} articles (seed {args.seed}, "
        f"{base.sentences / max(1, base.documents):.1f} sentences per article, from data/sentences); "
        f"naive loops on {limit} of them; {len(chunks)} interleaved rounds (the engine on one part of the feed, then "
        f"the naive loops on the start of that part); torch threads: {threads}; JSONL in and out; "
        f"1-min load average before/after: {load_before}/{load_after} (other processes share this machine).\n\n"
        + "\n".join(table)
        + f"\n\nLocal engine vs naive per-document loop: **{base.docs_per_second / rates[1].docs_per_second:.2f}x** "
        f"documents/s; vs naive per-sentence loop: **{base.docs_per_second / rates[2].docs_per_second:.2f}x**."
    )
    sys.stdout.write(markdown + "\n")
    if not args.no_append:
        path = append_results("Batch scoring: local engine vs naive loops", markdown, machine_facts())
        sys.stdout.write(f"appended to {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
