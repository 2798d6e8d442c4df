"""Feedback where one machine is not enough: two service processes write to one real PostgreSQL server at once,
and every acknowledged correction is in the database exactly once. The server is started here, from the
PostgreSQL binaries (``make postgres`` installs Debian's); only their absence skips these tests."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from narrascope.dataset.feedback_store import FeedbackRecord, FeedbackStore, FeedbackStoreError
from tests.pgserver import PostgresServer, ServiceProcess, find_pg_ctl, postgres_server, service_processes

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is part of dev: run make setup")

PER_SERVICE = 100


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    pg_ctl = find_pg_ctl()
    if pg_ctl is None:
        pytest.skip("PostgreSQL server binaries (pg_ctl) are not installed; `make postgres` installs Debian's")
    with postgres_server(pg_ctl) as server:
        yield server


@pytest.fixture(scope="module")
def services(
    postgres: PostgresServer, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServiceProcess]]:
    with service_processes(2, tiny_model_dir, postgres.url, tmp_path_factory.mktemp("services")) as running:
        yield running


def rows_with_prefix(server: PostgresServer, prefix: str) -> list[tuple[int, str, str | None]]:
    """Read with psycopg directly, not through the store under test."""
    with psycopg.connect(server.conninfo) as connection:
        query = "SELECT id, text, request_id FROM feedback WHERE text LIKE %s ORDER BY id"
        return [tuple(row) for row in connection.execute(query, (prefix + "%",)).fetchall()]


def test_store_round_trip_on_postgres(postgres: PostgresServer) -> None:
    store = FeedbackStore(postgres.url)
    text = f"roundtrip-{uuid.uuid4().hex} Аумақтық қорғаныс туралы заң."
    stored = store.add(FeedbackRecord(kind="sentence", text=text, labels=["reassurance"], start=0, end=len(text)))
    back = {item.id: item for item in store.iter_all()}[stored.id]
    assert back.record == stored.record and back.created_at.tzinfo is not None
    assert store.count() >= 1
    store.close()


@pytest.mark.parametrize("attempt", range(5))
def test_stores_starting_together_all_find_the_table(postgres: PostgresServer, attempt: int) -> None:
    """Machines started together all see no table and race to create it; the losers must not fail (without the
    store's tolerance about half of these attempts failed with 42P07 or 23505)."""
    url = postgres.new_database(f"race_{attempt}_{uuid.uuid4().hex[:8]}")
    barrier = threading.Barrier(6)
    errors: list[FeedbackStoreError] = []

    def open_store() -> None:
        barrier.wait()
        try:
            FeedbackStore(url).close()
        except FeedbackStoreError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = FeedbackStore(url)
    assert store.count() == 0
    store.close()


def submit(service: ServiceProcess, name: str, text: str) -> int:
    response = httpx.post(
        f"{service.base_url}/v1/feedback",
        json={"text": text, "labels": [], "document_id": name},
        headers={"X-Request-ID": name},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_two_services_write_concurrently_nothing_lost_or_duplicated(
    postgres: PostgresServer, services: list[ServiceProcess]
) -> None:
    prefix = f"concurrent-{uuid.uuid4().hex}"
    jobs = [(services[i % 2], f"s{i % 2}-{i // 2}") for i in range(2 * PER_SERVICE)]  # interleaved
    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(lambda job: submit(job[0], job[1], f"{prefix} {job[1]}"), jobs))
    acknowledged = {ack_id: f"{prefix} {name}" for ack_id, (_, name) in zip(ids, jobs, strict=True)}
    assert len(acknowledged) == 2 * PER_SERVICE  # no id handed out twice
    rows = rows_with_prefix(postgres, prefix)
    assert len(rows) == 2 * PER_SERVICE  # nothing lost, nothing written twice
    assert {row_id: text for row_id, text, _ in rows} == acknowledged
    assert all(text == f"{prefix} {request_id}" for _, text, request_id in rows)  # each row is its own request


def test_database_down_is_503_from_every_service(postgres: PostgresServer, services: list[ServiceProcess]) -> None:
    """Runs last in this module: it stops the server."""
    postgres.stop()
    for service in services:
        response = httpx.post(f"{service.base_url}/v1/feedback", json={"text": "Stored later.", "labels": []})
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "5"
        assert "unavailable" in response.json()["detail"]
        assert httpx.get(f"{service.base_url}/healthz").status_code == 200  # scoring is unaffected
