"""Shared mode: stations publish pages, workers on other machines OCR them, the archive gets
each page exactly once with gap-free numbers, whoever crashes."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from dangan.archive import events
from dangan.archive.models import ArchiveRecord, Customer, Page, SourceFile, StagedPage
from dangan.indexing.backends import open_backend
from tests.conftest import render_page
from tests.distributed.conftest import finish

pytestmark = pytest.mark.distributed


def folder_pdf(path: Path, account: str, pages: int, *, lines: int = 3, dpi: int = 200) -> Path:
    """A scanner-style folder PDF of a customer's application; every page says whose it is."""
    images = [
        render_page(
            [
                f"低压居民用电申请表 第{n}页",
                f"户号：{account}",
                "客户名称：张建国",
                *[f"用电地址：合肥市蜀山区长江西路{n * 100 + i}号" for i in range(lines)],
            ],
            dpi=dpi,
        )
        for n in range(1, pages + 1)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def assert_archive_exactly_once(db, folders: dict[Path, int]) -> list[ArchiveRecord]:
    """Every folder one record, every page of it exactly once, serials 1..N, nothing left staged,
    the event chain intact."""
    from dangan.archive.store import sha256_file

    with db.session() as s:
        for path, n_pages in folders.items():
            src = s.scalars(select(SourceFile).filter_by(sha256=sha256_file(path))).all()
            assert len(src) == 1, f"{path.name}: {len(src)} source rows"
            pages = s.scalars(select(Page.source_page).filter_by(source_id=src[0].id)).all()
            assert sorted(pages) == list(range(1, n_pages + 1)), f"{path.name}: pages {sorted(pages)}"
        records = s.scalars(select(ArchiveRecord).order_by(ArchiveRecord.serial)).all()
        assert [r.serial for r in records] == list(range(1, len(folders) + 1))
        assert len({r.number for r in records}) == len(folders)
        assert s.scalar(select(func.count()).select_from(Page)) == sum(folders.values())
        assert s.scalar(select(func.count()).select_from(StagedPage)) == 0
        checked, problems = events.verify_chain(s)
        assert checked > 0 and problems == []
        return records


def test_two_stations_and_two_workers_on_one_batch_store_every_page_once(
    tmp_path, db, home, start_worker, start_station
):
    # given one batch of five customer folders; two of them belong to one customer (one 户号)
    scans = tmp_path / "batch"
    folders = {
        folder_pdf(scans / "f1.pdf", "3401400001", 2): 2,
        folder_pdf(scans / "f2.pdf", "3401400002", 1): 1,
        folder_pdf(scans / "f3.pdf", "3401400002", 2): 2,
        folder_pdf(scans / "f4.pdf", "3401400004", 1): 1,
        folder_pdf(scans / "f5.pdf", "3401400005", 1): 1,
    }
    start_worker("w1")
    start_worker("w2")
    # when two stations ingest the whole batch at the same time, from opposite ends
    a = start_station("station-a", list(folders))
    b = start_station("station-b", list(reversed(folders)))
    ra, rb = finish(a), finish(b)

    # then the archive holds every page exactly once, under gap-free numbers
    records = assert_archive_exactly_once(db, folders)
    # a station that reaches a folder the other already finished skips it, naming its number
    assert {f["status"] for f in ra["folders"] + rb["folders"]} <= {"accessioned", "skipped"}
    assert len(ra["folders"]) == len(rb["folders"]) == 5
    number = {Path(f["source"]).name: f["number"] for f in ra["folders"]}
    for f in rb["folders"]:  # the folders both stations took got one number, and both say which
        assert number.setdefault(Path(f["source"]).name, f["number"]) == f["number"]
    assert sorted(number.values()) == sorted(r.number for r in records)
    with db.session() as s:  # one customer for the shared 户号, not two
        assert s.scalar(select(func.count()).select_from(Customer)) == 4
    # and the one index writer indexed each page once
    backend = open_backend(home.root / "index")
    try:
        assert backend.count() == sum(folders.values())
    finally:
        backend.close()
    # (each station drains the outbox; both may index the same page — an upsert, never a loss)
    assert sum(folders.values()) <= ra["indexed"] + rb["indexed"] <= 2 * sum(folders.values())


def _tesseract_under(worker) -> bool:
    try:
        return any(p.name() == "tesseract" for p in psutil.Process(worker.proc.pid).children(recursive=True))
    except psutil.Error:
        return False


@pytest.mark.parametrize("victim", ["worker", "pool-process"])
def test_a_worker_killed_mid_page_has_the_page_redelivered_and_stored_once(
    tmp_path, db, start_worker, start_station, victim
):
    # given a folder whose pages take a few seconds each, and one worker
    folder = folder_pdf(tmp_path / "batch" / "slow.pdf", "3401400009", 2, lines=14, dpi=300)
    w1 = start_worker("w1", visibility_timeout=8)
    station = start_station("station", [folder])
    # when the worker is killed with SIGKILL while Tesseract runs on a page
    deadline = time.monotonic() + 120
    while not _tesseract_under(w1):
        assert time.monotonic() < deadline and station.poll() is None, "the worker never started OCR"
        time.sleep(0.02)
    if victim == "worker":  # the machine dies: main process, pool process and Tesseract at once
        w1.kill()
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(StagedPage)) == 0  # really mid-page
        start_worker("w2", visibility_timeout=8)  # another machine picks up the queue
    else:  # the pool process dies (OOM killer): the worker puts its page back at once
        pool = [p for p in psutil.Process(w1.proc.pid).children() if p.name() != "tesseract"]
        for p in pool:
            p.kill()

    # then the station finishes, and the page is in the archive exactly once
    report = finish(station, timeout=180)
    assert [f["status"] for f in report["folders"]] == ["accessioned"]
    assert_archive_exactly_once(db, {folder: 2})
    # the killed page's task was received again and completed after the kill
    logs = "".join(w.text() for w in _workers(tmp_path))
    received = Counter(re.findall(r"Task dangan\.page\[([0-9a-f-]+)\] received", logs))
    assert any(n >= 2 for n in received.values()), f"no task was delivered twice: {received}"


