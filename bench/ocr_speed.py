"""OCR speed: the dangan page pipeline against raw Tesseract on the same pages, same parallelism.

Every measurement uses one process pool of N workers (N = cores by default, started and
warmed up before any clock runs: models loaded once per worker) over the same scans of
customer folders (scanning.synthetic.generate_ocr_corpus: every document type, Song/Ming/
Kai/Hei, 200/300 dpi, skew, speckle, seals, upside-down sheets):

  raw chi_sim psm6  `tesseract IMG stdout -l chi_sim --psm 6`, OMP_THREAD_LIMIT=1 (the baseline)
  raw chi_sim+eng   `tesseract IMG stdout -l chi_sim+eng` (what people run by hand)
  dangan            runner.process_page with the default engine (PP-OCR): read the page, store
                    the master, every step, store the derived JPEG into a temporary FileStore:
                    everything but the database
  dangan tesseract  the same with --engine tesseract (skip with --no-tesseract)

and prints wall times and their ratios to the baseline (target: dangan ≤ 1.3 × raw chi_sim
psm6). With --repeat R the measurements are interleaved R times and the fastest of each is
kept (the machine may be shared); with --cpu it also prints the CPU seconds per page of each
step of the default pipeline, measured in one process.

    .venv/bin/python bench/ocr_speed.py [--pages 30] [--jobs N] [--corpus DIR] [--repeat 1] [--cpu]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parent.parent

from dangan.archive.business.scheme import load_scheme
from dangan.scanning.page import PageState
from dangan.scanning.pipeline import STEPS, options_from_scheme
from dangan.scanning.runner import PageTask, process_page
from dangan.scanning.sources import inspect, read_page
from dangan.testing.synthetic import generate_ocr_corpus, load_corpus_truth


def raw_eng(path: str) -> int:
    out = subprocess.run(["tesseract", path, "stdout", "-l", "chi_sim+eng"], capture_output=True, check=True)
    return len(out.stdout)


def raw_psm6(path: str) -> int:
    out = subprocess.run(["tesseract", path, "stdout", "-l", "chi_sim", "--psm", "6"], capture_output=True, check=True)
    return len(out.stdout)


def dangan_page(args: tuple[str, str, str]) -> int:
    path, store_root, engine = args
    options = options_from_scheme(load_scheme(), engine=engine)
    page = process_page(PageTask(inspect(path), 1, store_root, options))
    return len(page.text)


def warm(_: int) -> None:
    """Load the models and every module a worker needs before the clock runs."""
    import numpy as np

    from dangan.scanning.pipeline import run_pipeline

    image = np.full((400, 300, 3), 255, np.uint8)
    image[100:120, 50:250] = 0
    run_pipeline(PageState(source="warm", page_no=1, image=image, dpi=300), options_from_scheme(load_scheme()))


def timed(pool: ProcessPoolExecutor, fn, items) -> float:
    t0 = time.monotonic()
    list(pool.map(fn, items))
    return time.monotonic() - t0


def cpu_per_step(paths: list[str]) -> None:
    """CPU seconds per page of each step (and of raw Tesseract), in this one process."""
    options = options_from_scheme(load_scheme())

    def children() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    warm(0)
    spent: dict[str, float] = defaultdict(float)
    for path in paths:
        c0 = children()
        raw_psm6(path)
        spent["raw chi_sim psm6"] += children() - c0
        t = time.process_time()
        raw = read_page(inspect(path), 1)
        spent["read the page"] += time.process_time() - t
        page = PageState(source=path, page_no=1, image=raw.image, dpi=raw.dpi)
        for step in STEPS:
            t, c0 = time.process_time(), children()
            page = step(page, options)
            spent[step.__name__] += time.process_time() - t + children() - c0
    n = len(paths)
    base = spent.pop("raw chi_sim psm6") / n
    print(f"\nCPU seconds per page, one process ({n} pages): raw chi_sim psm6 {base:.3f}")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:26}{seconds / n:7.3f}")
    ours = sum(spent.values()) / n
    print(f"  {'pipeline total':26}{ours:7.3f}   = {ours / base:.2f} × raw (without storing master and derived)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path, help="reuse (or create) a corpus folder with truth.json")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-tesseract", dest="tesseract", action="store_false")
    ap.add_argument("--cpu", action="store_true", help="also CPU seconds per step, one process")
    args = ap.parse_args()

    if args.corpus and (args.corpus / "truth.json").exists():
        truths = load_corpus_truth(args.corpus / "truth.json")[: args.pages]
        folder = args.corpus
    else:
        folder = args.corpus or Path(tempfile.mkdtemp(prefix="dangan-speed-corpus-"))
        t0 = time.monotonic()
        truths = generate_ocr_corpus(folder, n_pages=args.pages, seed=args.seed)
        print(f"generated {len(truths)} pages in {time.monotonic() - t0:.0f} s", flush=True)
    paths = [str(folder / t.file) for t in truths]
    n = len(paths)
    print(
        f"{n} pages in {folder}; a pool of {args.jobs} processes for every measurement "
        f"(OMP_THREAD_LIMIT={os.environ['OMP_THREAD_LIMIT']})",
        flush=True,
    )

    engines = ["rapidocr"] + (["tesseract"] if args.tesseract else [])
    best: dict[str, float] = {}
    ctx = multiprocessing.get_context("forkserver")  # as scanning.runner.run_pages_locally
    with (
        ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool,
        tempfile.TemporaryDirectory(prefix="dangan-speed-store-") as store_root,
    ):
        list(pool.map(warm, range(args.jobs * 2)))
        for r in range(args.repeat):
            runs = [("raw chi_sim psm6", raw_psm6, paths), ("raw chi_sim+eng", raw_eng, paths)]
            runs += [
                (
                    "dangan" if e == "rapidocr" else f"dangan {e}",
                    dangan_page,
                    [(p, f"{store_root}/{e}-{r}", e) for p in paths],
                )
                for e in engines
            ]
            for label, fn, items in runs:
                seconds = timed(pool, fn, items)
                print(f"  run {r + 1}: {label:18} {seconds:7.1f} s", flush=True)
                best[label] = min(seconds, best.get(label, float("inf")))

    print()
    print(f"{'':20}{'wall s':>9}{'s/page':>9}{'pages/min':>11}{'÷ raw psm6':>12}")
    base = best["raw chi_sim psm6"]
    for label, seconds in best.items():
        print(f"{label:20}{seconds:>9.1f}{seconds / n:>9.2f}{60 * n / seconds:>11.1f}{seconds / base:>12.2f}")
    print("target: dangan ≤ 1.3 × raw chi_sim psm6 (aim 1.0)")
    if args.cpu:
        cpu_per_step(paths)


if __name__ == "__main__":
    main()
