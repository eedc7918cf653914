"""Shared mode survives its servers' faults: PostgreSQL or Redis stopped and started mid-batch,
a misconfigured worker beside good ones, two stations re-running finished pages. Each ends
with every page accessioned exactly once, numbers gap-free, `verify --full`, `events verify`
and `index check` clean, and no good file quarantined (tests.distributed.checks).

The servers are the test's own (.ci/postgres.sh, .ci/redis.sh), stopped and started through
the commands in DANGAN_TEST_PG_STOP … (fixture `servers`). Timeouts are short (conftest.FAST)
and every wait polls with a deadline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from dangan.archive.home import DataHome
from dangan.archive.models import Customer, StagedPage
from dangan.archive.store import FileStore
from dangan.scanning.distributed import QUEUE, make_app
from tests.distributed.checks import assert_archive_clean, assert_no_page_text, folder_pdf
from tests.distributed.conftest import finish, wait_for

pytestmark = pytest.mark.distributed


def staged(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(StagedPage))


def batch(tmp_path: Path, accounts: list[str], pages: int = 2) -> dict[Path, int]:
    return {
        folder_pdf(tmp_path / "batch" / f"f{i}.pdf", account, pages): pages for i, account in enumerate(accounts, 1)
    }


def test_postgresql_stopped_and_started_mid_batch(tmp_path, db, home, servers, start_worker, start_station):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs DANGAN_TEST_DB: the PostgreSQL server of the test")
    folders = batch(tmp_path, ["3401400101", "3401400102", "3401400103"])
    w1, w2 = start_worker("w1"), start_worker("w2")
    station = start_station("station", list(folders))
    # given a batch under way: the first pages are staged
    wait_for("a page staged", lambda: staged(db) or station.poll() is not None)
    # when PostgreSQL stops, and both the station and a worker have met the outage
    servers.stop("pg")
    wait_for("the station to say so", lambda: "unreachable since" in station.text(), timeout=60)
    wait_for("a worker to say so", lambda: "unreachable since" in w1.text() + w2.text(), timeout=60)
    # (and long enough for a worker to give a page it held back to the queue)
    wait_for("a page given back", lambda: "goes back to the queue: PostgreSQL" in w1.text() + w2.text(), timeout=60)
    servers.start("pg")
    # then the station waited, told the operator what for, and carried on when it came back
    report = finish(station)
    log = station.text()
    assert re.search(r"PostgreSQL at 127\.0\.0\.1:\d+/\w+ unreachable since \d\d:\d\d:\d\d .*retrying", log), log
    assert "reachable again" in log
    assert {f["status"] for f in report["folders"]} == {"accessioned"}
    # the workers held their pages through it: no page failed, none was dropped
    logs = w1.text() + w2.text()
    assert "raised unexpected" not in logs and "Traceback" not in logs, logs[-3000:]
    assert_no_page_text(logs, account="3401400101")
    assert_archive_clean(home, folders)


def test_redis_stopped_and_started_mid_batch(tmp_path, db, home, servers, start_worker, start_station):
    folders = batch(tmp_path, ["3401400111", "3401400112", "3401400113"])
    w1, w2 = start_worker("w1"), start_worker("w2")
    station = start_station("station", list(folders))
    wait_for("a page staged", lambda: staged(db) or station.poll() is not None)
    # when Redis stops (a test Redis keeps nothing: the restarted one has forgotten the queue)
    servers.stop("redis")
    wait_for("the station to say so", lambda: "unreachable since" in station.text(), timeout=60)
    servers.start("redis")
    # then the station waits, publishes again what it still awaits, and finishes: no traceback
    report = finish(station)
    log = station.text()
    assert re.search(r"the queue \(Redis\) at 127\.0\.0\.1:\d+/0 unreachable since \d\d:\d\d:\d\d", log), log
    assert "the queue server restarted; publishing the" in log
    assert {f["status"] for f in report["folders"]} == {"accessioned"}
    assert report["queue"]["republished"] > 0
    assert_no_page_text(w1.text(), w2.text(), account="3401400111")
    assert_archive_clean(home, folders)


def test_a_station_stops_cleanly_past_the_outage_limit_and_the_same_command_resumes(
    tmp_path, db, home, servers, start_worker, start_station
):
    folders = batch(tmp_path, ["3401400121", "3401400122"])
    start_worker("w1")
    station = start_station("station", list(folders), DANGAN_OUTAGE_LIMIT=2)
    wait_for("a page staged", lambda: staged(db) or station.poll() is not None)
    # when Redis stays away longer than the station was told to wait
    servers.stop("redis")
    finish(station, timeout=60, status=75)  # EX_TEMPFAIL: try again later
    # then it says what happened and how to resume, in a line, not a traceback
    log = station.text()
    assert re.search(r"unreachable since \d\d:\d\d:\d\d .*stopped after waiting \d+ s\. Nothing finished is lost", log)
    resume = r"run the same command again to resume: dangan --as station scan --json --distributed \S+f1\.pdf"
    assert re.search(resume, log)
    servers.start("redis")
    # and running that command again finishes the batch, without redoing the pages already done
    done_before = staged(db)
    report = finish(start_station("station", list(folders)))
    assert report["queue"]["published"] <= sum(folders.values()) - done_before
    assert_archive_clean(home, folders)


def test_misconfigured_workers_take_themselves_out_of_service(tmp_path, db, home, broker, start_worker, start_station):
    # given a worker whose DANGAN_HOME is another, freshly created store (the archive is still empty,
    # so it cannot tell at start-up)
    elsewhere = DataHome(root=tmp_path / "elsewhere", db_url=home.db_url)
    FileStore(elsewhere.store_dir).create()
    wrong = start_worker("wrong", worker_home=elsewhere)
    folders = batch(tmp_path, ["3401400131", "3401400132"], pages=1)
    station = start_station("station", list(folders), options=("--engine", "tesseract"))
    # when it is given a page
    wait_for("the worker to notice", lambda: "out of service" in wrong.text(), timeout=60)
    # then it says why, and stops taking pages; the station tells the operator
    assert re.search(r"worker wrong@\S+ does not see sources/\S+ in its file store at \S+elsewhere/store", wrong.text())
    app = make_app(broker)
    wait_for("the worker to stop consuming", lambda: _consumes(app, "wrong@") == [], timeout=30)
    wait_for("the station to name it", lambda: re.search(r"worker wrong@\S+ is out of service", station.text()))
    # given next a worker on a machine without Tesseract: the same, with the package to install
    no_ocr = start_worker("no-ocr", PATH=_path_without("tesseract", tmp_path))
    wait_for("the worker to notice", lambda: "out of service" in no_ocr.text(), timeout=60)
    assert "tesseract is not installed: install the Debian package tesseract-ocr" in no_ocr.text()
    # and once a good worker starts, every page is done there and no good file is quarantined
    start_worker("good")
    report = finish(station)
    assert {f["status"] for f in report["folders"]} == {"accessioned"}
    assert_archive_clean(home, folders)
    # a worker started against that store now that the archive has files is refused at once
    again = start_worker("wrong-again", worker_home=elsewhere, wait=False)
    assert again.proc.wait(timeout=60) == 1
    assert "holds none of the archive's newest source files" in again.text()


def _path_without(program: str, tmp_path: Path) -> str:
    """A PATH with every program of this one's folder but PROGRAM (a machine never set up for it)."""
    import shutil

    found = Path(shutil.which(program))
    bin_dir = tmp_path / f"bin-without-{program}"
    bin_dir.mkdir()
    for tool in found.parent.iterdir():
        if tool.name != program and tool.is_file():
            (bin_dir / tool.name).symlink_to(tool)
    return str(bin_dir)


