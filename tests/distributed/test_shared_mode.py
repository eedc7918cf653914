"""Shared mode: stations publish pages, workers on other machines OCR them, the archive gets
each page exactly once with gap-free numbers, whoever crashes."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from dangan.app import Archive, audit
from dangan.archive.models import ArchiveRecord, Customer, StagedPage
from tests.distributed.checks import assert_archive_clean, assert_no_page_text, folder_pdf
from tests.distributed.conftest import finish, wait_for

pytestmark = pytest.mark.distributed


def staged(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(StagedPage))


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
    w1, w2 = start_worker("w1"), start_worker("w2")
    # when two stations ingest the whole batch at the same time, from opposite ends
    a = start_station("station-a", list(folders))
    b = start_station("station-b", list(reversed(folders)))
    ra, rb = finish(a), finish(b)

    # then the archive holds every page exactly once, under gap-free numbers
    records = assert_archive_clean(home, folders)
    # a station that reaches a folder the other already finished skips it, naming its number
    assert {f["status"] for f in ra["folders"] + rb["folders"]} <= {"accessioned", "skipped"}
    assert len(ra["folders"]) == len(rb["folders"]) == 5
    number = {Path(f["source"]).name: f["number"] for f in ra["folders"]}
    for f in rb["folders"]:  # the folders both stations took got one number, and both say which
        assert number.setdefault(Path(f["source"]).name, f["number"]) == f["number"]
    assert sorted(number.values()) == sorted(r.number for r in records)
    with db.session() as s:  # one customer for the shared 户号, not two
        assert s.scalar(select(func.count()).select_from(Customer)) == 4
    # every page was indexed in the transaction that accessioned it (the PostgreSQL index):
    # nothing left for either station to sync; the index check above found every page
    assert ra["indexed"] == rb["indexed"] == 0
    assert ra["indexed_at_commit"] and rb["indexed_at_commit"]
    # and the workers' logs say which page took how long, never what was on it
    assert re.search(r"succeeded in [0-9.]+s: \{'page': \d, 'outcome': 'staged'", w1.text() + w2.text())
    assert_no_page_text(w1.text(), w2.text(), account="3401400002")


def _ocr_under(worker) -> bool:
    """Is the worker in the middle of a page (Tesseract running under it)?"""
    try:
        return any(p.name() == "tesseract" for p in psutil.Process(worker.proc.pid).children(recursive=True))
    except psutil.Error:
        return False


@pytest.mark.parametrize("victim", ["worker", "pool-process"])
def test_a_worker_killed_mid_page_has_the_page_redelivered_and_stored_once(
    tmp_path, db, home, start_worker, start_station, victim
):
    # given a folder whose pages take a few seconds each, and one worker
    folder = folder_pdf(tmp_path / "batch" / "slow.pdf", "3401400009", 2, lines=14, dpi=300)
    w1 = start_worker("w1", DANGAN_VISIBILITY_TIMEOUT=10)
    # (the Tesseract engine: a tesseract process under the worker shows it is mid-page)
    station = start_station("station", [folder], options=("--engine", "tesseract"), DANGAN_VISIBILITY_TIMEOUT=10)
    # when the worker is killed with SIGKILL while Tesseract runs on a page
    wait_for("the worker to start OCR", lambda: _ocr_under(w1) or station.poll() is not None, timeout=120)
    assert station.poll() is None
    if victim == "worker":  # the machine dies: main process, pool process and Tesseract at once
        w1.kill()
        assert staged(db) == 0  # really mid-page
        # then the station names the page and the worker holding it, and when it moves on
        wait_for("the station to call the page late", lambda: "has been on worker w1@" in station.text(), timeout=30)
        late = r"page \d of slow\.pdf has been on worker w1@\S+ for \d+ s .*another one at \d\d:\d\d"
        assert re.search(late, station.text())
        start_worker("w2", DANGAN_VISIBILITY_TIMEOUT=10)  # another machine picks up the queue
    else:  # the pool process dies (OOM killer): the worker puts its page back at once
        for p in [p for p in psutil.Process(w1.proc.pid).children() if p.name() != "tesseract"]:
            p.kill()

    # and the station finishes, with the page in the archive exactly once
    report = finish(station, timeout=180)
    assert [f["status"] for f in report["folders"]] == ["accessioned"]
    assert_archive_clean(home, {folder: 2})
    # the killed page's task was received again and completed after the kill
    logs = "".join(p.read_text(errors="replace") for p in tmp_path.glob("worker-*.log"))
    received = Counter(re.findall(r"Task dangan\.page\[([0-9a-f-]+)\] received", logs))
    assert any(n >= 2 for n in received.values()), f"no task was delivered twice: {received}"


def test_a_station_that_dies_loses_no_finished_page(tmp_path, db, home, start_worker, start_station):
    # given a station publishing a folder, killed once the workers have staged some pages
    folder = folder_pdf(tmp_path / "batch" / "long.pdf", "3401400010", 4)
    start_worker("w1")
    station = start_station("station", [folder])
    wait_for("a page staged", lambda: staged(db) or station.poll() is not None)
    station.kill()
    # then an audit meanwhile sees the staged pages' files as in progress, not as unexpected
    archive = Archive.open(home.root, home.db_url)
    try:
        fixity = audit.verify(archive, full=True)
        assert fixity.ok and fixity.unexpected == [] and fixity.in_progress, fixity.as_dict()
    finally:
        archive.close()
    # when the batch is scanned again
    report = finish(start_station("station-again", [folder]))
    # then the pages the workers had finished were not published again, and all are archived once
    assert report["queue"]["published"] < 4
    assert_archive_clean(home, {folder: 4})


def test_a_station_accessions_only_under_the_shared_lock(tmp_path, db, home, start_worker, start_station):
    """What keeps two stations from accessioning one file (or one new customer) at once."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the accession lock is a PostgreSQL advisory lock (SQLite serialises writers itself)")
    from sqlalchemy import text

    from dangan.archive.records.accession import ACCESSION_LOCK

    folder = folder_pdf(tmp_path / "batch" / "f.pdf", "3401400011", 1)
    start_worker("w1")
    # given another station in the middle of an accession (holding the lock)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ACCESSION_LOCK})
        station = start_station("station", [folder])
        # when this station's page is done by a worker
        wait_for("the worker to stage the page", lambda: staged(db), timeout=60)
        # then it waits for the lock (pg_locks shows it): no record yet, the station still running
        wait_for("the station to wait for the lock", lambda: _waiting_for_lock(db, ACCESSION_LOCK), timeout=30)
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(ArchiveRecord)) == 0
        assert station.poll() is None
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ACCESSION_LOCK})
    # and once the other station lets go, it accessions
    report = finish(station)
    assert [f["status"] for f in report["folders"]] == ["accessioned"]
    assert_archive_clean(home, {folder: 1})


def _waiting_for_lock(db, key: int) -> bool:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k AND NOT granted"),
                {"k": key},
            ).scalar()
        )
