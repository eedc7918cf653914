"""The index is fed from the database: outbox drained, rebuilt in resumable chunks while
searches go on, checked; on PostgreSQL, written in the accession's own transaction."""

import os
from dataclasses import replace

import pytest

from dangan.archive.models import IndexOutbox
from dangan.archive.paper.locations import shelve
from dangan.archive.records.qa import accept_page
from dangan.indexing import feed
from dangan.indexing.backends import open_backend
from dangan.indexing.page_docs import page_docs
from dangan.indexing.search import search
from tests.archive.paper import build_room
from tests.archive.records import make_record
from tests.indexing.conftest import POSTGRES

pytestmark = pytest.mark.database
ON_POSTGRES = bool(os.environ.get("DANGAN_TEST_DB"))


@pytest.fixture
def archive(db):
    with db.session() as s:
        for i in range(6):
            make_record(
                s,
                tag=f"f{i}",
                doc_types=["SQ", "SF", "JQ", "CB"],
                account=f"34014052{i:02d}",
                work_order=f"WO20240000{i:02d}",
            )
    return db


@pytest.fixture(params=["whoosh", "tantivy", POSTGRES])
def backend(request, home, db):
    name = request.param
    b = open_backend(home.index_dir / name, name, database=db.engine)
    yield b
    b.close()


def test_sync_drains_the_outbox_and_check_agrees(archive, backend):
    assert feed.pending(archive) == 24
    assert feed.sync(archive, backend) == 24
    assert feed.pending(archive) == 0 and backend.count() == 24
    assert feed.check(archive, backend).ok


def test_check_names_missing_stale_and_orphaned_pages(archive, backend):
    feed.sync(archive, backend)
    backend.delete(["1"])
    with archive.session() as s:
        page2 = page_docs(s, [2])[0]
    backend.add([replace(page2, text="changed"), replace(page2, page_id="9999"), replace(page2, page_id="p7")])
    steps = []
    result = feed.check(archive, backend, lambda done, total: steps.append((done, total)))
    assert (result.missing, result.stale, result.orphaned) == (["1"], ["2"], ["9999", "p7"])
    assert steps[-1] == (result.pages, result.pages) == (24, 24)  # pages compared of those to compare
    assert result.pages == 24 and not result.ok


def test_a_rebuild_killed_halfway_resumes_where_it_stopped(archive, backend, monkeypatch):
    monkeypatch.setattr(feed, "CHUNK", 5)
    monkeypatch.setattr(feed, "REBUILD_BATCH", 5)
    seen = []

    def crash_after_two_chunks(done, total):
        seen.append(done)
        if len(seen) == 2:
            raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        feed.rebuild(archive, backend, progress=crash_after_two_chunks, resume=False)
    assert backend.count() == 10
    backend.add([replace(_doc(archive, 1), page_id=orphan) for orphan in ("9999", "p7", "012")])
    with archive.session() as s:  # while it was down, a page it had done changed
        s.get(feed.Page, 3).text = "停电期间改过的文字"
    resumed = []
    assert feed.rebuild(archive, backend, progress=lambda d, t: resumed.append(d)) == 24
    assert resumed[0] == 15  # went on from the checkpoint, did not start over
    assert backend.read_checkpoint() is None
    assert backend.count() == 24 and feed.check(archive, backend).stale == ["3"]
    feed.sync(archive, backend)  # the change still waits in the outbox
    assert feed.check(archive, backend).ok and backend.search("停电期间").total == 1


def test_a_search_during_a_rebuild_answers_from_the_index_in_use(archive, backend, monkeypatch):
    feed.sync(archive, backend)
    backend.add([replace(d, page_id="9999") for d in [_doc(archive, 1)]])  # an orphan
    monkeypatch.setattr(feed, "CHUNK", 4)
    monkeypatch.setattr(feed, "REBUILD_BATCH", 4)
    during = []

    def search_now(done, total):
        during.append((done, backend.search("户号", limit=50).total, backend.search("3401405205").total))

    assert feed.rebuild(archive, backend, progress=search_now, resume=False) == 24
    # every page (and the orphan) stayed findable while the rebuild went on; the orphan left at the end
    assert [(total, one) for _done, total, one in during] == [(25, 4)] * len(during)
    assert len(during) == 6 and backend.count() == 24 and feed.check(archive, backend).ok


def test_a_complete_rebuild_that_left_nothing_behind_does_not_list_the_index(archive, backend, monkeypatch):
    def listed():
        raise AssertionError("the index's pages were listed")

    monkeypatch.setattr(backend, "fingerprints", listed)
    assert feed.rebuild(archive, backend, resume=False) == 24
    assert backend.count() == 24


def _doc(db, page_id):
    with db.session() as s:
        return page_docs(s, [page_id])[0]


def test_paper_location_is_searchable_after_shelving(archive, backend):
    with archive.session() as s:
        build_room(s)
        number = make_record(s, tag="shelved", doc_types=["SQ"], account="3401409999", work_order="WO2024009999").number
        shelve(s, number, "B001", actor="keeper")
    feed.sync(archive, backend)
    hits = search(backend, "位置:K01*", tolerant=False)
    assert [g.record_number for g in hits.groups] == [number]


@pytest.mark.skipif(not ON_POSTGRES, reason="needs DANGAN_TEST_DB (PostgreSQL)")
def test_on_postgresql_a_page_is_searchable_at_the_commit_that_accessions_it(db):
    backend = open_backend(None, "postgresql", database=db.engine)
    feed.index_at_commit(db, backend)
    with db.session() as s:
        record = make_record(s, tag="now", doc_types=["SQ", "HT"], account="3401400077", work_order="WO2024007777")
        assert backend.search("3401400077").total == 0  # another connection: not before the commit
    assert backend.search("户号:3401400077").total == 2
    assert feed.pending(db) == 0  # nothing left for a sync: no lag, no index folder
    with pytest.raises(RuntimeError), db.session() as s:
        make_record(s, tag="rolled-back", doc_types=["SQ"], account="3401400088", work_order="WO2024008888")
        raise RuntimeError("the accession fails")
    assert backend.search("3401400088").total == 0
    with db.session() as s:  # a later change (a QA decision) is indexed at its commit too
        page = s.get(feed.Page, int(backend.search("户号:3401400077").hits[0].page_id))
        page.qa_status = "flagged"
        accept_page(s, page, actor="qa", note="readable")
    assert backend.search(f"状态:accepted 档号:{record.number}").total == 1
    assert feed.check(db, backend).ok
    with db.session() as s:
        assert s.query(IndexOutbox).count() == 0


def test_read_ahead_keeps_the_order_raises_the_readers_error_and_stops_with_the_consumer():
    import threading

    assert list(feed.read_ahead(iter(range(50)), depth=2)) == list(range(50))

    def broken():
        yield 1
        raise OSError("disk gone")

    reader = feed.read_ahead(broken())
    assert next(reader) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(reader)

    produced = []

    def endless():
        while True:
            produced.append(len(produced))
            yield produced[-1]

    reader = feed.read_ahead(endless(), depth=2)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()  # the consumer stops: the reader thread ends, having read at most depth + 2 ahead
    assert len(produced) <= 3 + 2 + 2
    assert not [t for t in threading.enumerate() if t.name == "dangan-index-reader"]