def _consumes(app, prefix: str) -> list[str] | None:
    """The queues the worker named PREFIX… takes pages from (None: it did not answer)."""
    names = [name for reply in app.control.ping(timeout=0.5) or [] for name in reply if name.startswith(prefix)]
    replies = app.control.inspect(destination=names, timeout=1).active_queues() if names else None
    return [q["name"] for q in replies[names[0]]] if replies and names[0] in replies else None


def test_two_stations_rerunning_the_same_finished_pages_of_a_new_customer(
    tmp_path, db, home, broker, start_worker, start_station
):
    # given three folders of one new customer whose pages were all OCR'd and staged by the workers,
    # but never accessioned: their station died after publishing
    folders = batch(tmp_path, ["3401400141"] * 3, pages=1)
    first = start_station("first", list(folders))
    queue = redis.Redis.from_url(broker)
    wait_for("the pages published", lambda: queue.llen(QUEUE) == 3 or first.poll() is not None)
    first.kill()
    start_worker("w1")
    wait_for("every page staged", lambda: staged(db) == 3)
    # when two stations run the batch again at the same moment, one through the queue, one locally
    a = start_station("station-a", list(folders))
    b = start_station("station-b", list(folders), local=True)
    ra, rb = finish(a), finish(b)
    # then neither crashed, each folder has one record, the customer exists once
    assert_archive_clean(home, folders)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 1
    numbers: dict[str, set[str]] = {}
    for f in ra["folders"] + rb["folders"]:
        numbers.setdefault(Path(f["source"]).name, set()).add(f["number"])
    assert all(len(n) == 1 for n in numbers.values()) and len(numbers) == 3, numbers
    # nothing was OCR'd again: every page came from the journal
    assert ra["queue"]["published"] == 0 and rb["pages"] == 0
