"""OCR quality per engine on our synthetic scans, real-world page classes and public scans.

One corpus, three readers, in one run:
  raw        `tesseract IMAGE stdout -l chi_sim --psm 6` (what a person would run by hand)
  tesseract  the dangan pipeline with --engine tesseract
  rapidocr   the dangan pipeline with its default engine, PP-OCR

The corpus (written to --corpus, or a temporary folder):
  synthetic   scanning.synthetic.generate_ocr_corpus: every document type, Song/Ming/Kai/Hei,
              200 and 300 dpi, skew up to 4°, upside-down sheets, speckle, blur, JPEG, seals
  real-world  dangan.testing.realworld: sparse 200-dpi licence copies, a licence pasted on a
              portrait sheet, both sides of an ID card, a dpi-less screenshot, a phone photo
              with EXIF orientation, an EXIF-rotated JPEG, clean 72-dpi text, a white-on-dark
              title banner, very large title type, a G4 fax, an English letter, turned pages
  public      tests/data/real (other projects' test scans; see its README)

Scores, per page (text NFKC-normalised, whitespace ignored): CER; characters lost (the share
of the truth's characters missing from the output, order ignored); document type; 户号 and
customer name where the page prints them with a label; orientation. Then the tables, the
targets, and per-class figures for the default engine.

--folders N adds whole customer folders (the demo batch, six cases per seed: 新装, 暂停, 过户,
销户, 减容; persons and companies; a blank back, an upside-down sheet) and scores what a folder
is filed and found by: each document's title as printed, each page's type, the folder's 户号
and holder's name (the value most pages agree on), the business type its application names,
and how many pages folder_disagreements() would send to the QA queue.

    .venv/bin/python bench/ocr_quality.py [--pages 40] [--folders 12] [--jobs 2] [--corpus DIR] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import re
import subprocess
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT / "tests" / "data" / "real"

import cv2
from rapidfuzz.distance import Levenshtein

from dangan.archive.business.scheme import load_scheme
from dangan.scanning.field_checks import HOLDER_LABELS, folder_disagreements
from dangan.scanning.fields import LABELS
from dangan.scanning.page import PageState
from dangan.scanning.pipeline import options_from_scheme, run_pipeline
from dangan.scanning.sources import inspect, read_page
from dangan.testing.realworld import generate_real_world_corpus, load_real_world_truth
from dangan.testing.synthetic import BatchTruth, generate_demo_batch, generate_ocr_corpus, load_corpus_truth

ENGINES = ("raw", "tesseract", "rapidocr")


def squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def cer(truth: str, text: str) -> float:
    ref = squash(truth)
    return Levenshtein.distance(ref, squash(text)) / max(1, len(ref))


def char_loss(truth: str, text: str) -> float:
    want, got = Counter(squash(truth)), Counter(squash(text))
    return sum((want - got).values()) / max(1, sum(want.values()))


_NAME_LABELS = "|".join(sorted(LABELS["customer_name"], key=len, reverse=True))


def labelled(text: str, value: str, labels: str) -> bool:
    """VALUE printed after one of LABELS (a form cell, 'label：value' or 'label value')."""
    return bool(value) and re.search(f"(?:{labels})[:：]?\\s*{re.escape(value)}", text) is not None


# --------------------------------------------------------------------------- the corpus


def build_corpus(folder: Path, pages: int, seed: int) -> list[dict]:
    """Every page as a dict: path, kind, text, doc_type ('-' when not judged), rotation,
    account_no, customer_name (empty when the page does not print them with a label)."""
    entries = []
    syn = folder / "synthetic"
    truths = (
        load_corpus_truth(syn / "truth.json")[:pages]
        if (syn / "truth.json").exists()
        else generate_ocr_corpus(syn, n_pages=pages, seed=seed)
    )
    for t in truths:
        entries.append(
            {
                "path": str(syn / t.file),
                "kind": "synthetic",
                "text": t.text,
                "doc_type": t.doc_type,
                "continuation_ok": t.doc_page > 1 and not t.title,
                "rotation": t.rotation,
                "account_no": t.account_no if labelled(t.text, t.account_no, "户号") else "",
                "customer_name": t.customer_name if labelled(t.text, t.customer_name, _NAME_LABELS) else "",
            }
        )
    rw = folder / "realworld"
    pages_rw = (
        load_real_world_truth(rw / "truth.json") if (rw / "truth.json").exists() else generate_real_world_corpus(rw)
    )
    for p in pages_rw:
        entries.append(
            {
                "path": str(rw / p.file),
                "kind": "turned" if p.kind.startswith("turned_") else p.kind,
                "text": p.text,
                "doc_type": p.doc_type,
                "continuation_ok": False,
                "rotation": p.rotation,
                "account_no": p.account_no,
                "customer_name": p.customer_name,
            }
        )
    for e in json.loads((PUBLIC / "truth.json").read_text(encoding="utf-8")):
        text = e.get("text") or ((PUBLIC / e["truth"]).read_text(encoding="utf-8") if e.get("truth") else None)
        entries.append(
            {
                "path": str(PUBLIC / e["file"]),
                "kind": e["kind"],
                "text": text,
                "doc_type": "-",
                "continuation_ok": False,
                "rotation": e["rotation"],
                "account_no": "",
                "customer_name": "",
            }
        )
    return entries


# --------------------------------------------------------------------------- the readers


def raw_tesseract(path: str) -> dict:
    """Raw Tesseract on the page image as delivered (a PDF page as its pixels)."""
    info = inspect(path)
    with tempfile.TemporaryDirectory(prefix="dangan-raw-") as tmp:
        if info.media_type == "application/pdf":
            image = cv2.cvtColor(read_page(info, 1).image, cv2.COLOR_RGB2GRAY)
            path = os.path.join(tmp, "page.png")
            cv2.imwrite(path, image)
        out = subprocess.run(
            ["tesseract", path, "stdout", "-l", "chi_sim", "--psm", "6"], capture_output=True, text=True, check=True
        )
    return {"text": out.stdout}


_options: dict = {}


def dangan(args: tuple[str, str]) -> dict:
    path, engine = args
    if engine not in _options:
        _options[engine] = options_from_scheme(load_scheme(), engine=engine)
    info = inspect(path)
    raw = read_page(info, 1)
    page = run_pipeline(PageState(source=path, page_no=1, image=raw.image, dpi=raw.dpi), _options[engine])

    def valid(name: str) -> str:
        p = page.fields.get(name)
        return p.value if p is not None and getattr(p, "valid", False) else ""

    return {
        "text": page.text,
        "doc_type": page.doc_type,
        "continuation": page.metrics.get("continuation") == 1.0,
        "rotation": page.rotation,
        "account_no": valid("account_number"),
        "customer_name": valid("customer_name"),
        "title": page.title,
        "flags": [f.code for f in page.flags if f.severity == "fail"],
        "engine": page.ocr_engine,
    }


def folder_page(args: tuple[str, int, str]) -> dict:
    """One page of a folder PDF through the pipeline: what the folder-level scores need."""
    path, page_no, engine = args
    if engine not in _options:
        _options[engine] = options_from_scheme(load_scheme(), engine=engine)
    raw = read_page(inspect(path), page_no)
    page = run_pipeline(PageState(source=path, page_no=page_no, image=raw.image, dpi=raw.dpi), _options[engine])
    fields = {
        k: {"value": v.value, "label": v.label, "valid": v.valid} if hasattr(v, "label") else v
        for k, v in page.fields.items()
    }
    return {"doc_type": page.doc_type, "title": page.title, "blank": page.is_blank, "fields": fields}


def score_folders(batches: list[tuple[Path, BatchTruth]], outs: list[dict]) -> dict[str, tuple[int, int]]:
    """Folder-level scores: (right, of) per measure."""
    it = iter(outs)
    scores: dict[str, list[int]] = {
        k: [0, 0] for k in ("titles", "page types", "户号", "holder name", "business", "销户")
    }
    queued = 0
    for _folder, batch in batches:
        for f in batch.files:
            pages = [next(it) for _ in f.pages]
            for t, o in zip(f.pages, pages):
                ok = (
                    o["doc_type"] == t.doc_type
                    or (t.doc_type is None and o["blank"])
                    or (t.doc_page > 1 and not t.title and o["doc_type"] is None)
                )
                scores["page types"][0] += ok
                scores["page types"][1] += 1
                if t.title and t.doc_page == 1:
                    scores["titles"][1] += 1
                    scores["titles"][0] += squash(o["title"]) == squash(t.title)
            votes = {"account_number": Counter(), "customer_name": Counter()}
            for o in pages:
                for name, counter in votes.items():
                    p = o["fields"].get(name)
                    if p and p["valid"] and (name != "customer_name" or p["label"] in HOLDER_LABELS):
                        counter[p["value"]] += 1
            for key, name, want in (
                ("户号", "account_number", f.case.account_no),
                ("holder name", "customer_name", f.case.customer_name),
            ):
                scores[key][1] += 1
                scores[key][0] += bool(votes[name]) and votes[name].most_common(1)[0][0] == want
            business = [o["fields"]["business_type"]["value"] for o in pages if "business_type" in o["fields"]]
            scores["business"][1] += 1
            scores["business"][0] += bool(business) and business[0] == f.case.business_type
            if f.case.business_type == "XH":
                scores["销户"][1] += 1
                scores["销户"][0] += bool(business) and business[0] == "XH"
            flags = folder_disagreements([(i, o["fields"]) for i, o in enumerate(pages, 1)], f.case.business_type)
            queued += len(flags)
    out = {k: (v[0], v[1]) for k, v in scores.items()}
    out["pages queued by folder_disagreements (all false alarms here)"] = (
        queued,
        sum(len(f.pages) for _, b in batches for f in b.files),
    )
    return out


def warm(_: int) -> None:
    """Load what a worker needs (models, scheme) before any clock runs."""
    import numpy as np

    from dangan.tools import ppocr

    ppocr.available()
    dangan_image = np.full((200, 300, 3), 255, np.uint8)
    run_pipeline(PageState(source="warm", page_no=1, image=dangan_image, dpi=300), options_from_scheme(load_scheme()))


# --------------------------------------------------------------------------- scoring


def score(entry: dict, out: dict, engine: str) -> dict:
    row = {"kind": entry["kind"], "file": Path(entry["path"]).name, "engine": engine}
    if entry["text"] is not None:
        row["cer"] = cer(entry["text"], out["text"])
        row["loss"] = char_loss(entry["text"], out["text"])
    if engine == "raw":
        return row
    if entry["doc_type"] != "-":
        row["type_ok"] = out["doc_type"] == entry["doc_type"] or (
            entry["continuation_ok"] and out["continuation"] and out["doc_type"] is None
        )
    if entry["rotation"] is not None:
        row["rotation_ok"] = out["rotation"] == entry["rotation"]
    if entry["account_no"]:
        row["account_ok"] = out["account_no"] == entry["account_no"]
    if entry["customer_name"]:
        row["name_ok"] = out["customer_name"] == entry["customer_name"]
    row["queued"] = bool(out["flags"])
    row["fails"] = " ".join(out["flags"])
    return row


def mean(rows: list[dict], key: str) -> tuple[float, int]:
    values = [r[key] for r in rows if key in r]
    return (sum(values) / len(values) if values else float("nan")), len(values)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=40, help="synthetic pages (the other classes are fixed)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path, help="reuse (or create) the corpus here")
    ap.add_argument("--csv", type=Path, help="write per-page results here")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--folders", type=int, default=12, help="demo customer folders, six per seed (0: none)")
    args = ap.parse_args()

    folder = args.corpus or Path(tempfile.mkdtemp(prefix="dangan-ocr-quality-"))
    batches = []
    for k in range((args.folders + 5) // 6):
        where = folder / "folders" / f"seed-{k}"
        truth = where / "truth.json"
        batch = (
            BatchTruth.from_json(truth.read_text(encoding="utf-8"))
            if truth.exists()
            else generate_demo_batch(where, seed=k)
        )
        batches.append((where, batch))
    folder_pages = [(str(w / f.file), t.page_no) for w, b in batches for f in b.files for t in f.pages]
    entries = build_corpus(folder, args.pages, args.seed)
    kinds = Counter(e["kind"] for e in entries)
    print(f"{len(entries)} pages in {folder} ({', '.join(f'{k} {n}' for k, n in kinds.items())}); {args.jobs} jobs")

    results: dict[str, list[dict]] = {}
    walls: dict[str, float] = {}
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(args.jobs, mp_context=ctx) as pool:
        list(pool.map(warm, range(args.jobs * 2)))
        for engine in ENGINES:
            t0 = time.monotonic()
            if engine == "raw":
                outs = list(pool.map(raw_tesseract, [e["path"] for e in entries]))
            else:
                outs = list(pool.map(dangan, [(e["path"], engine) for e in entries]))
            walls[engine] = time.monotonic() - t0
            results[engine] = [score(e, o, engine) for e, o in zip(entries, outs)]
            print(f"  {engine:10} {walls[engine]:7.1f} s", flush=True)
        folder_scores = {}
        for engine in ENGINES[1:] if folder_pages else ():
            outs = list(pool.map(folder_page, [(p, n, engine) for p, n in folder_pages]))
            folder_scores[engine] = score_folders(batches, outs)

    print()
    print(f"{'':30}" + "".join(f"{e:>14}" for e in ENGINES))
    metrics = (
        ("mean CER", "cer", True),
        ("characters lost (order-free)", "loss", True),
        ("document type right", "type_ok", False),
        ("户号 right", "account_ok", False),
        ("customer name right", "name_ok", False),
        ("orientation right", "rotation_ok", False),
        ("pages to the QA queue", "queued", False),
    )
    for label, key, is_rate in metrics:
        cells = []
        for engine in ENGINES:
            value, n = mean(results[engine], key)
            if n == 0:
                cells.append(f"{'-':>14}")
            elif is_rate:
                cells.append(f"{value:>14.2%}")
            else:
                good = sum(r[key] for r in results[engine] if key in r)
                cells.append(f"{f'{good}/{n} {value:.0%}':>14}")
        print(f"{label:30}" + "".join(cells))
    print(f"{'wall time (s)':30}" + "".join(f"{walls[e]:>14.1f}" for e in ENGINES))
    print(f"{'wall ÷ raw':30}" + "".join(f"{walls[e] / walls['raw']:>14.2f}" for e in ENGINES))
    print("targets (default engine): CER ≤ 1.5%, characters lost ≤ 0.3%, type ≥ 97%, 户号 and name ≥ 99%")

    print("\nper class, default engine (rapidocr) | tesseract:")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    by_kind_t: dict[str, list[dict]] = defaultdict(list)
    for r in results["rapidocr"]:
        by_kind[r["kind"]].append(r)
    for r in results["tesseract"]:
        by_kind_t[r["kind"]].append(r)
    print(f"{'class':18}{'pages':>6}{'CER':>9}{'lost':>9}{'type':>8}{'orient':>8} |{'CER':>9}{'lost':>9}")
    for kind, rows in by_kind.items():
        c, _ = mean(rows, "cer")
        lo, _ = mean(rows, "loss")
        ty, nt = mean(rows, "type_ok")
        ro, nr = mean(rows, "rotation_ok")
        tc, _ = mean(by_kind_t[kind], "cer")
        tl, _ = mean(by_kind_t[kind], "loss")
        typed = f"{ty:.0%}" if nt else "-"
        oriented = f"{ro:.0%}" if nr else "-"
        print(f"{kind:18}{len(rows):>6}{c:>9.2%}{lo:>9.2%}{typed:>8}{oriented:>8} |{tc:>9.2%}{tl:>9.2%}")
    if folder_scores:
        n_folders = sum(len(b.files) for _, b in batches)
        print(f"\n{n_folders} customer folders, {len(folder_pages)} pages:")
        print(f"{'':62}" + "".join(f"{e:>14}" for e in folder_scores))
        for key in next(iter(folder_scores.values())):
            cells = "".join(f"{f'{sc[key][0]}/{sc[key][1]}':>14}" for sc in folder_scores.values())
            print(f"{key:62}{cells}")
    worst = sorted((r for r in results["rapidocr"] if "cer" in r), key=lambda r: -r["cer"])[:6]
    print("worst pages (rapidocr):", ", ".join(f"{r['file']} {r['cer']:.1%}/{r['loss']:.1%}" for r in worst))
    missed = [r for r in results["rapidocr"] if r.get("type_ok") is False or r.get("name_ok") is False]
    if missed:
        print("type or name wrong (rapidocr):", ", ".join(r["file"] for r in missed))
    if args.csv:
        rows = [r for engine in ENGINES for r in results[engine]]
        keys = sorted({k for r in rows for k in r})
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)
        print(f"per-page results: {args.csv}")


if __name__ == "__main__":
    main()
