"""Shared helpers for the benchmarks: what machine a number came from, and one results file for all of them.

A throughput figure without the CPU, core count and library versions behind it cannot be compared with the
next run, so every benchmark appends its table to ``bench/RESULTS.md`` together with :func:`machine_facts`.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\n"
    "Appended by the scripts in `bench/` (newest last). Each entry names the machine it ran on; compare\n"
    "numbers only between entries from the same machine.\n"
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_facts() -> dict[str, Any]:
    """CPU, cores, memory, accelerator and library versions of this machine."""
    facts: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    try:
        import torch

        facts["torch"] = torch.__version__
        facts["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        facts["torch"] = None
    try:
        import transformers

        facts["transformers"] = transformers.__version__
    except ImportError:
        pass
    return facts


def facts_markdown(facts: dict[str, Any]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in facts.items() if value is not None)


def append_results(title: str, markdown: str, facts: dict[str, Any] | None = None) -> Path:
    """Append ``## title`` with a timestamp, the machine facts and ``markdown`` to ``bench/RESULTS.md``."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"\n## {title} ({stamp})\n\n"
        f"Machine:\n\n{facts_markdown(facts if facts is not None else machine_facts())}\n\n"
        f"{markdown.strip()}\n"
    )
    new = not RESULTS.exists()
    with RESULTS.open("a", encoding="utf-8") as fh:
        if new:
            fh.write(HEADER)
        fh.write(section)
    return RESULTS


def describe_model(folder: Path) -> str:
    """Name, version and size of a model folder, read from its config (no weights loaded).

    Derived from the folder rather than written as a literal, so a published result cannot misdescribe the
    model it measured (an earlier literal said hidden 32 for the tiny model, which has 64).
    """
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    extra = config.get("narrascope") or {}
    meta_path = folder / "narrascope.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    return (
        f"{extra.get('model_name', folder.name)} {extra.get('model_version', '')} "
        f"(base {extra.get('base_model', '?')}, {config.get('model_type')} {config.get('num_hidden_layers')} layers, "
        f"hidden {config.get('hidden_size')}, max_length {extra.get('max_length')}, mode {meta.get('mode')})"
    )
