"""No request's CPU work runs on the event loop: /healthz answers within a second while the service is
saturated with the most expensive inputs the configured limits allow.

A real uvicorn server (the same event loop and thread pool as production) gets several clients posting
maximum-size requests built from adversarial shapes, while this test polls ``/healthz``. Before the splitter
was linear, one such document stalled the loop for seconds; before tokenising and response rendering moved
off the loop, big requests paused every other client.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from narrascope.serve.settings import Settings
from narrascope.serve.testing import isolated_settings, running_server

HEALTH_BUDGET_S = 1.0


def adversarial_texts(chars: int) -> list[str]:
    """Shapes that are expensive per character for a splitter, a tokenizer or the response (one each)."""
    shapes = [
        "x" * (chars - 12) + " A. A. A. B",  # a long run without spaces, then sentence-like tails
        ("Да. Нет. " * chars)[:chars],  # thousands of tiny sentences: many windows, a huge response
        ("Қазақстан" + "ترجمة" + "Ukraine." + "\u200b") * (chars // 23),  # mixed scripts, no spaces
        ("a" * 40 + ".\n\n") * (chars // 43),  # paragraphs and periods
    ]
    return [shape[:chars] for shape in shapes]


def test_healthz_answers_while_the_service_is_saturated(tiny_model_dir: Path, tmp_path: Path) -> None:
    limits = Settings.model_fields
    documents = int(limits["max_documents"].default)
    chars = int(limits["max_document_chars"].default)
    texts = adversarial_texts(chars)
    body = {"documents": [{"id": f"d{i}", "text": texts[i % len(texts)]} for i in range(documents)]}
    settings = isolated_settings(tiny_model_dir, tmp_path, num_threads=1)
    stop = threading.Event()
    in_flight = threading.Semaphore(0)
    statuses: list[int] = []
    active = [0]
    lock = threading.Lock()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            while not stop.is_set():
                with lock:
                    active[0] += 1
                in_flight.release()
                response = http.post("/v1/score", json=body)
                with lock:
                    active[0] -= 1
                statuses.append(response.status_code)

    with running_server(settings) as base:
        workers = [threading.Thread(target=client, args=(base,), daemon=True) for _ in range(3)]
        for worker in workers:
            worker.start()
        in_flight.acquire(timeout=30)
        time.sleep(0.5)  # let the first bodies arrive and the scoring start
        latencies: list[float] = []
        busy_polls = 0
        deadline = time.monotonic() + 20
        with httpx.Client(base_url=base, timeout=10) as health:
            while time.monotonic() < deadline:
                began = time.perf_counter()
                assert health.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - began)
                with lock:
                    busy_polls += active[0] > 0
                time.sleep(0.05)
        stop.set()
        for worker in workers:
            worker.join(timeout=300)
    assert busy_polls >= 50, f"only {busy_polls} polls overlapped a scoring request"
    assert statuses and all(status == 200 for status in statuses), statuses
    assert max(latencies) < HEALTH_BUDGET_S, f"slowest /healthz {max(latencies):.2f} s over {len(latencies)} polls"
