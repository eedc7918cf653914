import pytest
from sqlalchemy import text

from dangan.archive import events

pytestmark = pytest.mark.database


def _write(db, n=5):
    with db.session() as s:
        for i in range(n):
            events.record_event(s, events.INGESTION, "tester", "page", i, {"n": i, "名": "王"})


def test_an_untouched_chain_verifies(db):
    _write(db)
    with db.session() as s:
        checked, problems = events.verify_chain(s)
    assert checked == 5 and problems == []


def test_an_edited_row_is_named(db):
    _write(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE event SET actor = 'mallory' WHERE seq = 3"))
    with db.session() as s:
        _, problems = events.verify_chain(s)
    assert [p.seq for p in problems] == [3]
    assert "altered" in problems[0].problem


def test_a_deleted_row_is_found(db):
    _write(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM event WHERE seq = 2"))
    with db.session() as s:
        _, problems = events.verify_chain(s)
    assert problems and problems[0].seq == 3


def test_removing_the_newest_events_is_found(db):
    _write(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM event WHERE seq = 5"))
    with db.session() as s:
        _, problems = events.verify_chain(s)
    assert any("newest events were removed" in p.problem for p in problems)
