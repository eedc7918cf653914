"""Peak memory of `dangan scan` against the length of the PDF: it must not grow with it.

Scans a 20-page and a 200-page scanner PDF (same page content, so the per-page work is the
same) into fresh homes, sampling the summed PSS of the whole process tree (the CLI and its
OCR workers, Tesseract included) every 100 ms, and prints both peaks and their ratio.

    .venv/bin/python bench/memory.py [--short 20] [--long 200] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent

from dangan.testing.synthetic import write_long_pdf


def tree_rss(proc: psutil.Process) -> int:
    """Summed PSS: a worker's page shared with the tool it is starting (pdfimages, tesseract:
    forked, not yet exec'd) counts once, not once per process as summed RSS would count it."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def scan_peak(pdf: Path, jobs: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as home:
        dangan = [sys.executable, "-m", "dangan", "--home", home]
        subprocess.run(dangan + ["init", "--json"], check=True, capture_output=True)
        started = time.monotonic()
        proc = subprocess.Popen(
            dangan + ["scan", "--jobs", str(jobs), "--json", str(pdf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ps, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None:
            peak = max(peak, tree_rss(ps))
            time.sleep(0.1)
        if proc.returncode != 0:
            raise SystemExit(f"scan of {pdf} failed with status {proc.returncode}")
        return peak, time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=int, default=20)
    ap.add_argument("--long", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in (args.short, args.long):
            pdf = Path(tmp) / f"folder-{n}.pdf"
            write_long_pdf(pdf, n, seed=1)
            peak, seconds = scan_peak(pdf, args.jobs)
            rows.append((n, peak, seconds))
            print(
                f"{n:>4} pages: peak PSS {peak / 2**20:7.1f} MiB  ({seconds:6.1f} s, "
                f"{60 * n / seconds:5.1f} pages/min)",
                flush=True,
            )
    (n1, p1, _), (n2, p2, _) = rows
    print(f"peak PSS {n2} pages / {n1} pages = {p2 / p1:.3f}  (target ≤ 1.15)")


if __name__ == "__main__":
    main()
