"""Does each change to the reading copy help the engine that reads it? The same pages, each
engine, each combination of the steps scanning.reading may apply:

  plain     the page in grey, as the earlier steps left it (upright, straight, cropped)
  seal      a sealed page's red channel instead (red ink vanishes, black print stays)
  rules     form rules erased (never glyph strokes, banners or strokes inside text runs)
  denoise   median filter and Otsu, on pages whose paper is noisy (scanning.reading.NOISY)

and prints characters lost (order-free) and CER per engine and variant. What the pipeline
does (scanning.reading.reading_copy) should be the best row of each engine.

    .venv/bin/python bench/ocr_ablation.py [--pages 40] [--jobs 2] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import numpy as np

from dangan.archive.business.scheme import load_scheme
from dangan.scanning.analysis import grey_of
from dangan.scanning.ocr import get_engine
from dangan.scanning.page import PageState
from dangan.scanning.pipeline import STEPS, options_from_scheme
from dangan.scanning.reading import NOISY, denoised, erase_ruled_lines
from dangan.scanning.sources import inspect, read_page
from ocr_quality import build_corpus, cer, char_loss

VARIANTS = ("plain", "seal", "seal+rules", "seal+denoise", "seal+rules+denoise")
BEFORE_OCR = STEPS[: [s.__name__ for s in STEPS].index("ocr")]


def read(args: tuple[str, str]) -> dict[str, str]:
    """The page read by ENGINE once per variant."""
    path, engine_name = args
    options = options_from_scheme(load_scheme(), engine=engine_name)
    raw = read_page(inspect(path), 1)
    page = PageState(source=path, page_no=1, image=raw.image, dpi=raw.dpi)
    for step in BEFORE_OCR:
        page = step(page, options)
    if page.is_blank:
        return dict.fromkeys(VARIANTS, "")
    engine = get_engine(engine_name)
    texts = {}
    for variant in VARIANTS:
        sealed = "seal" in variant and page.has_seal and page.image.ndim == 3
        gray = np.ascontiguousarray(page.image[..., 0]) if sealed else grey_of(page.image)
        if "rules" in variant:
            gray = erase_ruled_lines(gray, page.dpi, page.text_boxes)
        if "denoise" in variant and page.metrics.get("noise", 0) >= NOISY:
            gray = denoised(gray, page.dpi)
        boxes = page.text_boxes if engine_name == "rapidocr" and not sealed else None
        texts[variant] = engine.recognise(gray, options, boxes=boxes, char_px=page.metrics.get("char_px", 0.0)).text
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    folder = args.corpus or Path(tempfile.mkdtemp(prefix="dangan-ablation-"))
    entries = [
        e for e in build_corpus(folder, args.pages, args.seed) if e["text"] and not e["kind"].startswith("public")
    ]
    print(f"{len(entries)} pages with truth in {folder}; {args.jobs} jobs", flush=True)
    ctx = multiprocessing.get_context("forkserver")
    table: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    with ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
        for engine in ("tesseract", "rapidocr"):
            for e, texts in zip(entries, pool.map(read, [(e["path"], engine) for e in entries])):
                for variant, text in texts.items():
                    table[(engine, variant)].append((char_loss(e["text"], text), cer(e["text"], text)))
    print(f"\n{'engine':12}{'variant':22}{'lost':>9}{'CER':>9}")
    for (engine, variant), rows in table.items():
        lost = sum(r[0] for r in rows) / len(rows)
        err = sum(r[1] for r in rows) / len(rows)
        print(f"{engine:12}{variant:22}{lost:>9.2%}{err:>9.2%}")
    print("the pipeline uses: tesseract seal+rules+denoise; rapidocr seal")


if __name__ == "__main__":
    main()
