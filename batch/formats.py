"""Which reader or writer a path gets: by ``--input-format``/``--format`` when given, else by extension.

One table decides it so the CLI, the local engine and the Ray engine never disagree about what a path is.
"""

from __future__ import annotations

from pathlib import Path

STDIO = "-"

INPUT_FORMATS = ("jsonl", "csv", "tsv", "parquet", "feed", "text")
OUTPUT_FORMATS = ("jsonl", "csv", "parquet")

# Compression suffixes the readers undo transparently (archives are usually gzipped JSONL or CSV).
_COMPRESSED = (".gz",)

_INPUT_BY_SUFFIX = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
    ".txt": "text",
    ".html": "text",
    ".htm": "text",
}

_OUTPUT_BY_SUFFIX = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

# File suffixes each input format picks up when the input is a folder.
SUFFIXES_FOR_INPUT = {
    "jsonl": (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"),
    "csv": (".csv", ".csv.gz"),
    "tsv": (".tsv", ".tsv.gz"),
    "parquet": (".parquet", ".pq"),
    "feed": (".rss", ".atom", ".xml"),
    "text": (".txt", ".html", ".htm"),
}


def _suffix(path: str) -> str:
    name = Path(path).name.lower()
    for compressed in _COMPRESSED:
        if name.endswith(compressed):
            name = name[: -len(compressed)]
    return Path(name).suffix


def _known(name: str, choices: tuple[str, ...], role: str) -> str:
    if name not in choices:
        raise ValueError(f"unknown {role} format {name!r}; choose one of {', '.join(choices)}")
    return name


def input_format(spec: str, explicit: str | None = None) -> str:
    """The input format for ``spec`` (a file, a folder, or ``-`` for stdin).

    A folder is a folder of .txt/.html documents unless it is named like Parquet output (``x.parquet/``)
    or a format is given, in which case every file of that format inside it is read.
    """
    if explicit:
        return _known(explicit, INPUT_FORMATS, "input")
    if spec == STDIO:
        return "jsonl"
    suffix = _suffix(spec)
    if Path(spec).is_dir():
        return "parquet" if suffix in (".parquet", ".pq") else "text"
    if suffix in _INPUT_BY_SUFFIX:
        return _INPUT_BY_SUFFIX[suffix]
    raise ValueError(
        f"cannot tell the format of {spec!r} from its extension; pass --input-format ({', '.join(INPUT_FORMATS)})"
    )


def output_format(spec: str, explicit: str | None = None) -> str:
    """The output format for ``spec``; stdout (``-``) defaults to JSONL."""
    if explicit:
        return _known(explicit, OUTPUT_FORMATS, "output")
    if spec == STDIO:
        return "jsonl"
    suffix = _suffix(spec)
    if suffix in _OUTPUT_BY_SUFFIX:
        return _OUTPUT_BY_SUFFIX[suffix]
    raise ValueError(
        f"cannot tell the output format of {spec!r} from its extension; pass --format ({', '.join(OUTPUT_FORMATS)})"
    )


def is_compressed(path: Path) -> bool:
    return path.name.lower().endswith(_COMPRESSED)
