"""`dangan serve` as an administrator runs it: a real server on loopback with two worker
processes, saying the address it really serves; log-in forms signed by one worker are
accepted by the other."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import dangan
from tests.web.conftest import PASSWORD

SRC = Path(dangan.__file__).resolve().parents[1]  # this checkout's code, not an installed copy


@pytest.fixture
def served(web_archive):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = web_archive["home"]
    cmd = [sys.executable, "-m", "dangan", "--home", str(home.root), "--db", home.db_url, "serve"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), "--no-secure-cookies", "--workers", "2"],
        env={**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    first_line = proc.stdout.readline()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, first_line + proc.stdout.read()
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "dangan serve did not answer"
        time.sleep(0.2)
    yield base, first_line
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_serve_says_the_plain_http_address_it_serves_and_its_workers_agree(served):
    base, first_line = served
    assert f"serving plain HTTP on {base}/" in first_line and "https://" not in first_line
    for _ in range(6):  # each request may reach either worker
        with httpx.Client(base_url=base, timeout=30) as c:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
            r = c.post("/login", data={"name": "staff", "password": PASSWORD, "csrf": token})
            assert r.status_code == 303, r.text
            assert c.get("/api/me").json()["name"] == "staff"
            assert c.get("/api/search", params={"q": "减容"}).headers["cache-control"] == "no-store"
