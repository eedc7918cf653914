"""Which index serves an archive, and the use cases around it: init chooses, a rebuild
with --backend switches while searches go on, check warns when the index outgrew its
backend, an older dangan's index keeps working."""

import os

import pytest

from dangan.app import Archive
from dangan.app import index as index_cases
from dangan.app.archive import init_archive
from dangan.app.records import search
from dangan.indexing import backends
from dangan.indexing.backends import open_backend
from tests.archive.records import make_record

pytestmark = pytest.mark.database
ON_POSTGRES = bool(os.environ.get("DANGAN_TEST_DB"))


def fill(archive: Archive, records: int = 3) -> list[str]:
    with archive.session() as s:
        return [
            make_record(
                s, tag=f"r{i}", doc_types=["SQ", "HT"], account=f"34014000{i:02d}", work_order=f"WO20240{i:05d}"
            ).number
            for i in range(records)
        ]


def test_init_chooses_the_backend_for_the_database_and_every_later_run_uses_it(home):
    archive = Archive(home)
    created = init_archive(archive)
    assert (created["index"], created["index_pages"]) == ("postgresql" if ON_POSTGRES else "tantivy", 0)
    numbers = fill(archive)
    index_cases.sync_index(archive)
    later = Archive(home)  # another station, another day: nothing told
    assert later.index_backend == archive.index_backend
    assert search(later, "户号:3401400001")["groups"][0]["record_number"] == numbers[1]
    told = Archive(home, backend="whoosh")  # one run told otherwise does not change the archive's
    assert told.index_backend == "whoosh" and told.archive_backend == archive.index_backend


@pytest.mark.skipif(ON_POSTGRES, reason="an embedded default: SQLite")
def test_an_index_an_older_dangan_built_in_the_data_home_keeps_serving(home):
    open_backend(home.index_dir, "whoosh").close()  # the old layout: files directly in index/
    numbers = fill(Archive(home))  # each change followed by the index the archive already had
    reopened = Archive(home)
    assert reopened.archive_backend == "whoosh"
    assert search(reopened, "户号:3401400002")["groups"][0]["record_number"] == numbers[2]
    assert (home.index_dir / "whoosh" / "dangan-index.json").exists()  # moved into its backend's folder


def test_a_rebuild_into_another_backend_switches_the_archive_once_complete(home):
    archive = Archive(home)
    init_archive(archive)
    numbers = fill(archive)
    index_cases.sync_index(archive)
    before = archive.archive_backend
    target = "whoosh" if before != "whoosh" else "tantivy"
    seen_during = []
    switching = Archive(home, backend=target)

    def meanwhile(done, total):  # another station searches while the rebuild runs
        other = Archive(home)
        seen_during.append((other.index_backend, search(other, "户号:3401400000")["total_hits"]))

    done = index_cases.rebuild_index(switching, progress=meanwhile)
    assert (done.backend, done.switched_from, done.pages) == (target, before, 6)
    assert seen_during and all(seen == (before, 2) for seen in seen_during)
    after = Archive(home)
    assert after.archive_backend == target
    assert search(after, "户号:3401400000")["groups"][0]["record_number"] == numbers[0]


def test_check_warns_when_the_index_outgrew_what_its_backend_was_measured_at(home, monkeypatch):
    archive = Archive(home, backend="whoosh")
    fill(archive, 2)
    index_cases.rebuild_index(archive)
    monkeypatch.setitem(backends.MEASURED_PAGES, "whoosh", 4)
    assert index_cases.check_index(archive).warning == ""
    monkeypatch.setitem(backends.MEASURED_PAGES, "whoosh", 3)
    checked = index_cases.check_index(archive)
    assert checked.result.ok and checked.indexed == 4
    assert "more than the 3 up to which whoosh was measured" in checked.warning
    assert "dangan --backend tantivy index rebuild" in checked.warning  # the embedded backend that holds more
    monkeypatch.setitem(backends.MEASURED_PAGES, "whoosh", None)  # missed the targets at every size
    assert "missed the search targets at every size" in index_cases.check_index(archive).warning
    monkeypatch.setitem(backends.MEASURED_PAGES, "tantivy", 3)
    tantivy = Archive(home, backend="tantivy")
    index_cases.rebuild_index(tantivy)
    assert "measure this archive with bench/search.py" in index_cases.check_index(tantivy).warning


@pytest.mark.skipif(not ON_POSTGRES, reason="needs DANGAN_TEST_DB (PostgreSQL)")
def test_on_postgresql_an_accession_is_searchable_at_its_commit_from_any_station(home):
    station, web = Archive(home), Archive(home)
    init_archive(station)
    with station.session() as s:
        number = make_record(s, tag="now", doc_types=["SQ"], account="3401400099", work_order="WO2024099999").number
    assert search(web, "户号:3401400099")["groups"][0]["record_number"] == number  # no sync, no shared folder
    assert not home.index_dir.exists() or not any(home.index_dir.iterdir())


def test_a_folder_is_searchable_as_soon_as_it_is_accessioned_not_at_the_end_of_the_batch(home, make_folder_pdf):
    from dangan.app.ingest import ingest, scan_options

    station = Archive(home)
    init_archive(station)
    lines = ["用电申请书", "户号：{}", "户名：王建国", "申请减容后运行容量为400千伏安"]
    first = make_folder_pdf("a.pdf", [[line.format("3401405288") for line in lines]])
    make_folder_pdf("b.pdf", [[line.format("3401409999") for line in lines]])
    found_meanwhile = []

    def on_folder(result):  # the batch goes on; a clerk at another desk searches now
        clerk = Archive(home)
        hits = search(clerk, "3401405288", tolerant=False)["groups"]
        found_meanwhile.append((result.source.endswith("a.pdf"), [g["record_number"] for g in hits]))

    result = ingest(station, [first.parent], scan_options(station, jobs=1), on_folder=on_folder)
    numbers = {f.source.rsplit("/", 1)[-1]: f.number for f in result.report.folders}
    assert found_meanwhile[0] == (True, [numbers["a.pdf"]])
    assert result.index.indexed == (0 if ON_POSTGRES else 2)  # on PostgreSQL, at commit: nothing left to sync
