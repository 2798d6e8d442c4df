"""Before the model loads: prove the job can create its output and its error file.

A job that scores thousands of documents and then cannot write its first bad record, or that loads a model
for a minute and then finds its output folder missing, wastes the operator's time and blames the wrong file.
So each target's folder must exist and accept a new file now; the probe file is removed at once, and nothing
else is created, so a refused job leaves nothing behind.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from narrascope.batch.formats import STDIO


class UnwritableTargetError(ValueError):
    """The output or error file cannot be created; the message names which one and why."""


def check_creatable(spec: str | None, what: str, folder_output: bool = False) -> None:
    """Raise unless a file named ``spec`` (or, for ``folder_output``, files inside it) can be created now."""
    if spec is None or spec == STDIO:
        return
    path = Path(spec)
    if path.exists() and path.is_dir() != folder_output:
        kind = "a folder" if path.is_dir() else "a file"
        raise UnwritableTargetError(f"{what} {spec} is {kind}; expected {'a folder' if folder_output else 'a file'}")
    where = path if folder_output and path.is_dir() else (path.parent if str(path.parent) else Path("."))
    if not where.exists():
        raise FileNotFoundError(f"{what} {spec}: the folder {where} does not exist (create it first)")
    if not where.is_dir():
        raise UnwritableTargetError(f"{what} {spec}: {where} is not a folder")
    if path.is_file() and not os.access(path, os.W_OK):
        raise UnwritableTargetError(f"{what} {spec}: the file exists and is not writable")
    try:
        with tempfile.NamedTemporaryFile(dir=where, prefix=".narrascope-probe-", delete=True):
            pass
    except OSError as exc:
        reason = "no space left" if exc.errno == errno.ENOSPC else (exc.strerror or type(exc).__name__)
        raise UnwritableTargetError(f"{what} {spec}: cannot create files in {where} ({reason})") from None


def check_targets(output: str, out_format: str, errors: str | None) -> None:
    """Both targets of a job, checked in the order an operator reads the command line."""
    check_creatable(output, "output", folder_output=out_format == "parquet")
    check_creatable(errors, "--errors file")
    if errors is not None and output != STDIO and Path(errors).resolve() == Path(output).resolve():
        raise UnwritableTargetError(f"--errors {errors} is the output file; give the bad records a file of their own")
