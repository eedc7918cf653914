"""A station or worker pointed at a queue nobody answers on says so, waits as long as it was
told, and stops with the fix and exit status 75 — never a traceback, never silently forever.
(No Redis needed: the point is that there is none.)"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def nobody() -> str:
    """A broker URL on a port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def dangan(home, *args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dangan", "--home", str(home.root), "--db", home.db_url, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "300", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_worker_given_a_wrong_broker_says_so_and_stops_at_the_limit(home, store, nobody):
    done = dangan(home, "worker", "--broker", nobody, DANGAN_OUTAGE_LIMIT="1")
    assert done.returncode == 75, done.stderr
    port = nobody.rsplit(":", 1)[1]
    assert re.search(rf"the queue \(Redis\) at 127\.0\.0\.1:{port} unreachable since \d\d:\d\d:\d\d", done.stderr)
    assert "check --broker / DANGAN_BROKER" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_station_given_a_wrong_broker_says_so_and_stops_at_the_limit(home, store, nobody, tmp_path):
    scan = tmp_path / "empty-batch"
    scan.mkdir()
    done = dangan(home, "scan", "--distributed", "--broker", nobody, "--outage-limit", "1", str(scan))
    assert done.returncode == 75, done.stderr
    assert "unreachable since" in done.stderr and "is redis-server running there?" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("error", [ConnectionError("Error 111 connecting"), KeyError("page")])
def test_a_failed_receipt_is_told_by_its_error_as_the_backend_rebuilds_it(nobody, error):
    """Celery's result store gives a FAILURE's result back as the exception object itself: a
    worker that lost Redis while storing its answer must not crash the station."""
    from dangan.scanning.distributed import make_app
    from dangan.scanning.station import failure_reason

    backend = make_app(nobody).backend
    raw = backend.encode({"status": "FAILURE", "result": backend.prepare_exception(error), "task_id": "t"})
    meta = backend.decode_result(raw)
    assert failure_reason(meta) == f"{type(error).__name__}: {error}"
    assert failure_reason({"status": "REVOKED", "result": None}) == "REVOKED"
