"""Shared mode against a real Redis (DANGAN_TEST_REDIS, e.g. redis://127.0.0.1:56379/0) and, in
CI, a real PostgreSQL (DANGAN_TEST_DB). Workers and stations are separate processes, as on
separate machines; they share only the database, the file store and the broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("DANGAN_TEST_REDIS")


def pytest_configure(config):
    config.addinivalue_line("markers", "distributed: shared mode (Celery on Redis); needs DANGAN_TEST_REDIS")


def pytest_collection_modifyitems(config, items):
    if REDIS:
        return
    skip = pytest.mark.skip(
        reason="DANGAN_TEST_REDIS is not set: no Redis server for the shared-mode tests "
        "(CI starts one with .ci/redis.sh)"
    )
    for item in items:
        if "distributed" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def broker() -> str:
    import redis

    client = redis.Redis.from_url(REDIS)
    client.flushdb()  # our private test server: no queue or result left from another test
    client.close()
    return REDIS


def _env(home, broker: str, visibility_timeout: float) -> dict:
    return {
        **os.environ,
        "DANGAN_DB": home.db_url,
        "DANGAN_HOME": str(home.root),
        "DANGAN_BROKER": broker,
        "DANGAN_VISIBILITY_TIMEOUT": str(visibility_timeout),
        "OMP_THREAD_LIMIT": "1",
    }


class Worker:
    def __init__(self, name: str, proc: subprocess.Popen, log: Path):
        self.name, self.proc, self.log = name, proc, log

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole worker: its main process, pool processes and Tesseract."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)


@pytest.fixture
def start_worker(home, broker, tmp_path):
    """start_worker(name, concurrency=1, visibility_timeout=60) → a running `dangan worker`."""
    from dangan.scanning.distributed import make_app, workers_listening

    started: list[Worker] = []
    app = make_app(broker)

    def start(name: str, concurrency: int = 1, visibility_timeout: float = 60) -> Worker:
        log = tmp_path / f"{name}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "dangan.scanning.distributed", "-c", str(concurrency), "--hostname", f"{name}@%h"],
            cwd=ROOT,
            env=_env(home, broker, visibility_timeout),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        w = Worker(name, proc, log)
        started.append(w)
        deadline = time.monotonic() + 60
        while not any(n.startswith(f"{name}@") for n in workers_listening(app, 0.5)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not come up:\n{w.text()[-3000:]}")
        return w

    yield start
    for w in started:
        w.stop()


@pytest.fixture
def start_station(home, broker, tmp_path):
    """start_station(name, paths) → a `scan` process publishing to the queue (see ingest.py)."""
    procs = []

    def start(name: str, paths: list[Path]) -> subprocess.Popen:
        out = tmp_path / f"{name}.json"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.distributed.ingest",
                "--out",
                str(out),
                "--index",
                str(home.root / "index"),
                "--as",
                name,
                *map(str, paths),
            ],
            cwd=ROOT,
            env=_env(home, broker, 60),
            stdout=(tmp_path / f"{name}.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.out, proc.log = out, tmp_path / f"{name}.log"
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def finish(proc: subprocess.Popen, timeout: float = 240) -> dict:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise AssertionError(f"station did not finish in {timeout} s:\n{proc.log.read_text()[-3000:]}")
    assert proc.returncode == 0, proc.log.read_text()[-3000:]
    return json.loads(proc.out.read_text())