def _workers(tmp_path):
    class Log:
        def __init__(self, p):
            self.p = p

        def text(self):
            return self.p.read_text(errors="replace")

    return [Log(p) for p in sorted(tmp_path.glob("w*.log"))]


def test_a_station_that_dies_loses_no_finished_page(tmp_path, db, start_worker, start_station):
    # given a station publishing a folder, killed once the workers have staged some pages
    folder = folder_pdf(tmp_path / "batch" / "long.pdf", "3401400010", 4)
    start_worker("w1")
    station = start_station("station", [folder])
    deadline = time.monotonic() + 120
    while True:
        with db.session() as s:
            if s.scalar(select(func.count()).select_from(StagedPage)):
                break
        assert time.monotonic() < deadline and station.poll() is None
        time.sleep(0.05)
    station.kill()
    station.wait()
    # when the batch is scanned again
    rerun = start_station("station-again", [folder])
    report = finish(rerun)
    # then the pages the workers had finished were not published again, and all are archived once
    assert report["published"] < 4
    assert_archive_exactly_once(db, {folder: 4})


def test_a_station_hands_pages_to_accession_only_under_the_shared_lock(tmp_path, db, start_worker, start_station):
    """What keeps two stations from accessioning one file (or one new customer) at once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the handover lock is a PostgreSQL advisory lock (SQLite serialises writers itself)")
    from sqlalchemy import text

    from dangan.scanning.distributed import HANDOVER_LOCK

    folder = folder_pdf(tmp_path / "batch" / "f.pdf", "3401400011", 1)
    start_worker("w1")
    # given another station in the middle of an accession (holding the handover lock)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": HANDOVER_LOCK})
        station = start_station("station", [folder])
        # when this station's page is done by a worker
        deadline = time.monotonic() + 60
        while True:
            with db.session() as s:
                if s.scalar(select(func.count()).select_from(StagedPage)):
                    break
            assert time.monotonic() < deadline, "the worker never staged the page"
            time.sleep(0.05)
        time.sleep(1.0)
        # then it waits: no record yet, the station still running
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(ArchiveRecord)) == 0
        assert station.poll() is None
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": HANDOVER_LOCK})
    # and once the other station lets go, it accessions
    report = finish(station)
    assert [f["status"] for f in report["folders"]] == ["accessioned"]
    assert_archive_exactly_once(db, {folder: 1})
