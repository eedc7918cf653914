"""The queue's overhead, and how many workers 10 million pages in 30 days need.

Scans the same generated scanner PDFs four ways, each into a fresh archive, timing `scan`
from its start to the last folder accessioned:

    pool  ×1   this machine's pool, --jobs 1            (the baseline)
    queue ×1   one `dangan worker -c 1`, through Redis
    pool  ×2   --jobs 2
    queue ×2   two workers (separate processes, as on two machines), -c 1 each

and prints pages/min and the ratio queue time / pool time at the same parallelism (target
≤ 1.15). Workers are started, answering and warmed up on a separate small folder (as in a
running installation, where they live for days) before the clock starts; the local pool is
started by `scan` itself, as it always is, so its start-up is inside its time. From the measured
seconds per page on one worker it estimates the worker processes (≈ cores) that 10 000 000 pages in 30 days need.

    .venv/bin/python bench/scale.py [--folders 4] [--pages 4] [--db URL] [--broker URL] [--repeat 1]
                                    [--engine tesseract --engine rapidocr]

Each engine is measured on its own; the last table gives, per engine, one worker's seconds per page
through the queue, the median and slowest page's OCR time (what the visibility timeout must
exceed), and the worker processes 10 million pages in 30 days need.

--db: a PostgreSQL URL (its public schema is dropped and recreated for every run!); default
SQLite in a temporary home. --broker: a Redis URL (flushed); default a private redis-server
started here on a free port.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from dangan.archive.db import Database, upgrade
from dangan.archive.store import FileStore
from dangan.scanning.batch import ScanOptions, scan
from dangan.scanning.ocr import ENGINES
from dangan.scanning.page import PipelineOptions
from dangan.testing.synthetic import write_long_pdf

TARGET_PAGES, TARGET_DAYS = 10_000_000, 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def fresh_home(tmp: Path, name: str, db_url: str | None) -> tuple[Path, str]:
    home = tmp / name
    home.mkdir()
    if db_url:
        from sqlalchemy import text

        d = Database(db_url)
        with d.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        d.dispose()
    url = db_url or f"sqlite:///{home / 'dangan.sqlite3'}"
    upgrade(url)
    return home, url


def run_scan(files: list[Path], home: Path, url: str, jobs: int, runner=None, *, engine: str) -> float:
    db = Database(url)
    try:
        options = ScanOptions(jobs=jobs, pipeline=PipelineOptions(engine=engine))
        report = scan(files, db, FileStore(home / "store"), options, runner=runner)
        assert report.count("accessioned") == len(files), report.folders
        return report.seconds
    finally:
        db.dispose()


def start_workers(n: int, home: Path, url: str, broker: str, log_dir: Path) -> list[subprocess.Popen]:
    from dangan.scanning.distributed import make_app, workers_listening

    env = {**os.environ, "DANGAN_DB": url, "DANGAN_HOME": str(home), "DANGAN_BROKER": broker}
    env["PYTHONPATH"] = str(ROOT / "src")  # the workers run this checkout, as the station does
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dangan.scanning.distributed",
                "-c",
                "1",
                "--loglevel",
                "WARNING",
                "--hostname",
                f"bench{i}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=(log_dir / f"worker{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(n)
    ]
    app = make_app(broker)
    deadline = time.monotonic() + 60
    while len(workers_listening(app, 0.5)) < n:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit(f"workers did not come up (see {log_dir})")
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def measure(engine: str, files: list[Path], warm: Path, tmp: Path, args, broker: str) -> tuple[dict, list[float]]:
    """Best seconds per (kind, parallelism), and every page's seconds on a worker."""
    import redis

    from dangan.scanning.distributed import make_app
    from dangan.scanning.station import QueueRunner

    times: dict[tuple[str, int], list[float]] = {}
    page_seconds: list[float] = []
    for run in range(1, args.repeat + 1):
        for n in (1, 2):
            home, url = fresh_home(tmp, f"{engine}-pool{n}-{run}", args.db)
            times.setdefault(("pool", n), []).append(run_scan(files, home, url, n, engine=engine))
            print(f"  pool  ×{n}: {times['pool', n][-1]:6.1f} s", flush=True)
            home, url = fresh_home(tmp, f"{engine}-queue{n}-{run}", args.db)
            redis.Redis.from_url(broker).flushdb()
            workers = start_workers(n, home, url, broker, tmp)
            try:
                db = Database(url)
                runner = QueueRunner(db, make_app(broker))
                run_scan([warm], home, url, n, runner, engine=engine)  # workers are long-lived: time them warm
                runner.page_seconds.clear()
                times.setdefault(("queue", n), []).append(run_scan(files, home, url, n, runner, engine=engine))
                if n == 1:  # one worker alone: what a page costs a core, as s/page below
                    page_seconds += runner.page_seconds
                db.dispose()
            finally:
                stop_workers(workers)
            print(f"  queue ×{n}: {times['queue', n][-1]:6.1f} s", flush=True)
    return {k: min(v) for k, v in times.items()}, page_seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folders", type=int, default=4)
    ap.add_argument("--pages", type=int, default=4, help="pages per folder")
    ap.add_argument("--db", default=os.environ.get("DANGAN_BENCH_DB"))
    ap.add_argument("--broker", default=os.environ.get("DANGAN_BENCH_BROKER"))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--engine",
        action="append",
        choices=sorted(ENGINES),
        help="OCR engine to measure; repeat for several [default: tesseract and rapidocr]",
    )
    args = ap.parse_args()
    engines = args.engine or ["tesseract", "rapidocr"]

    tmp = Path(tempfile.mkdtemp(prefix="dangan-scale-"))
    redis_proc = None
    try:
        broker = args.broker
        if not broker:
            redis_proc, broker = start_redis(tmp)
        files = []
        for i in range(args.folders):
            f = tmp / "scans" / f"folder-{i + 1}.pdf"
            f.parent.mkdir(exist_ok=True)
            write_long_pdf(f, args.pages, seed=100 + i)
            files.append(f)
        pages = args.folders * args.pages
        warm = tmp / "warm-up.pdf"
        write_long_pdf(warm, 2 * max(1, args.pages // 2), seed=99)
        print(
            f"{pages} pages ({args.folders} folders × {args.pages}), database "
            f"{'PostgreSQL' if args.db else 'SQLite'}, broker {broker}",
            flush=True,
        )
        need_rate = TARGET_PAGES / (TARGET_DAYS * 86400)
        utilisation = 0.8
        sizing = []
        for engine in engines:
            print(f"\nengine {engine}", flush=True)
            best, page_seconds = measure(engine, files, warm, tmp, args, broker)
            print(f"{'':10}{'pages/min':>10}{'queue/pool':>12}")
            for n in (1, 2):
                for kind in ("pool", "queue"):
                    ppm = 60 * pages / best[kind, n]
                    ratio = f"{best['queue', n] / best['pool', n]:.3f}" if kind == "queue" else ""
                    print(f"{kind + ' ×' + str(n):10}{ppm:10.1f}{ratio:>12}")
            worst = max(best["queue", n] / best["pool", n] for n in (1, 2))
            print(f"queue overhead: worst ratio {worst:.3f}  (target ≤ 1.15)")
            per_page = best["queue", 1] / pages  # seconds of one worker process per page, queue included
            workers = math.ceil(need_rate * per_page / utilisation)
            sizing.append((engine, per_page, statistics.median(page_seconds), max(page_seconds), workers))

        print(
            f"\n{TARGET_PAGES:,} pages in {TARGET_DAYS} days = {need_rate:.2f} pages/s around the clock; "
            f"worker processes (≈ cores, OMP_THREAD_LIMIT=1) at {utilisation:.0%} utilisation:"
        )
        print(f"{'engine':10}{'s/page':>8}{'median':>8}{'slowest':>9}{'24 h':>6}{'8 h/day':>9}")
        for engine, per_page, median, slowest, workers in sizing:
            print(f"{engine:10}{per_page:8.2f}{median:8.2f}{slowest:9.2f}{workers:6d}{math.ceil(workers * 3):9d}")
        print("(s/page: one worker's wall time per page through the queue; median and slowest: one page on it)")
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
