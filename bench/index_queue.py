"""What one place for every change costs: accession and bulk changes with the index queue's
flush listeners (archive/records/index_queue.py) against the same work with them detached,
and with the near-duplicate lookups at accession (records.likeness) against none, in the same
run, on fresh SQLite archives.

    .venv/bin/python bench/index_queue.py                  # 20 folders of 25 pages
    .venv/bin/python bench/index_queue.py --folders 40 --pages 50

Each measurement accessions FOLDERS folders of PAGES pages (no OCR: the pages are made up,
with text and content keys, so the near-duplicate lookups run as at scan time), then
reclassifies every record and shelves every folder (each change queues the record's pages).
Prints seconds for each and the ratios to the run with neither. Repeat when the machine is busy.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from dangan.archive.business.scheme import load_scheme
from dangan.archive.db import Database, upgrade
from dangan.archive.models import IndexOutbox
from dangan.archive.paper.locations import add_location, shelve
from dangan.archive.records import accession, index_queue
from dangan.archive.records.accession import FolderIntake, IntakeDocument, IntakePage, accession_folder
from dangan.archive.records.lifecycle import reclassify

FIND_LIKENESSES = accession.find_likenesses
LISTENERS = (
    ("after_flush", index_queue._collect),
    ("after_flush_postexec", index_queue._queue),
    ("after_commit", index_queue._committed),
    ("after_soft_rollback", index_queue._rolled_back),
)


def folder(n: int, pages: int) -> tuple[FolderIntake, list[IntakePage]]:
    account = f"34{n:08d}"
    sha = hashlib.sha256(f"folder-{n}".encode()).hexdigest()
    intake = FolderIntake(
        source_name=f"f{n}.pdf",
        source_sha256=sha,
        source_path=f"sources/{sha}.pdf",
        source_size=1000,
        media_type="application/pdf",
        documents=[IntakeDocument("SQ", 0.9, "用电申请书", list(range(1, pages + 1)))],
        account_number=account,
        customer_name=f"客户{n}",
        work_order=f"20240102{n:08d}",
        business_type="XZ",
    )
    made = [
        IntakePage(
            source_page=i,
            master_path=f"masters/{n}-{i}.jpg",
            master_sha256=hashlib.sha256(f"{n}-{i}".encode()).hexdigest(),
            master_size=1000,
            master_format="jpg",
            derived_path=f"derived/{n}-{i}.jpg",
            derived_sha256=hashlib.sha256(f"{n}-{i}d".encode()).hexdigest(),
            width=2480,
            height=3508,
            dpi=300,
            phash=f"{(n * 7919 + i) % 2**64:016x}",
            text=f"用电申请书 户号 {account} 工单编号 20240102{n:08d} 第{i}页 " + "申请用电容量八千瓦" * 20,
            fields={"account_number": {"value": account, "valid": True}},
        )
        for i in range(1, pages + 1)
    ]
    return intake, made


def run(folders: int, pages: int, queue_on: bool, likeness_on: bool = True) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'b.sqlite3'}"
        upgrade(url)
        db = Database(url)
        scheme = load_scheme()
        with db.session() as s:
            add_location(s, "K01", "room", actor="b")
            add_location(s, "K01-C", "zone", parent="K01", actor="b")
            add_location(s, "K01-C-01", "rack", parent="K01-C", actor="b")
            add_location(s, "S1", "shelf", parent="K01-C-01", actor="b")
            add_location(s, "B1", "box", parent="S1", actor="b")
        if not queue_on:
            for name, fn in LISTENERS:
                event.remove(Session, name, fn)
        if not likeness_on:
            accession.find_likenesses = lambda *a, **k: []
        try:
            started = time.perf_counter()
            numbers = []
            for n in range(folders):
                intake, made = folder(n, pages)
                with db.session() as s:
                    numbers.append(accession_folder(s, intake, made, fonds="GD01", actor="b", year=2024).number)
            for number in numbers:
                with db.session() as s:
                    reclassify(s, number, business_type="ZT", reason="bench", actor="b", scheme=scheme)
                    shelve(s, number, "B1", actor="b")
            seconds = time.perf_counter() - started
        finally:
            accession.find_likenesses = FIND_LIKENESSES
            if not queue_on:
                for name, fn in LISTENERS:
                    event.listen(Session, name, fn)
        with db.session() as s:
            queued = s.scalar(select(func.count(IndexOutbox.id))) or 0
        db.dispose()
    return seconds, queued


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folders", type=int, default=20)
    ap.add_argument("--pages", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args(argv)
    best: dict[str, float] = {}
    queued = 0
    for _ in range(a.repeat):  # interleaved, so a busy spell hits every variant alike
        for name, queue_on, likeness_on in (("neither", False, False), ("queue", True, False), ("both", True, True)):
            seconds, rows = run(a.folders, a.pages, queue_on, likeness_on)
            best[name] = min(best.get(name, seconds), seconds)
            queued = rows if name == "both" else queued
    total = a.folders * a.pages
    print(f"{a.folders} folders × {a.pages} pages, then reclassify and shelve each record (best of {a.repeat})")
    for name, label in (
        ("neither", "no queue, no duplicate lookups"),
        ("queue", "index queue"),
        ("both", "queue + lookups"),
    ):
        ratio = best[name] / best["neither"]
        print(f"  {label:31s} {best[name]:6.2f} s  {total / best[name]:6.0f} pages/s  ratio {ratio:.2f}")
    print(f"  ({queued} outbox rows left for the indexer)")


if __name__ == "__main__":
    main(sys.argv[1:])
