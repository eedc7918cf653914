"""Born-digital pages read from their own text against the same pages OCRed as scans.

    python bench/born_digital.py [--cases N]

The same synthetic documents (an application and a contract per case, exact printed text
known) are written twice: as a born-digital PDF with a text layer (reportlab, as a business
system writes it) and as a scanner's PDF of their page images. Every page goes through the
whole page step (`process_page`: read, store, pipeline, derived image) one at a time in this
process; the script prints seconds per page and the character error rate (edit distance to
the printed text, spaces ignored) of each, and the time ratio measured in this run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from rapidfuzz.distance import Levenshtein

from dangan.archive.business.scheme import load_scheme
from dangan.archive.store import FileStore, sha256_file
from dangan.scanning.pipeline import options_from_scheme
from dangan.scanning.runner import PageTask, process_page
from dangan.scanning.sources import inspect
from dangan.testing.born_digital import write_born_digital_pdf
from dangan.testing.synthetic import demo_cases, render_document, write_pdf


def cer(truth: str, text: str) -> float:
    t, o = "".join(truth.split()), "".join(text.split())
    return Levenshtein.distance(t, o) / max(1, len(t))


def run(path: Path, truths: list[str], store: FileStore) -> tuple[float, float, str]:
    info = inspect(path)
    options = options_from_scheme(load_scheme())
    sha = sha256_file(path)
    errors, seconds, engine = [], 0.0, ""
    for n in range(1, info.page_count + 1):
        start = time.perf_counter()
        page = process_page(PageTask(info, n, str(store.root), options, sha))
        seconds += time.perf_counter() - start
        errors.append(cer(truths[n - 1], page.text))
        engine = page.ocr_engine
    return seconds / info.page_count, sum(errors) / len(errors), engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3)
    args = parser.parse_args()
    pages = [
        p for case in demo_cases(seed=11)[: args.cases] for kind in ("SQ", "HT") for p in render_document(kind, case)
    ]
    truths = ["\n".join(p.lines) for p in pages]
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        store = FileStore(tmp_path / "store")
        store.create()
        write_born_digital_pdf(tmp_path / "born-digital.pdf", [p.lines for p in pages])
        write_pdf(tmp_path / "scanned.pdf", (p.image for p in pages))
        print(f"{len(pages)} pages ({args.cases} cases: application and contract), one process")
        results = {}
        for name in ("scanned.pdf", "born-digital.pdf"):
            per_page, error, engine = run(tmp_path / name, truths, store)
            results[name] = per_page
            print(f"{name:17s} {per_page:6.2f} s/page  CER {error:6.2%}  text from {engine}")
        ratio = results["scanned.pdf"] / results["born-digital.pdf"]
        print(f"born-digital pages take 1/{ratio:.0f} of the time of the same pages OCRed")


if __name__ == "__main__":
    main()
