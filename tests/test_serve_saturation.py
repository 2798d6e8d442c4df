"""No request's CPU work runs on the event loop: /healthz answers within a second while the service is
saturated with the most expensive documents we can build.

A real uvicorn server (the same event loop and thread pool as production) gets concurrent clients posting
requests of maximum-length adversarial documents while this test polls ``/healthz``. Before the splitter was
linear, one such document stalled the loop for seconds; before tokenising and response rendering moved off
the loop, a big request paused every other client. The documents per request are capped at 4 here (the
default is 64), one of each adversarial shape, only to keep the test short: the per-document work is what
could block the loop, and three such requests already keep both cores busy for seconds (the test checks
that it polled at least 20 times, so it cannot pass without saturating).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx

from narrascope.serve.settings import Settings
from narrascope.serve.testing import isolated_settings, running_server

HEALTH_BUDGET_S = 1.0
CLIENTS = 3
DOCUMENTS = 4


def adversarial_texts(chars: int) -> list[str]:
    """Shapes that are expensive per character for a splitter, a tokenizer or the response (one each)."""
    shapes = [
        "x" * (chars - 12) + " A. A. A. B",  # the payload: a long run without spaces, then initials
        ("Да. Нет. " * chars)[:chars],  # tens of thousands of tiny sentences: many windows, a huge response
        ("Қазақстан" + "ترجمة" + "Ukraine." + "\u200b") * (chars // 23),  # mixed scripts, no spaces
        ("a" * 40 + ".\n\n") * (chars // 43),  # paragraphs and periods
    ]
    return [shape[:chars] for shape in shapes]


def test_healthz_answers_while_the_service_is_saturated(tiny_model_dir: Path, tmp_path: Path) -> None:
    chars = int(Settings.model_fields["max_document_chars"].default)
    texts = adversarial_texts(chars)
    documents = [{"id": f"d{i}", "text": texts[i % len(texts)]} for i in range(DOCUMENTS)]
    body = json.dumps({"documents": documents}, ensure_ascii=False).encode("utf-8")
    settings = isolated_settings(tiny_model_dir, tmp_path, num_threads=1, max_documents=DOCUMENTS)
    assert len(body) <= settings.max_body_bytes
    statuses: list[int] = []
    started = threading.Barrier(CLIENTS + 1)

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=300) as http:
            started.wait()
            response = http.post("/v1/score", content=body, headers={"content-type": "application/json"})
            statuses.append(response.status_code)

    with running_server(settings) as base:
        workers = [threading.Thread(target=client, args=(base,), daemon=True) for _ in range(CLIENTS)]
        for worker in workers:
            worker.start()
        started.wait()
        latencies: list[float] = []
        with httpx.Client(base_url=base, timeout=10) as health:
            while any(worker.is_alive() for worker in workers):
                began = time.perf_counter()
                assert health.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - began)
                time.sleep(0.05)
        for worker in workers:
            worker.join()
    assert statuses == [200] * CLIENTS, statuses
    assert len(latencies) >= 20, f"the requests finished after only {len(latencies)} polls: not saturated"
    assert max(latencies) < HEALTH_BUDGET_S, f"slowest /healthz {max(latencies):.2f} s over {len(latencies)} polls"
