"""Load test of ``POST /v1/score``: micro-batching service vs the naive one-request-one-forward-pass baseline.

Both run in the same invocation, on the same machine, model, texts and client count, one after the other:

* ``micro-batching``: the service as shipped (``max_wait_ms``, up to 64 requests per batch);
* ``naive``: the same service with ``max_batch_requests=1`` and ``max_wait_ms=0``, so every request is
  scored alone in its own forward pass, which is what a handler calling the model directly would do.

Each server runs in its own process (``uvicorn serve.app:create_app --factory``) so the load generator
does not share its interpreter. Clients are asyncio tasks that send the next request as soon as the last
one returns (closed loop) for a fixed time after a warm-up. Requests carry one document of a few sentences
drawn from the dataset.

    .venv/bin/python bench/load_test.py                      # tiny random model (plumbing only)
    .venv/bin/python bench/load_test.py --model ~/.cache/narrascope/models/default --clients 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import append_results, describe_model, machine_facts  # noqa: E402
from narrascope.paths import default_data_dir  # noqa: E402
from narrascope.serve.testing import free_port  # noqa: E402


@dataclass
class RunResult:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    documents: int = 0
    sentences: int = 0
    mean_batch_requests: float | None = None

    def merge(self, other: RunResult) -> None:
        """Pool another round of the same service: latencies, counts and time add up."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        for key, count in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + count
        self.documents += other.documents
        self.sentences += other.sentences
        batches = [b for b in (self.mean_batch_requests, other.mean_batch_requests) if b is not None]
        self.mean_batch_requests = sum(batches) / len(batches) if batches else None

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[index]


