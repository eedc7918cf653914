"""A batch as an operator runs it: real files, real Tesseract, real database and store."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, text

from dangan.archive.events import verify_chain
from dangan.archive.models import ArchiveRecord, Page, Quarantined, SourceFile, StagedPage
from dangan.archive.store import sha256_file
from dangan.scanning.batch import ScanOptions, scan
from tests.scanning.test_sources import write_bad_inputs

pytestmark = pytest.mark.database


def folder_pages(account: str, name: str) -> list[list[str]]:
    return [
        [
            "用电申请书",
            f"户号：{account}",
            f"户名：{name}",
            "用电地址：江苏省南京市玄武区中山路18号",
            "申请减容后运行容量为400千伏安",
        ],
        ["供用电合同", f"户号：{account}", "第一条 供电方式与用电容量"],
        ["第五条 双方的权利和义务", "供电人应按照国家规定的电能质量标准供电", f"（户号 {account}）"],
    ]


def test_bad_files_are_quarantined_and_the_good_ones_ingested(db, store, tmp_path, make_folder_pdf):
    expected = write_bad_inputs(tmp_path / "scans")
    good = make_folder_pdf("good.pdf", folder_pages("3401405288", "王建国"))
    report = scan([tmp_path / "scans"], db, store, ScanOptions(jobs=2))
    by_name = {os.path.basename(f.source): f for f in report.folders}
    assert by_name["good.pdf"].status == "accessioned" and by_name["good.pdf"].pages == 3
    for name, words in expected.items():
        assert by_name[name].status == "quarantined" and words in by_name[name].reason
    with db.session() as s:
        kept = {q.original_name.rsplit("/", 1)[-1]: q for q in s.scalars(select(Quarantined))}
        assert set(kept) == set(expected)
        for name, q in kept.items():  # the original bytes are kept, not just the name
            assert sha256_file(store.path(q.stored_path)) == sha256_file(tmp_path / "scans" / name)
        pages = s.scalars(select(Page).order_by(Page.seq)).all()
        assert [p.seq for p in pages] == [1, 2, 3]
        assert "3401405288" in pages[0].text and "减容" in pages[0].text
    assert good.exists()


def test_a_rerun_skips_what_is_already_in_the_archive(db, store, make_folder_pdf):
    make_folder_pdf("a.pdf", folder_pages("3401405288", "王建国"))
    path = make_folder_pdf("b.pdf", folder_pages("3401409999", "李秀英"))
    first = scan([path.parent], db, store, ScanOptions(jobs=2))
    second = scan([path.parent], db, store, ScanOptions(jobs=2))
    assert first.count("accessioned") == 2
    assert second.count("skipped") == 2 and second.pages == 0
    assert {f.number for f in second.folders} == {f.number for f in first.folders}


def test_the_stored_master_is_the_input_page_byte_for_byte(db, store, tmp_path):
    from tests.conftest import render_page

    path = tmp_path / "page.png"
    render_page(["居民身份证复印件", "公民身份号码 11010519491231002X"]).save(path, dpi=(300, 300))
    scan([path], db, store, ScanOptions(jobs=1))
    with db.session() as s:
        page = s.scalars(select(Page)).one()
    assert page.master_sha256 == sha256_file(path)
    assert sha256_file(store.path(page.master_path)) == page.master_sha256


def test_kill_9_mid_batch_then_rerun_gives_each_page_exactly_once(home, db, make_folder_pdf):
    for i in range(5):
        make_folder_pdf(f"folder-{i}.pdf", folder_pages(f"34014052{i:02d}", "王建国"))
    scans = make_folder_pdf("folder-5.pdf", folder_pages("3401405299", "张伟")).parent
    cmd = [
        sys.executable,
        "-m",
        "dangan",
        "--home",
        str(home.root),
        "--db",
        home.db_url,
        "scan",
        "--jobs",
        "1",
        str(scans),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        committed = _kill_once_committed(proc, db, at_least=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    with db.session() as s:
        staged = s.scalar(select(func.count(StagedPage.page_no)))
        assert s.scalar(select(func.count(ArchiveRecord.id))) == committed  # nothing landed after the kill

    rerun = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    # Only the pages neither accessioned nor staged before the kill were OCR'd again.
    assert json.loads(rerun.stdout)["pages"] == 18 - 3 * committed - staged
    with db.session() as s:
        assert s.scalar(select(func.count(ArchiveRecord.id))) == 6
        assert sorted(s.scalars(select(ArchiveRecord.serial))) == list(range(1, 7))
        assert s.scalar(select(func.count(SourceFile.id))) == 6
        assert s.scalar(select(func.count(Page.id))) == 18
        dup = s.execute(text("SELECT master_sha256 FROM page GROUP BY master_sha256 HAVING COUNT(*) > 1")).all()
        assert dup == []
        assert s.scalar(select(func.count(StagedPage.page_no))) == 0
        checked, problems = verify_chain(s)
        assert problems == [] and checked > 18


def _kill_once_committed(proc, db, *, at_least: int) -> int:
    """Kill -9 the scan (its whole process group) as soon as AT_LEAST folders are committed, and
    return how many were. Each look holds the database's write lock (SQLite: the transaction's
    BEGIN IMMEDIATE; PostgreSQL: a lock on the record table), so the scan cannot commit
    another folder between the count and the kill."""
    deadline = time.monotonic() + 120
    while True:
        with db.session() as s:
            if s.bind.dialect.name == "postgresql":
                s.execute(text("LOCK TABLE archive_record IN EXCLUSIVE MODE"))
            committed = s.scalar(select(func.count(ArchiveRecord.id)))
            if committed >= at_least:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return committed
        assert time.monotonic() < deadline and proc.poll() is None, "the scan ended or stalled before the kill"
        time.sleep(0.1)


def test_a_page_that_cannot_be_processed_quarantines_its_file_and_the_batch_goes_on(
    db, store, tmp_path, make_folder_pdf
):
    good = make_folder_pdf("good.pdf", folder_pages("3401405288", "王建国"))
    bad = make_folder_pdf("bad.pdf", folder_pages("3401409999", "李秀英"))
    data = bytearray(bad.read_bytes())
    second_jpeg = data.index(b"\xff\xd8\xff", data.index(b"\xff\xd8\xff") + 1)
    data[second_jpeg : second_jpeg + 2] = b"\x00\x00"  # page 2's image no longer decodes; pdfinfo still reads the file
    bad.write_bytes(bytes(data))
    report = scan([good.parent], db, store, ScanOptions(jobs=2))
    by_name = {os.path.basename(f.source): f for f in report.folders}
    assert by_name["good.pdf"].status == "accessioned"
    assert by_name["bad.pdf"].status == "quarantined" and "page 2" in by_name["bad.pdf"].reason
    with db.session() as s:
        assert s.scalar(select(func.count(StagedPage.page_no))) == 0
        assert [q.original_name.rsplit("/", 1)[-1] for q in s.scalars(select(Quarantined))] == ["bad.pdf"]


def test_a_store_that_cannot_be_written_quarantines_nothing_and_a_rerun_finishes(db, store, tmp_path, make_folder_pdf):
    from dangan.app import Archive, records
    from dangan.archive.records.filing import quarantine_file
    from dangan.archive.store import StoreUnavailable

    folder = make_folder_pdf("good.pdf", folder_pages("3401405288", "王建国")[:1])
    # given a file an earlier run quarantined for a reason that was never in the file
    with db.session() as s:
        quarantine_file(s, store, folder, "worker w3 did not see it", actor="station", batch_id=None)
    # when the store cannot take the page images (every masters/xx/ folder is a file instead)
    blocked = [store.root / "masters" / f"{i:02x}" for i in range(256)]
    for b in blocked:
        b.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="could not write masters/.* in the file store"):
        scan([folder], db, store, ScanOptions(jobs=1))
    # then nothing more is quarantined for it, and once the store is back a rerun accessions it
    with db.session() as s:
        assert s.scalar(select(func.count(Quarantined.id))) == 1
    for b in blocked:
        b.unlink()
    report = scan([folder], db, store, ScanOptions(jobs=1))
    assert [f.status for f in report.folders] == ["accessioned"]
    # and the quarantine list no longer shows the file: those bytes are in the archive now
    archive = Archive.open(store.root.parent, db.url)
    try:
        assert records.quarantined(archive) == []
    finally:
        archive.close()
