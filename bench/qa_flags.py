"""QA flags against known truth: does each flag fire on the pages that have its problem, and
only on them? An operator stops reading a queue that is half false alarms.

Pages:
  defects     dangan.testing.realworld.defect_pages: one good application scan and a copy per
              defect (150 and 240 dpi, 7.5° crooked, blurred 0.3 and 0.2 mm, under-exposed,
              washed out, a seal scanned in grey, a folded corner), each with the flag it must raise
  clean       pages without any of those problems: the real-world classes, synthetic scans and
              the public scans in tests/data/real (none carries a seal); a flag on one of these
              is a false alarm, except low_dpi where the file itself declares less than 200 dpi
  --public    more public scans (a folder of images and PDFs), judged like the clean pages

For every flag code: how often it fired, how many of those fires were right (precision) and
how many of the pages with the problem it caught (recall); and the share of clean pages that
the pipeline sends to the QA queue.

    .venv/bin/python bench/qa_flags.py [--pages 20] [--jobs 2] [--corpus DIR] [--public DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "tests" / "data" / "real"

import numpy as np

from dangan.archive.business.scheme import load_scheme
from dangan.scanning.page import PageState
from dangan.scanning.pipeline import options_from_scheme, run_pipeline
from dangan.scanning.sources import RejectedFile, inspect, read_page
from dangan.testing.realworld import defect_pages, generate_real_world_corpus, load_real_world_truth
from dangan.testing.synthetic import generate_ocr_corpus, load_corpus_truth

IMAGES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


def flags_of(args: tuple) -> tuple[str, list[tuple[str, str]], int]:
    """(name, [(code, severity)], declared dpi) for one page: a path, or (name, image, dpi)."""
    options = options_from_scheme(load_scheme())
    if isinstance(args, str):
        try:
            raw = read_page(inspect(args), 1)
        except RejectedFile:
            return args, [("refused", "fail")], 0
        name, image, dpi = args, raw.image, raw.dpi
    else:
        name, image, dpi = args
    page = run_pipeline(PageState(source=name, page_no=1, image=image, dpi=dpi), options)
    return name, [(f.code, f.severity) for f in page.flags], dpi


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20, help="synthetic clean pages")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path, help="reuse (or create) the corpus here")
    ap.add_argument("--public", type=Path, action="append", default=[], help="a folder of more public scans")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    folder = args.corpus or Path(tempfile.mkdtemp(prefix="dangan-qa-flags-"))
    syn, rw = folder / "synthetic", folder / "realworld"
    syn_truth = (
        load_corpus_truth(syn / "truth.json")[: args.pages]
        if (syn / "truth.json").exists()
        else generate_ocr_corpus(syn, n_pages=args.pages, seed=args.seed)
    )
    rw_truth = (
        load_real_world_truth(rw / "truth.json") if (rw / "truth.json").exists() else generate_real_world_corpus(rw)
    )
    clean = [str(syn / t.file) for t in syn_truth] + [str(rw / p.file) for p in rw_truth]
    clean += sorted(str(p) for p in PUBLIC.iterdir() if p.suffix.lower() in IMAGES and p.name != "hugemono.pdf")
    for extra in args.public:
        clean += sorted(str(p) for p in extra.iterdir() if p.suffix.lower() in IMAGES)
    defects = defect_pages(args.seed)
    print(f"{len(defects)} defect pages, {len(clean)} clean pages; {args.jobs} jobs", flush=True)

    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
        defect_out = list(pool.map(flags_of, [(d.name, np.asarray(d.image.convert("RGB")), d.dpi) for d in defects]))
        clean_out = list(pool.map(flags_of, clean))

    fired, right, expected, caught = Counter(), Counter(), Counter(), Counter()
    for d, (_name, flags, _dpi) in zip(defects, defect_out):
        codes = {code for code, _sev in flags}
        if d.flag:
            expected[d.flag] += 1
            caught[d.flag] += (d.flag, d.severity) in flags
        for code in codes:
            fired[code] += 1
            right[code] += code == d.flag
    queued = 0
    false_alarms: list[str] = []
    for name, flags, dpi in clean_out:
        for code in {code for code, _sev in flags}:
            fired[code] += 1
            truly_low = code == "low_dpi" and 0 < dpi < 300
            right[code] += truly_low
            if not truly_low and code not in ("doc_type_unknown",):
                false_alarms.append(f"{Path(name).name}: {code}")
        fails = [c for c, sev in flags if sev == "fail" and not (c == "low_dpi" and 0 < dpi < 200)]
        queued += bool(fails)

    print(f"\n{'flag':18}{'fired':>7}{'right':>7}{'precision':>11}{'problem pages':>15}{'caught':>8}")
    for code in sorted(set(fired) | set(expected)):
        prec = f"{right[code] / fired[code]:.0%}" if fired[code] else "-"
        rec = f"{caught[code]}/{expected[code]}" if expected[code] else "-"
        print(f"{code:18}{fired[code]:>7}{right[code]:>7}{prec:>11}{expected[code]:>15}{rec:>8}")
    print(f"\nclean pages sent to the QA queue (not counting a declared dpi under 200): {queued}/{len(clean)}")
    print("doc_type_unknown is a warning on pages that are not customer documents (public scans); not scored")
    if false_alarms:
        print("false alarms:", "; ".join(false_alarms))


if __name__ == "__main__":
    main()
