"""Build the Latin-script Kazakh trigram table that ``model/kazakh_latin.py`` ships.

Run ``python -m narrascope.training.kazakh_latin`` after the Kazakh sentences change. The table is derived
from the dataset's Cyrillic Kazakh rows (every split: only their letters are used, never their labels), so
it lives with the other things training derives from ``data/``; the native Latin-script sentences the
identifier is measured on (``tests/data/langid/kk-Latn.txt``) are written separately and never enter it.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from narrascope.dataset.rows import load_sentences
from narrascope.model.kazakh_latin import TABLE_PATH, KazakhLatinModel, count_trigrams, latin_variants
from narrascope.paths import default_data_dir

logger = logging.getLogger(__name__)

# Chosen in the measured gap (bench/RESULTS.md): native Latin Kazakh 1.7-2.5 nats per trigram, uz/tr/az/fr/de >= 3.1.
THRESHOLD = 2.8
SMOOTHING = 0.1
ALPHABET_SIZE = 60
# Under 8 trigrams (a word or two) the cross-entropy says little; such texts are left to lingua.
MIN_TRIGRAMS = 8


def build_table(data_dir: Path) -> KazakhLatinModel:
    # Cyrillic rows only: Latin-script Kazakh rows (script "Latn") would be transliterated a second time.
    texts = [row.text for row in load_sentences(data_dir) if row.lang == "kk" and row.script is None]
    if not texts:
        raise ValueError(f"{data_dir}: no Kazakh sentences to build the Latin-script table from")
    counts = count_trigrams(form for text in texts for form in latin_variants(text))
    return KazakhLatinModel(dict(counts), SMOOTHING, ALPHABET_SIZE, THRESHOLD, MIN_TRIGRAMS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (default: NARRASCOPE_DATA_DIR)")
    parser.add_argument("--output", type=Path, default=TABLE_PATH, help="where to write the table")
    args = parser.parse_args(argv)
    model = build_table(args.data or default_data_dir())
    args.output.write_text(json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    logging.basicConfig(level=logging.INFO)
    logger.info("wrote %s trigrams to %s", len(model.counts), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
