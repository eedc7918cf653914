"""OCR quality: raw `tesseract -l chi_sim+eng` against the dangan pipeline on the same noisy pages.

Generates (or reuses) a corpus of single-page scans with ground truth — Song/Ming, Kai and
Hei faces, 200 and 300 dpi, skew up to 4°, upside-down sheets, speckle, JPEG loss, red
seals — and prints, in one run:
  - mean character error rate (CER) of both, whitespace ignored, and their ratio;
  - order-free character loss (share of truth characters missing from the output);
  - the pipeline's document-type accuracy, 户号 extraction (the page's labelled 户号) and
    身份证 reading (every valid ID number printed on the page read back valid);
  - a per-page CSV for looking closer.

    .venv/bin/python bench/ocr_quality.py [--pages 60] [--jobs 2] [--corpus DIR] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parent.parent

from rapidfuzz.distance import Levenshtein

from dangan.archive.business.scheme import load_scheme
from dangan.archive.identifiers import InvalidIdentifier, validate_ric
from dangan.scanning.page import PageState
from dangan.scanning.pipeline import options_from_scheme, run_pipeline
from dangan.scanning.sources import inspect, read_page
from dangan.testing.synthetic import generate_ocr_corpus, load_corpus_truth


def squash(text: str) -> str:
    return "".join(text.split())


def cer(truth: str, text: str) -> float:
    ref = squash(truth)
    return Levenshtein.distance(ref, squash(text)) / max(1, len(ref))


def char_loss(truth: str, text: str) -> float:
    """Characters of the truth missing from the output, ignoring order (reading-order
    differences between engines are not reading errors)."""
    want, got = Counter(squash(truth)), Counter(squash(text))
    missing = sum((want - got).values())
    return missing / max(1, sum(want.values()))


_RIC = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{16}[\dXx])(?![0-9A-Za-z])")


def printed_ids(text: str) -> set[str]:
    """Valid 公民身份号码 printed in TEXT (a page may carry the owner's and the agent's)."""
    found = set()
    for m in _RIC.finditer(re.sub(r"(?<=\d) (?=[\dXx])", "", text)):
        try:
            found.add(validate_ric(m.group(1)))
        except InvalidIdentifier:
            pass
    return found


def raw_tesseract(path: str) -> str:
    out = subprocess.run(["tesseract", path, "stdout", "-l", "chi_sim+eng"], capture_output=True, text=True, check=True)
    return out.stdout


@dataclass
class PipelineResult:
    text: str
    doc_type: str | None
    fields: dict
    rotation: int
    ids: set[str]  # valid ID numbers read anywhere on the page
    confidence: float | None
    engine: str
    continuation: bool  # no title, reads as a later page of a document (e.g. contract clauses)


def pipeline(path: str) -> PipelineResult:
    options = options_from_scheme(load_scheme(), engine=os.environ.get("DANGAN_BENCH_ENGINE", "tesseract"))
    info = inspect(path)
    raw = read_page(info, 1)
    page = run_pipeline(PageState(source=path, page_no=1, image=raw.image, dpi=raw.dpi), options)
    fields = {
        k: (v.value if hasattr(v, "value") else v.get("value"))
        for k, v in page.fields.items()
        if (getattr(v, "valid", None) if hasattr(v, "valid") else v.get("valid"))
    }
    return PipelineResult(
        page.text,
        page.doc_type,
        fields,
        page.rotation,
        printed_ids(page.text),
        page.confidence,
        page.ocr_engine,
        page.metrics.get("continuation") == 1.0,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path, help="reuse a corpus folder (with truth.json)")
    ap.add_argument("--csv", type=Path, help="write per-page results here")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--engine", default="tesseract", help="dangan's OCR engine: tesseract or rapidocr")
    args = ap.parse_args()
    os.environ["DANGAN_BENCH_ENGINE"] = args.engine  # the pool's workers read it

    if args.corpus and (args.corpus / "truth.json").exists():
        truths = load_corpus_truth(args.corpus / "truth.json")[: args.pages]
        folder = args.corpus
    else:
        folder = args.corpus or Path(tempfile.mkdtemp(prefix="dangan-ocr-corpus-"))
        truths = generate_ocr_corpus(folder, n_pages=args.pages, seed=args.seed)
    paths = [str(folder / t.file) for t in truths]
    print(f"{len(truths)} pages in {folder}; {args.jobs} parallel jobs; dangan engine: {args.engine}", flush=True)

    with ProcessPoolExecutor(args.jobs) as pool:
        t0 = time.monotonic()
        raw = list(pool.map(raw_tesseract, paths))
        t_raw = time.monotonic() - t0
        t0 = time.monotonic()
        ours = list(pool.map(pipeline, paths))
        t_ours = time.monotonic() - t0

    rows = []
    for t, r, o in zip(truths, raw, ours):
        rows.append(
            {
                "file": t.file,
                "doc_type": t.doc_type,
                "font": t.font,
                "dpi": t.dpi,
                "rotation": t.rotation,
                "skew": round(t.skew, 2),
                "seal": t.has_seal,
                "cer_raw": cer(t.text, r),
                "cer_dangan": cer(t.text, o.text),
                "loss_raw": char_loss(t.text, r),
                "loss_dangan": char_loss(t.text, o.text),
                # A document's type is read from its first page; its later pages (no title) are
                # right when recognised as continuations, which the folder splitter attaches.
                "type_ok": o.doc_type == t.doc_type
                or (t.doc_page > 1 and not t.title and o.continuation and o.doc_type is None),
                "account_ok": (t.account_no not in t.text) or o.fields.get("account_number") == t.account_no,
                "id_ok": printed_ids(t.text) <= o.ids,
                "has_account": t.account_no in t.text if t.account_no else False,
                "has_id": bool(printed_ids(t.text)),
                "dangan_type": o.doc_type,
                "confidence": o.confidence,
                "engine": o.engine.split()[0] if o.engine else "",
            }
        )
    n = len(rows)
    mean = lambda k: sum(r[k] for r in rows) / n
    acc = lambda ok, has=None: (
        sum(r[ok] for r in rows if has is None or r[has]),
        sum(1 for r in rows if has is None or r[has]),
    )
    print()
    print(f"{'':28}{'raw chi_sim+eng':>18}{'dangan':>12}{'ratio':>9}")
    print(
        f"{'mean CER (whitespace-free)':28}{mean('cer_raw'):>17.2%}{mean('cer_dangan'):>12.2%}"
        f"{mean('cer_dangan') / max(mean('cer_raw'), 1e-9):>9.2f}"
    )
    print(
        f"{'characters lost (order-free)':28}{mean('loss_raw'):>17.2%}{mean('loss_dangan'):>12.2%}"
        f"{mean('loss_dangan') / max(mean('loss_raw'), 1e-9):>9.2f}"
    )
    print(f"{'wall time':28}{t_raw:>16.1f} s{t_ours:>10.1f} s{t_ours / t_raw:>9.2f}")
    for label, ok, has in (
        ("document type", "type_ok", None),
        ("户号 extracted", "account_ok", "has_account"),
        ("身份证 extracted", "id_ok", "has_id"),
    ):
        good, total = acc(ok, has)
        print(f"{label:28}{'':>18}{good:>7}/{total:<4}{good / max(total, 1):>8.1%}")
    print("targets: dangan CER ≤ 2% and ≤ 0.5× raw; type ≥ 97%; 户号 and ID ≥ 99%")
    worst = sorted(rows, key=lambda r: -r["cer_dangan"])[:5]
    print(
        "worst pages:",
        ", ".join(
            f"{r['file']} {r['cer_dangan']:.1%} ({r['font']}, {r['dpi']} dpi, rot {r['rotation']}, skew {r['skew']})"
            for r in worst
        ),
    )
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        print(f"per-page results: {args.csv}")


if __name__ == "__main__":
    main()
