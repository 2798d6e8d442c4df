"""``--engine ray``: the same job on Ray Data, on a local Ray started by the job or on an existing cluster.

Reading and scoring run on the cluster: the input is read as a Ray dataset (through
:class:`~narrascope.batch.ray_workers.JsonLinesDatasource` or
:class:`~narrascope.batch.ray_workers.ParquetRowsDatasource`; their docstrings say why not
``read_json``/``read_parquet``) and scored by
``map_batches`` with :class:`narrascope.batch.ray_workers.ScoreActor`, a callable class that loads the model once per
actor, in a fixed-size actor pool (``ActorPoolStrategy``; CPU or GPU actors). The scored rows stream back
to the driver in input order and are written by the same sink as the local engine, so output, resume,
duplicate handling, error file and summary are identical; scored rows are small, so the driver is never
the bottleneck next to the model.
"""

from __future__ import annotations

import importlib
import logging
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from narrascope.batch.formats import STDIO
from narrascope.batch.readers import require_columns
from narrascope.batch.records import BadRecord
from narrascope.batch.run import ScoreSettings, open_job, open_sink, prepare_targets
from narrascope.batch.sink import Summary
from narrascope.batch.writers import OutputState

logger = logging.getLogger(__name__)

RAY_INPUT_FORMATS = ("jsonl", "parquet")
INSTALL_HINT = "the ray engine needs Ray: pip install 'narrascope[distributed]'"
# Layers a scoring actor imports; shipped to a remote cluster with the job, so its nodes need only the
# dependencies installed.
_ACTOR_LAYERS = ("batch", "model")


@dataclass(frozen=True)
class RaySettings:
    """How to run on Ray; ``ship`` defaults to on for a cluster address and off for a local Ray."""

    address: str | None = None
    actors: int = 1
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    ship: bool | None = None

    def __post_init__(self) -> None:
        if self.actors < 1:
            raise ValueError(f"actors must be at least 1, got {self.actors}")
        if self.cpus_per_actor <= 0:
            raise ValueError(f"cpus per actor must be positive, got {self.cpus_per_actor}")
        if self.gpus_per_actor < 0:
            raise ValueError(f"gpus per actor must be 0 or more, got {self.gpus_per_actor}")

    @property
    def shipping(self) -> bool:
        return self.ship if self.ship is not None else self.address is not None


