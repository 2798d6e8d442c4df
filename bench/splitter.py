"""Per-document work before the forward pass, per MB: adversarial text vs ordinary news, same run.

What runs on every document before the model sees it: sentence splitting (``model/sentences.py``), language
detection (``model/language.py``) and tokenisation into the model's windows (the call ``predict_proba``
makes). Issue 10 found the splitter quadratic (``"x" * 20000 + " A. A. A. B"`` took 15 s), so this script
measures each stage in seconds per MB of text:

* ``news``: the articles of ``data/articles`` (title and paragraphs, one document each), cycled to
  ``--mb`` MB; the reference;
* adversarial shapes, each one document of ``--mb`` MB: a long run without spaces, floods of periods and
  initials, punctuation only, mixed scripts (Latin, Cyrillic, Kazakh, Arabic), newline floods, soft-wrapped
  lines, abbreviations, long words ending in periods, and a ligature that NFKC (in the tokenizer) expands
  eighteenfold.

Then, before/after: the splitter as of ``--before`` (default: the last main commit with the quadratic one)
loaded from git into a temporary module, against the current one, on a ``--before-chars`` document of each
shape; the old one is stopped after ``--budget`` seconds (some shapes would take hours). Wall time, best of
``--repeats``. Results are appended to ``bench/RESULTS.md``.

    .venv/bin/python bench/splitter.py
    .venv/bin/python bench/splitter.py --mb 0.25 --no-append
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import append_results, machine_facts  # noqa: E402
from narrascope.model.language import detect_language  # noqa: E402
from narrascope.model.sentences import split_sentences  # noqa: E402
from narrascope.paths import default_data_dir, default_encoder_dir  # noqa: E402

BEFORE_REV = "8acba00"  # main just before the linear splitter (issue 10)
MB = 1_000_000
T = TypeVar("T")


def _fill(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


SHAPES: dict[str, Callable[[int], str]] = {
    "run without spaces + ` A. A. A. B` (issue 10)": lambda n: "x" * n + " A. A. A. B",
    "initials flood `A. A. A.`": lambda n: _fill("A. ", n),
    "period flood `. . . .`": lambda n: _fill(". ", n),
    "sentence flood `word. Next`": lambda n: _fill("word. Next ", n),
    "punctuation only": lambda n: _fill("!?.…»)(«", n),
    "mixed scripts `Қазақстан. Россия. Kazakhstan. كازاخستان.`": lambda n: _fill(
        "Қазақстан. Россия. Kazakhstan. كازاخستان. ", n
    ),
    "newline flood": lambda n: "\n" * n,
    "soft-wrapped lines `a\\n`": lambda n: _fill("a\n", n),
    "abbreviations `Dr. Mr. т.е. г.`": lambda n: _fill("Dr. Mr. т.е. г. ", n),
    "long words ending in periods": lambda n: _fill("x" * 1000 + ". A ", n),
    # Not a splitter shape: NFKC in the tokenizer expands U+FDFA to 18 characters, so tokens per character soar.
    "NFKC-expanding ligature `ﷺ`": lambda n: "ﷺ" * n,
}


def news_documents(data_dir: Path, chars: int) -> list[str]:
    """Article texts (title, then paragraphs separated by blank lines), cycled until ``chars`` characters."""
    articles: list[str] = []
    for path in sorted((data_dir / "articles").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                paragraphs = [" ".join(s["text"] for s in paragraph) for paragraph in row["paragraphs"]]
                articles.append("\n\n".join([row["title"]["text"], *paragraphs]))
    if not articles:
        raise SystemExit(f"no articles under {data_dir / 'articles'}; pass --data")
    documents: list[str] = []
    total = 0
    while total < chars:
        text = articles[len(documents) % len(articles)]
        documents.append(text)
        total += len(text)
    return documents


def load_tokenizer() -> tuple[Any, str]:
    """The embedded encoder's tokenizer when it is prepared (what the default model uses), else the tiny one."""
    from transformers import AutoTokenizer

    from narrascope.training.encoder import is_prepared
    from narrascope.training.tiny import build_tiny_tokenizer

    folder = default_encoder_dir()
    if is_prepared(folder):
        return AutoTokenizer.from_pretrained(folder), f"embedded encoder ({folder.name})"
    return build_tiny_tokenizer(), "tiny Unigram tokenizer (embedded encoder not prepared)"


def tokenise(tokenizer: Any, sentences: list[str], max_length: int = 128, stride: int = 32) -> int:
    """The windowing call of ``NarrativeClassifier.predict_proba``, in chunks as the batch engine feeds it."""
    windows = 0
    for start in range(0, len(sentences), 4096):
        encoded = tokenizer(
            sentences[start : start + 4096],
            truncation=True,
            max_length=max_length,
            stride=min(stride, max_length // 4),
            return_overflowing_tokens=True,
            padding=False,
        )
        windows += len(encoded["input_ids"])
    return windows


def best_of(run: Callable[[], T], repeats: int) -> tuple[float, T]:
    """Fewest seconds over ``repeats`` runs, and what the last run returned."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


@dataclass
class StageRow:
    name: str
    documents: int
    chars: int
    sentences: int
    windows: int
    split: float
    language: float
    tokenise: float

    @property
    def total(self) -> float:
        return self.split + self.language + self.tokenise

    def per_mb(self, seconds: float) -> float:
        return seconds / (self.chars / MB)


def measure_stages(name: str, documents: list[str], tokenizer: Any, repeats: int) -> StageRow:
    """Seconds for each stage over all ``documents`` (best of ``repeats``)."""
    split, spans = best_of(lambda: [split_sentences(text) for text in documents], repeats)
    language, _ = best_of(lambda: [detect_language(text) for text in documents], repeats)
    sentences = [span.text for per_document in spans for span in per_document]
    tokenised, windows = best_of(lambda: tokenise(tokenizer, sentences), repeats)
    chars = sum(len(text) for text in documents)
    return StageRow(name, len(documents), chars, len(sentences), windows, split, language, tokenised)


def load_old_splitter(rev: str) -> ModuleType | None:
    """``model/sentences.py`` as of ``rev``, imported as a throwaway module; None without git or that commit."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:model/sentences.py"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="narrascope-old-splitter-"))
    path = folder / "old_sentences.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_sentences", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_sentences"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


