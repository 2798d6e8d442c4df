"""Real servers for the multi-machine feedback test: a throwaway PostgreSQL cluster and uvicorn service processes.

The cluster is started by pytest-postgresql's executor (initdb, ``pg_ctl start``, wait for the port, stop, remove
the data folder) from the PostgreSQL binaries the machine has (Debian: ``apt-get install postgresql``, see
``make postgres``). PostgreSQL refuses to run as root, and CI runs as root, so there ``pg_ctl`` runs as the
``postgres`` user the Debian package creates, through a two-line ``runuser`` shim the executor calls as its
``pg_ctl``; the plugin's own session fixture has no such switch, hence the executor is used directly.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from narrascope.serve.testing import free_port

DEBIAN_BINARIES = Path("/usr/lib/postgresql")


def find_pg_ctl() -> Path | None:
    """``pg_ctl`` on PATH, else the newest Debian cluster binaries (Debian keeps them off PATH)."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path)
    versions = [p for p in DEBIAN_BINARIES.glob("*/bin/pg_ctl") if p.parts[-3].isdigit()]
    return max(versions, key=lambda p: int(p.parts[-3]), default=None)


@dataclass
class PostgresServer:
    url: str  # SQLAlchemy URL (psycopg 3 driver)
    conninfo: str  # for psycopg directly, to check rows independently of the code under test
    port: int
    executor: object  # pytest_postgresql's PostgreSQLExecutor

    def new_database(self, dbname: str) -> str:
        """Creates an empty database on this server; returns its SQLAlchemy URL."""
        from pytest_postgresql.janitor import DatabaseJanitor

        DatabaseJanitor(user="postgres", host="127.0.0.1", port=self.port, dbname=dbname).init()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        if self.executor.running():  # type: ignore[attr-defined]
            self.executor.stop()  # type: ignore[attr-defined]


def _pg_ctl_for_this_user(pg_ctl: Path, root: Path) -> Path:
    if os.geteuid() != 0:
        return pg_ctl
    owner = pwd.getpwnam("postgres")  # a KeyError here is a broken install, not a reason to skip
    os.chown(root, owner.pw_uid, owner.pw_gid)
    shim = root / "pg_ctl"
    shim.write_text(f'#!/bin/sh\nexec runuser -u postgres -- "{pg_ctl}" "$@"\n')
    shim.chmod(0o755)
    return shim


@contextmanager
def postgres_server(pg_ctl: Path, dbname: str = "narrascope") -> Iterator[PostgresServer]:
    """A fresh cluster on a free loopback port, trust auth for user ``postgres``, with database ``dbname``."""
    from pytest_postgresql.executors import PostgreSQLExecutor

    root = Path(tempfile.mkdtemp(prefix="narrascope-pg-"))
    port = free_port()
    executor = PostgreSQLExecutor(
        executable=str(_pg_ctl_for_this_user(pg_ctl, root)),
        host="127.0.0.1",
        port=port,
        datadir=str(root / "data"),
        unixsocketdir=str(root),
        logfile=str(root / "server.log"),
        startparams="-w",
        dbname=dbname,
    )
    server = PostgresServer(
        url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/{dbname}",
        conninfo=f"host=127.0.0.1 port={port} user=postgres dbname={dbname}",
        port=port,
        executor=executor,
    )
    try:
        executor.start()
        # Created, never dropped: the whole cluster is removed afterwards, and a test may have stopped the server.
        server.new_database(dbname)
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class ServiceProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _wait_until_healthy(service: ServiceProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"service exited with {service.process.returncode}:\n{service.log_tail()}")
        try:
            if httpx.get(f"{service.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"service not healthy within {timeout} s:\n{service.log_tail()}")


@contextmanager
def service_processes(
    count: int, model_dir: Path, feedback_url: str, workdir: Path, timeout: float = 120.0
) -> Iterator[list[ServiceProcess]]:
    """``count`` separate ``uvicorn --factory`` processes, as separate machines would run them, all started at
    once (so they also race to create the table) and configured only through ``NARRASCOPE_*`` variables."""
    base_env = {key: value for key, value in os.environ.items() if not key.startswith("NARRASCOPE_")}
    services: list[ServiceProcess] = []
    try:
        for index in range(count):
            port = free_port()
            env = base_env | {
                "NARRASCOPE_HOME": str(workdir / f"home-{index}"),
                "NARRASCOPE_MODEL_DIR": str(model_dir),
                "NARRASCOPE_FEEDBACK_URL": feedback_url,
                "NARRASCOPE_HOST": "127.0.0.1",
                "NARRASCOPE_PORT": str(port),
                "NARRASCOPE_DEVICE": "cpu",
                "NARRASCOPE_NUM_THREADS": "1",
                "NARRASCOPE_LOG_JSON": "1",
            }
            command = [sys.executable, "-m", "uvicorn", "narrascope.serve.app:create_app", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port)]
            log = workdir / f"service-{index}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
            services.append(ServiceProcess(f"http://127.0.0.1:{port}", process, log))
        for service in services:
            _wait_until_healthy(service, timeout)
        yield services
    finally:
        for service in services:
            service.process.terminate()
        for service in services:
            try:
                service.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait()
