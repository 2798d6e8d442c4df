"""How many torch threads a process should use, decided by whoever owns the process.

Loading a model must not change process-wide state: the service's lifespan, a batch job and a Ray actor
each own their process and call :func:`use_threads` once, with a count from their own settings.
"""

from __future__ import annotations

import os

import torch


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, so containers and ``taskset`` are honoured)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads_per_worker(workers: int = 1) -> int:
    """One intra-op thread per core, divided among worker processes so they do not oversubscribe the CPU."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return max(1, available_cores() // workers)


def use_threads(threads: int | None, workers: int = 1) -> int:
    """Set torch's intra-op threads for this process (``None``: :func:`threads_per_worker`); returns the count."""
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    count = threads or threads_per_worker(workers)
    torch.set_num_threads(count)
    return count
