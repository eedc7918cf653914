"""Shared mode against a real Redis (DANGAN_TEST_REDIS, e.g. redis://127.0.0.1:56379/0) and, in
CI, a real PostgreSQL (DANGAN_TEST_DB). Workers and stations are separate processes started as
an operator starts them (`dangan worker`, `dangan scan --distributed`), as on separate
machines; they share only the database, the file store and the broker.

The fault tests stop and start those servers: DANGAN_TEST_PG_STOP / _START and
DANGAN_TEST_REDIS_STOP / _START are shell commands that do it (.ci/tests.sh sets them to
.ci/server.sh); without them those tests are skipped."""

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

# Short timeouts, so that a fault plays out in seconds: a page is called late after 3 s, a dead
# machine's page moves on after 10 s, a worker gives a page back after 8 s of database outage.
FAST = {
    "DANGAN_STALL_AFTER": "3",
    "DANGAN_VISIBILITY_TIMEOUT": "60",
    "DANGAN_WORKER_HOLD": "8",
    "DANGAN_OUTAGE_LIMIT": "120",
    "OMP_THREAD_LIMIT": "1",
    "COLUMNS": "200",  # rich wraps stderr lines at 80 otherwise
}


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


def _env(home, broker: str, **extra) -> dict:
    env = {**os.environ, **FAST, **{k: str(v) for k, v in extra.items()}}
    env.update(DANGAN_DB=home.db_url, DANGAN_HOME=str(home.root), DANGAN_BROKER=broker, PYTHONPATH=str(ROOT / "src"))
    return env


class Proc:
    """A dangan process of the test, its output in LOG (and OUT for a station's JSON)."""

    def __init__(self, name: str, proc: subprocess.Popen, log: Path, out: Path | None = None):
        self.name, self.proc, self.log, self.out = name, proc, log, out

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def poll(self):
        return self.proc.poll()

    def kill(self) -> None:
        """SIGKILL the whole process group: main process, pool processes and Tesseract."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _spawn(args: list[str], env: dict, log: Path, out: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dangan", *args],
        cwd=ROOT,
        env=env,
        stdout=out.open("wb") if out else log.open("ab"),
        stderr=log.open("ab"),
        start_new_session=True,
    )


@pytest.fixture
def start_worker(home, store, broker, tmp_path):
    """start_worker(name, concurrency=1, home=…, wait=True, **env) → a running `dangan worker`."""
    from dangan.scanning.distributed import make_app, workers_listening

    started: list[Proc] = []
    app = make_app(broker)

    def start(name: str, concurrency: int = 1, *, worker_home=None, wait: bool = True, **env) -> Proc:
        h = worker_home or home
        log = tmp_path / f"worker-{name}.log"
        proc = _spawn(
            ["--home", str(h.root), "worker", "-c", str(concurrency), "--name", f"{name}@%h"],
            _env(h, broker, **env),
            log,
        )
        w = Proc(name, proc, log)
        started.append(w)
        deadline = time.monotonic() + 60
        while wait and not any(n.startswith(f"{name}@") for n in workers_listening(app, 0.5)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not come up:\n{w.text()[-3000:]}")
        return w

    yield start
    for w in started:
        w.stop()


@pytest.fixture
def start_station(home, broker, tmp_path):
    """start_station(name, paths, **env) → `dangan scan --distributed --json` as its own process
    (local=True: `dangan scan --json`, OCR in the station's own pool)."""
    procs: list[Proc] = []

    def start(name: str, paths: list[Path], *, local: bool = False, options: tuple = (), **env) -> Proc:
        out, log = tmp_path / f"station-{name}.json", tmp_path / f"station-{name}.log"
        args = ["--as", name, "scan", "--json", *([] if local else ["--distributed"]), *options, *map(str, paths)]
        proc = _spawn(args, _env(home, broker, **env), log, out)
        p = Proc(name, proc, log, out)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()


def finish(station: Proc, timeout: float = 240, status: int = 0) -> dict:
    """Wait for STATION to end with STATUS; its JSON report."""
    try:
        station.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        station.kill()
        raise AssertionError(f"station did not finish in {timeout} s:\n{station.text()[-3000:]}") from None
    assert station.proc.returncode == status, station.text()[-3000:]
    assert "Traceback" not in station.text(), station.text()[-3000:]
    return json.loads(station.out.read_text()) if status in (0, 3) else {}


def wait_for(what: str, condition, timeout: float = 120, every: float = 0.05):
    """Poll CONDITION until it returns something true (returned), or fail after TIMEOUT."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


class Servers:
    """Stops and starts the test's PostgreSQL and Redis (commands from the environment)."""

    def __init__(self):
        self.down: set[str] = set()

    @staticmethod
    def _run(name: str) -> None:
        cmd = os.environ.get(name)
        if not cmd:
            pytest.skip(f"{name} is not set: this fault test needs to stop and start the server (.ci/tests.sh)")
        subprocess.run(cmd, shell=True, check=True, cwd=ROOT, timeout=60, capture_output=True)

    def stop(self, server: str) -> None:
        self._run(f"DANGAN_TEST_{server.upper()}_STOP")
        self.down.add(server)

    def start(self, server: str) -> None:
        from kombu import pools

        self._run(f"DANGAN_TEST_{server.upper()}_START")
        self.down.discard(server)
        pools.reset()  # this process's pooled broker connections died with the old server


@pytest.fixture
def servers():
    for name in ("DANGAN_TEST_PG_STOP", "DANGAN_TEST_PG_START", "DANGAN_TEST_REDIS_STOP", "DANGAN_TEST_REDIS_START"):
        if not os.environ.get(name):
            pytest.skip(f"{name} is not set: the fault tests stop and start the servers (.ci/tests.sh sets it)")
    s = Servers()
    yield s
    for server in list(s.down):  # whatever happened, the next test finds its servers running
        s.start(server)
