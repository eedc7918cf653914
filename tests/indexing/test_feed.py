"""The index is fed from the database: outbox drained, rebuilt in resumable chunks, checked."""

from dataclasses import replace

import pytest

from dangan.archive.paper.locations import shelve
from dangan.indexing import feed
from dangan.indexing.backends import open_backend
from dangan.indexing.search import search
from tests.archive.paper import build_room
from tests.archive.records import make_record

pytestmark = pytest.mark.database


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


@pytest.fixture
def backend(home):
    b = open_backend(home.index_dir, "whoosh")
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
        page2 = feed._docs_for(s, [2])[0]
    backend.add([replace(page2, text="changed"), replace(page2, page_id="9999")])
    result = feed.check(archive, backend)
    assert (result.missing, result.stale, result.orphaned) == (["1"], ["2"], ["9999"])


def test_a_rebuild_killed_halfway_resumes_where_it_stopped(archive, backend, monkeypatch):
    monkeypatch.setattr(feed, "CHUNK", 5)
    seen = []

    def crash_after_two_chunks(done, total):
        seen.append(done)
        if len(seen) == 2:
            raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        feed.rebuild(archive, backend, progress=crash_after_two_chunks, resume=False)
    assert backend.count() == 10
    resumed = []
    assert feed.rebuild(archive, backend, progress=lambda d, t: resumed.append(d)) == 24
    assert resumed[0] == 15  # went on from the checkpoint, did not start over
    assert backend.count() == 24 and feed.check(archive, backend).ok


def test_paper_location_is_searchable_after_shelving(archive, backend):
    with archive.session() as s:
        build_room(s)
        number = make_record(s, tag="shelved", doc_types=["SQ"], account="3401409999", work_order="WO2024009999").number
        shelve(s, number, "B001", actor="keeper")
    feed.sync(archive, backend)
    hits = search(backend, "位置:K01*", tolerant=False)
    assert [g.record_number for g in hits.groups] == [number]