def load_texts(sentences_per_request: int, count: int, seed: int) -> list[str]:
    pool: list[str] = []
    for path in sorted((default_data_dir() / "sentences").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                pool.append(json.loads(line)["text"].strip())
    if not pool:
        pool = ["Kazakhstan is not preparing for war, the Ministry of Defense said."]
    rng = random.Random(seed)
    return [" ".join(rng.choice(pool) for _ in range(sentences_per_request)) for _ in range(count)]


def start_server(model_dir: Path, port: int, env_overrides: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NARRASCOPE_")}
    env.update(
        {
            "NARRASCOPE_MODEL_DIR": str(model_dir),
            "NARRASCOPE_FEEDBACK_URL": f"sqlite:///{workdir / 'feedback.sqlite'}",
            "NARRASCOPE_MAX_QUEUE_REQUESTS": "100000",
            "NARRASCOPE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            **env_overrides,
        }
    )
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "narrascope.serve.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"server exited with {process.returncode}:\n{error[-3000:]}")
            try:
                if (await client.get(f"{base}/readyz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("server did not become ready")


async def drive(base: str, texts: list[str], clients: int, seconds: float, name: str) -> RunResult:
    result = RunResult(name, seconds)
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client_loop(client: httpx.AsyncClient, worker: int) -> None:
        i = worker
        while time.perf_counter() < deadline:
            body = {"documents": [{"id": str(i), "text": texts[i % len(texts)]}]}
            i += clients
            began = time.perf_counter()
            try:
                response = await client.post(f"{base}/v1/score", json=body)
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1
                continue
            elapsed = time.perf_counter() - began
            if response.status_code != 200:
                key = f"HTTP {response.status_code}"
                result.errors[key] = result.errors.get(key, 0) + 1
                continue
            if time.perf_counter() <= deadline:
                result.latencies.append(elapsed)
                doc = response.json()["results"][0]
                result.documents += 1
                result.sentences += doc["n_sentences"]

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        await asyncio.gather(*(client_loop(client, w) for w in range(clients)))
    result.seconds = min(seconds, time.perf_counter() - started)
    return result


async def mean_batch(base: str) -> float | None:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base}/metrics")).text
    total = re.search(r"^narrascope_batch_requests_sum (\S+)$", text, re.M)
    count = re.search(r"^narrascope_batch_requests_count (\S+)$", text, re.M)
    if not total or not count or float(count.group(1)) == 0:
        return None
    return float(total.group(1)) / float(count.group(1))


async def run_config(
    name: str, overrides: dict[str, str], args: argparse.Namespace, model_dir: Path, texts: list[str], workdir: Path
) -> RunResult:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_server(model_dir, port, overrides, workdir)
    try:
        await wait_ready(base, process)
        if args.warmup > 0:
            await drive(base, texts, args.clients, args.warmup, name)
        result = await drive(base, texts, args.clients, args.duration, name)
        result.mean_batch_requests = await mean_batch(base)
        return result
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def markdown(results: list[RunResult], args: argparse.Namespace, model_dir: Path, model_label: str) -> str:
    header = (
        "| service | requests ok | errors | req/s | sentences/s | p50 ms | p95 ms | p99 ms | mean batch (requests) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    rows = []
    for r in results:
        errors = sum(r.errors.values())
        batch = f"{r.mean_batch_requests:.1f}" if r.mean_batch_requests else "-"
        rows.append(
            f"| {r.name} | {r.ok} | {errors} | {r.throughput:.1f} | {r.sentences / r.seconds:.1f} | "
            f"{r.percentile(50) * 1000:.1f} | {r.percentile(95) * 1000:.1f} | {r.percentile(99) * 1000:.1f} | {batch} |"
        )
    batched, naive = results
    ratio = batched.throughput / naive.throughput if naive.throughput else float("nan")
    p95_ratio = naive.percentile(95) / batched.percentile(95) if batched.latencies else float("nan")
    return "\n".join(
        [
            f"Model: `{model_label}`; {args.clients} concurrent clients; {args.rounds} alternating round(s) of "
            f"{args.duration:g} s measured after {args.warmup:g} s warm-up per service, pooled; "
            f"one document of {args.sentences} dataset sentences per request; "
            f"micro-batching max_wait_ms={args.max_wait_ms:g}; server torch threads: "
            f"{args.threads or 'default (all cores)'}; device: {args.device or 'auto'}; "
            "load generator on the same machine.",
            "",
            header,
            *rows,
            "",
            f"Throughput ratio micro-batching / naive: **{ratio:.2f}x**; p95 latency naive / micro-batching: "
            f"**{p95_ratio:.2f}x**.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="model folder (default: a tiny random model built now)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per service and round")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternate the services this many times (evens out a noisy machine)"
    )
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--sentences", type=int, default=3, help="dataset sentences per request document")
    parser.add_argument("--max-wait-ms", type=float, default=5.0)
    parser.add_argument("--threads", type=int, help="torch threads in the server (default: all cores)")
    parser.add_argument("--device", help="torch device for the server (default: cuda if available)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-append", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write raw numbers here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="narrascope-load-") as tmp:
        workdir = Path(tmp)
        if args.model is None:
            from narrascope.training.tiny import build_tiny_model_dir

            model_dir = build_tiny_model_dir(workdir / "tiny")
        else:
            model_dir = args.model.expanduser().resolve()
        model_label = describe_model(model_dir)
        texts = load_texts(args.sentences, 2000, args.seed)
        common: dict[str, str] = {}
        if args.threads:
            common["NARRASCOPE_NUM_THREADS"] = str(args.threads)
        if args.device:
            common["NARRASCOPE_DEVICE"] = args.device
        configs = [
            (
                "micro-batching",
                {**common, "NARRASCOPE_MAX_WAIT_MS": str(args.max_wait_ms), "NARRASCOPE_MAX_BATCH_REQUESTS": "64"},
            ),
            (
                "naive (1 request = 1 forward pass)",
                {**common, "NARRASCOPE_MAX_WAIT_MS": "0", "NARRASCOPE_MAX_BATCH_REQUESTS": "1"},
            ),
        ]
        results = [RunResult(name, 0.0) for name, _ in configs]
        for _round in range(args.rounds):
            for total, (name, env) in zip(results, configs, strict=True):
                total.merge(asyncio.run(run_config(name, env, args, model_dir, texts, workdir)))

    facts = machine_facts()
    table = markdown(results, args, model_dir, model_label)
    sys.stdout.write(table + "\n")
    if args.json:
        raw = {
            "facts": facts,
            "runs": [
                {
                    "name": r.name,
                    "ok": r.ok,
                    "errors": r.errors,
                    "seconds": r.seconds,
                    "throughput": r.throughput,
                    "p50": r.percentile(50),
                    "p95": r.percentile(95),
                    "p99": r.percentile(99),
                    "mean_batch_requests": r.mean_batch_requests,
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    if not args.no_append:
        path = append_results("Load test: /v1/score, micro-batching vs naive", table, facts)
        sys.stdout.write(f"appended to {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
