"""Web search under load: N staff users searching at once against a real `dangan serve` on
loopback, bounded in requests and in time.

    dangan demo --home demo-data                       # once: the 6-folder demo archive
    .venv/bin/python bench/web_load.py --home demo-data/archive
    .venv/bin/python bench/web_load.py --home demo-data/archive --clients 20 --searches 10 --workers 1,2

For each worker count the script starts `dangan serve` on a free loopback port (plain HTTP,
a throw-away staff user), then
  1. alone: one client runs the query list once (the baseline, measured in the same run);
  2. loaded: CLIENTS clients, each logged in, each runs SEARCHES searches back to back, all at
     once (closed loop: no think time, the hardest case for the server);
and prints p50 / p95 / max latency of /api/search, errors, throughput, and p95 under load
against the lone search. Every request has a timeout; the whole run has a deadline; the
server is stopped at the end and the user disabled.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# what staff type: words, phrases, 户号 prefixes, filters (the demo archive's vocabulary)
QUERIES = [
    "减容",
    '"供用电合同"',
    "业务:暂停",
    "暂停 减容",
    "用电申请",
    "户号:3*",
    "营业执照",
    '"竣工检验意见单"',
    "合同 -暂停",
    "身份证",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dangan(home: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "dangan", "--home", home, *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def start_server(home: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_THREAD_LIMIT": "1"}
    cmd = [sys.executable, "-m", "dangan", "--home", home, "serve", "--port", str(port), "--no-secure-cookies"]
    proc = subprocess.Popen(
        [*cmd, "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"dangan serve ended: {proc.stdout.read()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                # every worker imports and opens the archive on its first request: warm them all
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise SystemExit("dangan serve did not answer within 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def server_cpu(proc: subprocess.Popen) -> float:
    """CPU seconds used so far by the server and its worker processes: the cost of a request
    whatever else the machine is doing."""
    import psutil

    root = psutil.Process(proc.pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def logged_in(base: str, name: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=30)
    form = c.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    r = c.post("/login", data={"name": name, "password": password, "csrf": token})
    if r.status_code not in (200, 303) or c.get("/api/me").status_code != 200:
        raise SystemExit(f"log-in as {name} failed: {r.status_code}")
    return c


def timed_searches(client: httpx.Client, queries: list[str], deadline: float) -> tuple[list[float], int]:
    times, errors = [], 0
    for q in queries:
        if time.monotonic() > deadline:
            errors += 1
            continue
        t = time.perf_counter()
        try:
            r = client.get("/api/search", params={"q": q})
            ok = r.status_code == 200 and "groups" in r.json()
        except httpx.HTTPError:
            ok = False
        times.append(time.perf_counter() - t)
        errors += not ok
    return times, errors


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def run(home: str, workers: int, clients: int, searches: int, deadline_s: float) -> dict:
    name, password = f"bench-{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    dangan(home, "user", "add", name, "--role", "staff", "--password-stdin", stdin=password + "\n")
    port = free_port()
    proc = start_server(home, port, workers)
    base = f"http://127.0.0.1:{port}"
    try:
        sessions = [logged_in(base, name, password) for _ in range(clients)]
        warm = [c.get("/api/search", params={"q": QUERIES[0]}) for c in sessions[: workers * 2]]
        assert all(r.status_code == 200 for r in warm), [r.status_code for r in warm]
        deadline = time.monotonic() + deadline_s
        alone, alone_errors = timed_searches(sessions[0], QUERIES * 2, deadline)

        results: list[tuple[list[float], int]] = [([], 0)] * clients
        start = threading.Barrier(clients + 1)

        def client(i: int) -> None:
            mine = [QUERIES[(i + k) % len(QUERIES)] for k in range(searches)]
            start.wait()
            results[i] = timed_searches(sessions[i], mine, deadline)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        cpu0 = server_cpu(proc)
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join(max(1.0, deadline - time.monotonic() + 5))
        wall = time.perf_counter() - t0
        cpu = server_cpu(proc) - cpu0
        loaded = [x for times, _ in results for x in times]
        unfinished = sum(t.is_alive() for t in threads) * searches  # past the deadline: counted as errors
        errors = sum(e for _, e in results) + unfinished
        for c in sessions:
            c.close()
    finally:
        stop_server(proc)
        dangan(home, "user", "disable", name)
    return {
        "workers": workers,
        "alone_p50": statistics.median(alone) * 1000,
        "alone_errors": alone_errors,
        "p50": statistics.median(loaded) * 1000 if loaded else float("nan"),
        "p95": pct(loaded, 95) * 1000 if loaded else float("nan"),
        "max": max(loaded) * 1000 if loaded else float("nan"),
        "requests": len(loaded),
        "errors": errors,
        "per_s": len(loaded) / wall if wall else 0.0,
        "cpu_ms": cpu / max(1, len(loaded)) * 1000,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", required=True, help="data home of an archive (e.g. demo-data/archive)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--searches", type=int, default=10, help="searches per client")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2")
    ap.add_argument("--deadline", type=float, default=180, help="seconds a whole run may take")
    ap.add_argument("--target-p95", type=float, default=250, help="ms")
    args = ap.parse_args()
    rows = [run(args.home, int(w), args.clients, args.searches, args.deadline) for w in args.workers.split(",")]
    print(f"\n{args.clients} clients x {args.searches} searches, closed loop, on {os.cpu_count()} cores")
    print(
        f"{'workers':>7} {'alone p50':>10} {'p50':>8} {'p95':>8} {'max':>8} {'req/s':>7} {'errors':>6} {'p95/alone':>9}"
    )
    for r in rows:
        ratio = r["p95"] / r["alone_p50"] if r["alone_p50"] else float("nan")
        print(
            f"{r['workers']:>7} {r['alone_p50']:>8.0f}ms {r['p50']:>6.0f}ms {r['p95']:>6.0f}ms {r['max']:>6.0f}ms "
            f"{r['per_s']:>7.1f} {r['errors']:>6} {ratio:>8.1f}x {r['cpu_ms']:>12.1f}ms {r['load']:>8.1f}"
        )
    if len(rows) > 1:
        print(
            f"p95 with {rows[-1]['workers']} workers / with {rows[0]['workers']}: "
            f"{rows[-1]['p95'] / rows[0]['p95']:.2f}"
        )
    best = min(rows, key=lambda r: r["p95"])
    verdict = "meets" if best["p95"] <= args.target_p95 and best["errors"] == 0 else "misses"
    print(
        f"target p95 <= {args.target_p95:.0f} ms with no errors: {verdict} "
        f"({best['p95']:.0f} ms, {best['workers']} workers)"
    )


if __name__ == "__main__":
    main()
