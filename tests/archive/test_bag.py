"""BagIt export → import into a new, empty home: same numbers, checksums and events; the
chain verifies, the store verifies, and search finds the same pages after a rebuild."""

import json

import bagit
import jsonschema
import pytest
from sqlalchemy import select

from dangan.archive.audit.bag import METADATA_SCHEMA, BagError, export_bag, import_bag
from dangan.archive.audit.fixity import verify
from dangan.archive.db import Database
from dangan.archive.events import verify_chain
from dangan.archive.home import DataHome
from dangan.archive.models import ArchiveRecord, Event, Page
from dangan.archive.store import FileStore
from tests.archive.audit import build_faulty

pytestmark = pytest.mark.database


def snapshot(db, upto_seq: int | None = None):
    """Numbers, pages and the event log (up to UPTO_SEQ: the export's own event follows the bag)."""
    with db.session() as s:
        events = select(Event).order_by(Event.seq)
        if upto_seq is not None:
            events = events.where(Event.seq <= upto_seq)
        return {
            "numbers": sorted(s.scalars(select(ArchiveRecord.number))),
            "pages": sorted(s.execute(select(Page.id, Page.master_sha256, Page.derived_sha256, Page.text)).all()),
            "events": [(e.seq, e.type, e.hash) for e in s.scalars(events)],
        }


def search_pages(home, db, query):
    from dangan.indexing import feed
    from dangan.indexing.backends import open_backend
    from dangan.indexing.search import search

    backend = open_backend(home.index_dir, "whoosh")
    try:
        feed.rebuild(db, backend, resume=False)
        return sorted(h.page_id for g in search(backend, query, per_page=200).groups for h in g.hits)
    finally:
        backend.close()


@pytest.fixture
def archive(db, store):
    with db.session() as s:
        return build_faulty(s, store)


def test_round_trip_is_lossless(db, store, home, archive, tmp_path):
    with db.session() as s:
        result = export_bag(s, store, tmp_path / "bag", actor="auditor")
    assert result.records == 9 and result.pages == 23
    bagit.Bag(str(tmp_path / "bag")).validate()  # a valid RFC 8493 bag for any BagIt tool
    schema = json.loads(METADATA_SCHEMA.read_text())
    metas = sorted((tmp_path / "bag" / "data" / "records").glob("*.json"))
    assert len(metas) == 9
    for m in metas:
        jsonschema.validate(json.loads(m.read_text()), schema, format_checker=jsonschema.FormatChecker())
    events_lines = (tmp_path / "bag" / "data" / "events.jsonl").read_text().splitlines()

    new_home = DataHome(root=tmp_path / "restored", db_url=f"sqlite:///{tmp_path / 'restored' / 'dangan.sqlite3'}")
    imported = import_bag(tmp_path / "bag", new_home)
    assert (imported.records, imported.pages, imported.events) == (9, 23, len(events_lines))
    new_db = Database(new_home.db_url)
    try:
        assert snapshot(new_db) == snapshot(db, upto_seq=result.events)
        with new_db.session() as s:
            checked, problems = verify_chain(s)
            assert problems == [] and checked == len(events_lines)
            assert verify(s, FileStore(new_home.store_dir), full=True, record=False).ok
        assert search_pages(new_home, new_db, "移表申请") == search_pages(home, db, "移表申请") != []
        # the restored archive goes on: a new number follows the old ones, the chain extends
        from tests.archive.audit import add_record

        with new_db.session() as s:
            n = add_record(s, FileStore(new_home.store_dir), tag="after", doc_types=["SQ"], work_order=None)
            assert n.serial == 10
            assert verify_chain(s)[1] == []
    finally:
        new_db.dispose()


def test_import_refuses_a_non_empty_home_and_a_selection(db, store, archive, tmp_path):
    with db.session() as s:
        export_bag(s, store, tmp_path / "all")
        part = export_bag(s, store, tmp_path / "part", numbers=[archive["ok"]])
    assert part.records == 1 and part.pages == 3
    lines = [json.loads(x) for x in (tmp_path / "part" / "data" / "events.jsonl").read_text().splitlines()]
    assert {e["object_id"] for e in lines if e["object_type"] == "record"} == {archive["ok"]}
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("x")
    with pytest.raises(BagError, match="not empty"):
        import_bag(tmp_path / "all", DataHome(root=busy, db_url=f"sqlite:///{busy / 'd.sqlite3'}"))
    with pytest.raises(BagError, match="whole-archive"):
        import_bag(tmp_path / "part", DataHome(root=tmp_path / "n", db_url=f"sqlite:///{tmp_path / 'n' / 'd.sqlite3'}"))


def test_a_tampered_bag_or_a_damaged_store_is_refused(db, store, archive, tmp_path):
    with db.session() as s:
        export_bag(s, store, tmp_path / "bag")
    victim = next((tmp_path / "bag" / "data" / "store" / "masters").rglob("*.png"))
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")
    with pytest.raises(BagError, match="not valid"):
        import_bag(tmp_path / "bag", DataHome(root=tmp_path / "n", db_url=f"sqlite:///{tmp_path / 'n' / 'd.sqlite3'}"))
    assert not (tmp_path / "n").exists()  # refused before touching the new home
    with db.session() as s:
        rel = s.scalar(select(Page.master_path).order_by(Page.id))
    p = store.root / rel
    p.chmod(0o644)
    p.write_bytes(p.read_bytes()[:-1] + b"\x01")
    with db.session() as s, pytest.raises(BagError, match="differ from their recorded SHA-256"):
        export_bag(s, store, tmp_path / "bag2")
    assert not (tmp_path / "bag2").exists()
