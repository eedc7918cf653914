"""OCR speed: the dangan page pipeline against raw Tesseract on the same pages, same parallelism.

Every measurement uses one process pool of N workers (N = cores by default, started and
warmed up before any clock runs) over the same generated single-page scans
(scanning.synthetic.generate_ocr_corpus: Song/Kai/Hei, 200/300 dpi, skew, speckle, seals):

  raw chi_sim+eng   `tesseract IMG stdout -l chi_sim+eng` per page (what people run by hand)
  raw chi_sim psm6  `tesseract IMG stdout -l chi_sim --psm 6` (the model and mode dangan uses)
  dangan            scanning.batch.process_page: read the page, store the master, orient,
                    deskew, crop, blank/seal/quality checks, OCR, fields, type, store the
                    derived JPEG into a temporary FileStore — everything but the database
  dangan rapidocr   the same with --engine rapidocr (skip with --no-rapidocr)

and prints wall times and ratios (target: dangan ≤ 1.10 × raw). With --repeat R the
measurements are interleaved R times and the fastest of each is kept (the machine may be
shared).

    .venv/bin/python bench/ocr_speed.py [--pages 30] [--jobs N] [--corpus DIR] [--repeat 1] [--no-rapidocr]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parent.parent

from dangan.archive.business.scheme import load_scheme
from dangan.scanning.pipeline import options_from_scheme
from dangan.scanning.runner import PageTask, process_page
from dangan.scanning.sources import inspect
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


def warm(engine: str) -> None:
    """Import everything a worker needs (and load rapidocr's models) before the clock runs."""
    import numpy as np

    from dangan.scanning.ocr import get_engine
    from dangan.scanning.page import PipelineOptions

    if engine == "rapidocr":
        get_engine("rapidocr").recognise(np.full((64, 64), 255, np.uint8), PipelineOptions())


def timed(pool: ProcessPoolExecutor, fn, items) -> float:
    t0 = time.monotonic()
    list(pool.map(fn, items))
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path, help="reuse (or create) a corpus folder with truth.json")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-rapidocr", dest="rapidocr", action="store_false")
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

    engines = ["tesseract"] + (["rapidocr"] if args.rapidocr else [])
    best: dict[str, float] = {}
    ctx = multiprocessing.get_context("forkserver")  # as scanning.batch.run_pages_locally
    with (
        ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool,
        tempfile.TemporaryDirectory(prefix="dangan-speed-store-") as store_root,
    ):
        list(pool.map(warm, engines * args.jobs * 2))
        for r in range(args.repeat):
            runs = [("raw chi_sim+eng", raw_eng, paths), ("raw chi_sim psm6", raw_psm6, paths)]
            runs += [
                (f"dangan {e}", dangan_page, [(p, os.path.join(store_root, f"{e}-{r}"), e) for p in paths])
                for e in engines
            ]
            for label, fn, items in runs:
                seconds = timed(pool, fn, items)
                print(f"  run {r + 1}: {label:18} {seconds:7.1f} s", flush=True)
                best[label] = min(seconds, best.get(label, float("inf")))

    print()
    print(f"{'':20}{'wall s':>9}{'s/page':>9}{'pages/min':>11}{'÷ raw eng':>11}{'÷ raw psm6':>12}")
    base_eng, base_psm6 = best["raw chi_sim+eng"], best["raw chi_sim psm6"]
    for label, seconds in best.items():
        print(
            f"{label:20}{seconds:>9.1f}{seconds / n:>9.2f}{60 * n / seconds:>11.1f}"
            f"{seconds / base_eng:>11.2f}{seconds / base_psm6:>12.2f}"
        )
    print("target: dangan tesseract ≤ 1.10 × raw (both ratios)")
    if "dangan rapidocr" in best:
        print(
            f"second engine: dangan rapidocr = {best['dangan rapidocr'] / best['dangan tesseract']:.2f} × "
            f"dangan tesseract"
        )


if __name__ == "__main__":
    main()
