"""Scanned customer folders for the use-case tests, and a page runner that OCRs each distinct
page once per test session.

The folders are generated (dangan.testing.synthetic: realistic forms of demo customers, JPEG in
PDF as a scanner writes them) and cover what the views must tell the truth about: a folder, the
same folder in a new PDF wrapper and re-encoded, a folder with another customer's page inside,
a stack split by cover sheets, a page whose warnings a person must see.

CachedRunner runs the real pipeline (Tesseract, the real page steps) the first time it meets a
page and hands the same IntakePage to every later archive, copying the stored master and
derived image into that archive's store: a test archive scans in milliseconds what took
seconds once.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from dangan.archive.db import Database, upgrade
from dangan.archive.paper.labels import write_covers
from dangan.archive.records.accession import IntakePage
from dangan.archive.store import sha256_file
from dangan.scanning.runner import PageTask, process_page_guarded
from dangan.scanning.sources import RejectedFile
from dangan.testing.synthetic import demo_cases, encode_jpeg, render_document
from dangan.testing.synthetic.people import make_case
from dangan.testing.synthetic.scanner import write_pdf_jpegs
from tests.conftest import render_page

SEED = 11


@dataclass(frozen=True)
class Folders:
    root: Path
    cases: dict  # name → synthetic CaseProfile
    files: dict  # name → path

    def __getitem__(self, name: str) -> Path:
        return self.files[name]


def _covers(keys: list[str], tmp: Path) -> list[Image.Image]:
    """Cover sheets as `dangan labels cover` prints them, as the scanner sees them."""
    tmp.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp / 'covers.sqlite3'}"
    upgrade(url)
    db = Database(url)
    try:
        with db.session() as s:
            write_covers(s, keys, tmp / "covers.pdf")
    finally:
        db.dispose()
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(tmp / "covers.pdf"), str(tmp / "cover")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(tmp.glob("cover-*.png"))]


def make_folders(root: Path) -> Folders:
    root.mkdir(parents=True, exist_ok=True)
    cases = demo_cases(SEED)
    a, b, c, d = cases[0], cases[1], cases[2], cases[4]
    a_next = make_case(np.random.default_rng([SEED, 9]), a.business_type, a.customer)  # A's next case
    pages = {
        name: [p.image for t in case.doc_types[:n] for p in render_document(t, case, dpi=300, seed=SEED)[:1]]
        for name, case, n in (("a", a, 2), ("b", b, 2), ("c", c, 1), ("d", d, 3), ("a_next", a_next, 1))
    }
    jpegs = {name: [encode_jpeg(im, 80, 300) for im in images] for name, images in pages.items()}
    files = {}

    def pdf(name: str, pages_: Iterable[tuple], dpi: int = 300) -> None:
        files[name] = root / f"{name}.pdf"
        write_pdf_jpegs(files[name], pages_, dpi)

    pdf("a", jpegs["a"])
    pdf("a-rewrapped", jpegs["a"])  # the same page images in another PDF: a new file, same JPEGs
    with open(files["a-rewrapped"], "ab") as f:
        f.write(b"% saved again by another program\n")
    pdf("a-reencoded", [encode_jpeg(im, 55, 300) for im in pages["a"]])  # looks the same, other bytes
    pdf("a-next", jpegs["a_next"])  # the same customer's next application: not a duplicate
    pdf("mixed", [jpegs["b"][0], jpegs["c"][0], jpegs["b"][1]])  # page 2 is customer C's
    covers = _covers([d.work_order_no, b.work_order_no], root / "covers")
    pdf("covered", [encode_jpeg(covers[0], 80, 300), *jpegs["d"]])  # a cover and 3 sheets of D
    pdf("stack", [encode_jpeg(covers[0], 80, 300), *jpegs["d"], encode_jpeg(covers[1], 80, 300), *jpegs["b"]])
    odd = [  # an ID with a wrong check character; a page of no document type
        render_page(["公民身份号码：110105198001011235", "这一页是身份证复印件。"]),
        render_page(["情况说明", "这一页没有标题，也不是任何一种表。本人于去年搬迁。"]),
    ]
    pdf("odd", [encode_jpeg(im, 85, 300) for im in odd])
    files["a-page1-rescan"] = root / "a-page1-rescan.png"
    pages["a"][0].save(files["a-page1-rescan"], dpi=(300, 300))
    return Folders(root, {"a": a, "b": b, "c": c, "d": d, "a_next": a_next}, files)


class CachedRunner:
    """A PageRunner (scanning.runner) that runs the real pipeline once per distinct page."""

    def __init__(self, cache_store: Path):
        self.store = cache_store
        self.results: dict[tuple[str, int, str], IntakePage | RejectedFile] = {}
        self.ran = 0

    def page(self, task: PageTask) -> IntakePage | RejectedFile:
        key = (task.source_sha256 or sha256_file(task.info.path), task.page_no, task.options.engine)
        if key not in self.results:
            self.ran += 1
            try:
                self.results[key] = process_page_guarded(replace(task, store_root=str(self.store)))
            except RejectedFile as e:
                self.results[key] = e
        result = self.results[key]
        if isinstance(result, IntakePage):
            for rel in (result.master_path, result.derived_path):
                target = Path(task.store_root) / rel
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(self.store / rel, target)
        return result

    def __call__(self, tasks: Iterable[PageTask], jobs: int) -> Iterator[tuple[PageTask, IntakePage | RejectedFile]]:
        for task in tasks:
            yield task, self.page(task)