class _Stopped(Exception):
    pass


@contextmanager
def _wall_budget(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (``re``'s matcher checks for signals, so a runaway regex stops)."""

    def expire(signum: int, frame: object) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def time_capped(split: Callable[[str], object], text: str, budget: float, repeats: int) -> float | None:
    """Best of ``repeats`` seconds for ``split(text)``; None when one run passes ``budget`` seconds."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            with _wall_budget(budget):
                split(text)
        except _Stopped:
            return None
        best = min(best, time.perf_counter() - started)
    return best


def before_after_table(old: ModuleType, rev: str, chars: int, budget: float, repeats: int) -> list[str]:
    table = [
        f"| input ({chars:,} characters, one document) | before (main@{rev}) s | after s | speed-up |",
        "|---|---|---|---|",
    ]
    for name, build in SHAPES.items():
        text = build(chars)
        before = time_capped(old.split_sentences, text, budget, repeats)
        after = time_capped(split_sentences, text, budget, repeats)
        if after is None:
            raise SystemExit(f"the current splitter took over {budget} s on {name}")
        shown = f"> {budget:.0f} (stopped)" if before is None else f"{before:.4f}"
        speedup = f"> {budget / max(after, 1e-9):,.0f}x" if before is None else f"{before / max(after, 1e-9):,.0f}x"
        table.append(f"| {name} | {shown} | {after:.4f} | {speedup} |")
    return table


def stage_table(rows: list[StageRow]) -> list[str]:
    news = rows[0]
    table = [
        "| input | documents | MB | sentences | windows | split s/MB | language s/MB | tokenise s/MB "
        "| total s/MB | total vs news |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = row.per_mb(row.total) / news.per_mb(news.total)
        table.append(
            f"| {row.name} | {row.documents} | {row.chars / MB:.2f} | {row.sentences} | {row.windows} "
            f"| {row.per_mb(row.split):.3f} | {row.per_mb(row.language):.3f} | {row.per_mb(row.tokenise):.3f} "
            f"| {row.per_mb(row.total):.3f} | {ratio:.2f}x |"
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=1.0, help="MB of text per input (news: in all)")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    parser.add_argument("--before", default=BEFORE_REV, help="git revision of the splitter to compare with")
    parser.add_argument("--before-chars", type=int, default=20_000, help="document size for before/after")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds after which the old splitter stops")
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: the project's data/)")
    parser.add_argument("--no-append", action="store_true", help="print only, do not append to RESULTS.md")
    args = parser.parse_args(argv)

    load_before = round(os.getloadavg()[0], 2)
    chars = int(args.mb * MB)
    tokenizer, tokenizer_name = load_tokenizer()
    news = news_documents(args.data or default_data_dir(), chars)
    rows = [measure_stages("news articles (data/articles)", news, tokenizer, args.repeats)]
    for name, build in SHAPES.items():
        rows.append(measure_stages(name, [build(chars)], tokenizer, args.repeats))
    old = load_old_splitter(args.before)
    comparison = (
        before_after_table(old, args.before, args.before_chars, args.budget, args.repeats)
        if old is not None
        else [f"(no before/after: `git show {args.before}:model/sentences.py` failed)"]
    )
    load_after = round(os.getloadavg()[0], 2)
    worst = max(rows[1:], key=lambda row: row.per_mb(row.total))
    worst_split = max(rows[1:], key=lambda row: row.per_mb(row.split))
    summary = (
        f"Worst adversarial input in all: **{worst.per_mb(worst.total):.2f} s/MB** ({worst.name}), "
        f"{worst.per_mb(worst.total) / rows[0].per_mb(rows[0].total):.1f}x news; splitter alone at most "
        f"**{worst_split.per_mb(worst_split.split):.2f} s/MB** ({worst_split.name}) against "
        f"{rows[0].per_mb(rows[0].split):.3f} s/MB on news."
    )
    markdown = (
        f"Per-document work before the forward pass, wall time best of {args.repeats}; tokeniser: "
        f"{tokenizer_name}, windows of 128 tokens with stride 32 as `predict_proba` cuts them; adversarial inputs "
        f"are one document each; 1-min load average before/after: {load_before}/{load_after} (other processes "
        "share this machine).\n\n"
        + "\n".join(stage_table(rows))
        + f"\n\n{summary}\n\nSplitter before/after on one document, best of {args.repeats}, the old one stopped after "
        f"{args.budget:.0f} s:\n\n" + "\n".join(comparison)
    )
    sys.stdout.write(markdown + "\n")
    if not args.no_append:
        path = append_results("Per-document preparation: adversarial text vs news, per MB", markdown, machine_facts())
        sys.stdout.write(f"appended to {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