def require_ray() -> ModuleType:
    """Import Ray, or say how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the data extra is what is needed)
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc
    return ray


def _is_uri(spec: str) -> bool:
    return "://" in spec


def _model_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _read_dataset(ray: ModuleType, fmt: str, paths: list[str], lines_per_block: int) -> Any:
    from narrascope.batch.ray_workers import JsonLinesDatasource, ParquetRowsDatasource

    source = (
        ParquetRowsDatasource(paths, rows_per_block=lines_per_block)
        if fmt == "parquet"
        else JsonLinesDatasource(paths, lines_per_block=lines_per_block)
    )
    # Reading is I/O next to scoring; read tasks that asked for a CPU would wait forever once the actors
    # hold every CPU of a small cluster (two actors on two cores), so they ask for none.
    return ray.data.read_datasource(source, ray_remote_args={"num_cpus": 0})


def _start(ray: ModuleType, settings: RaySettings) -> bool:
    """Connect to the cluster (or start a local Ray); returns whether this job started it."""
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    if settings.address:
        kwargs["address"] = settings.address
        if settings.shipping:
            with tempfile.TemporaryDirectory(prefix="narrascope-ship-") as staging:
                kwargs["runtime_env"] = {"py_modules": [str(package_tree(Path(staging)))]}
                ray.init(**kwargs)  # uploads the tree, so it may go once init returns
            return True
    ray.init(**kwargs)
    return True


def package_tree(target: Path) -> Path:
    """The ``narrascope`` package as it imports (``narrascope/model/...``), copied under ``target``.

    Ray ships one folder per module. An editable install maps each layer's folder to a subpackage, so the
    ``narrascope`` folder alone lacks them; the tree is assembled from where each layer was imported from.
    """
    import narrascope

    root = target / "narrascope"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(narrascope.__file__).parent, root, ignore=skip, dirs_exist_ok=True)
    for layer in _ACTOR_LAYERS:
        module = importlib.import_module(f"narrascope.{layer}")
        shutil.copytree(Path(str(module.__file__)).parent, root / layer, ignore=skip, dirs_exist_ok=True)
    return root


def _check_resources(ray: ModuleType, settings: RaySettings) -> None:
    """An actor pool larger than the cluster waits forever for actors that cannot be placed; say so instead.

    On a cluster address the autoscaler may still add nodes, so there it is only a warning.
    """
    available = ray.cluster_resources()
    for resource, per_actor in (("CPU", settings.cpus_per_actor), ("GPU", settings.gpus_per_actor)):
        need = per_actor * settings.actors
        have = float(available.get(resource, 0.0))
        if need > have:
            message = (
                f"{settings.actors} actors x {per_actor:g} {resource} need {need:g} {resource}, "
                f"the Ray cluster has {have:g}; use fewer --actors or less per actor"
            )
            if settings.address:
                logger.warning("%s (waiting for the autoscaler)", message)
            else:
                raise ValueError(message)


def score_feed_ray(settings: ScoreSettings, ray_settings: RaySettings, stdout: IO[str] | None = None) -> Summary:
    """Run one job on Ray and return what it did (same :class:`~batch.sink.Summary` as the local engine)."""
    fmt = settings.in_format
    if fmt not in RAY_INPUT_FORMATS:
        raise ValueError(f"the ray engine reads JSONL or Parquet, not {fmt}; use --engine local for this input")
    if settings.input == STDIO:
        raise ValueError("the ray engine reads files, not stdin; use --engine local or write the input to a file")
    ray = require_ray()
    model_dir = settings.model_dir()
    total: int | None = None
    state: OutputState
    if _is_uri(settings.input):
        paths = [settings.input]
        state = prepare_targets(settings)
    else:
        source, state = open_job(settings)
        paths = [str(p.resolve()) for p in source.paths or []]
        total = source.estimate()
        if not paths:
            raise ValueError(f"no {fmt} files in {settings.input}")
        if fmt == "parquet":  # JSONL lines are checked one by one, as the local engine does
            import pyarrow.parquet as pq

            for path in paths:
                require_columns(pq.read_schema(path).names, path, settings.fields, "the Parquet schema")
    started_here = _start(ray, ray_settings)
    context = ray.data.DataContext.get_current()
    saved = (context.execution_options.preserve_order, context.enable_progress_bars)
    try:
        _check_resources(ray, ray_settings)
        context.execution_options.preserve_order = True  # output in input order, as with the local engine
        context.enable_progress_bars = False  # the sink draws one bar for the whole job
        return _run(ray, settings, ray_settings, model_dir, paths, state, total, stdout)
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = saved
        if started_here:
            ray.shutdown()


def _run(
    ray: ModuleType,
    settings: ScoreSettings,
    ray_settings: RaySettings,
    model_dir: Path,
    paths: list[str],
    state: OutputState,
    total: int | None,
    stdout: IO[str] | None,
) -> Summary:
    from narrascope.batch.ray_workers import ScoreActor

    files_ref = [ray.put(_model_files(model_dir))] if ray_settings.shipping else None
    dataset = _read_dataset(ray, settings.in_format, paths, lines_per_block=settings.batch_size * 4)
    scored = dataset.map_batches(
        ScoreActor,
        fn_constructor_kwargs={
            "model_dir": str(model_dir.resolve()),
            "model_files": files_ref,
            "input_kind": settings.in_format,
            "fields": settings.fields,
            "evidence_per_label": settings.evidence_per_label,
            "forward_tokens": settings.forward_tokens,
            "runtime": settings.runtime,
            "done_ids": frozenset(state.done_ids),
            "threads": max(1, int(ray_settings.cpus_per_actor)),
            "device": "cuda" if ray_settings.gpus_per_actor > 0 else "cpu",
        },
        compute=ray.data.ActorPoolStrategy(size=ray_settings.actors),
        batch_size=settings.batch_size,
        batch_format="pyarrow",
        num_cpus=ray_settings.cpus_per_actor,
        num_gpus=ray_settings.gpus_per_actor or None,
    )
    engine = f"ray, {ray_settings.actors} actor{'s' if ray_settings.actors > 1 else ''}"
    with open_sink(settings, state, total, engine, stdout=stdout) as sink:
        for block in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
            rows: list[dict[str, Any]] = []
            sentences = 0
            columns = block.to_pydict()
            for kind, doc_id, location, reason, payload, count in zip(
                columns["kind"],
                columns["id"],
                columns["location"],
                columns["reason"],
                columns["payload"],
                columns["n_sentences"],
                strict=True,
            ):
                if kind == "skip":
                    sink.skip()
                elif kind == "bad":
                    sink.fail(BadRecord(location, reason, doc_id))
                elif kind == "dup":
                    sink.duplicate(doc_id, location)
                elif sink.claim(doc_id, location):
                    rows.append(pickle.loads(payload))  # produced by ScoreActor in this same job
                    sentences += count
            sink.write(rows, [], sentences)
        return sink.summary()
