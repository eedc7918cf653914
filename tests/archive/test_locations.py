"""Shelving: every folder has a place, every record knows its folder, paper states are checked."""

import pytest
from sqlalchemy import select

from dangan.archive.models import Event, IndexOutbox
from dangan.archive.paper.locations import (
    LocationError,
    PaperStateError,
    add_location,
    add_record_to_folder,
    get_folder,
    location_tree,
    mark_born_digital,
    set_folder_state,
    shelve,
    unshelved_records,
    where_is,
)
from tests.archive.paper import build_room
from tests.archive.records import make_record

pytestmark = pytest.mark.database


def test_shelving_a_record_creates_its_folder_and_both_know_each_other(db):
    with db.session() as s:
        build_room(s)
        number = make_record(s, tag="a", doc_types=["SQ", "SF"]).number
        supplement = make_record(s, tag="b", doc_types=["CB"]).number
        s.query(IndexOutbox).delete()
    with db.session() as s:
        folder = shelve(s, number, "B001", actor="keeper")
        add_record_to_folder(s, supplement, number, actor="keeper")
    with db.session() as s:
        assert where_is(s, number) == {
            "number": number,
            "born_digital": False,
            "folder": number,
            "state": "in_place",
            "box": "B001",
            "path": ["K01", "K01-C", "K01-C-01", "K01-C-01-1", "B001"],
        }
        folder = get_folder(s, supplement)
        assert [r.number for r in folder.records] == [number, supplement]
        assert all(r.folder.code == number for r in folder.records)
        assert s.query(IndexOutbox).count() == 3  # shelf location is a search field
        moves = [e.detail.get("action") for e in s.scalars(select(Event).filter_by(type="location change"))]
        assert "folder created and shelved" in moves and "record filed" in moves
        tree = location_tree(s)
        box = tree[0]["children"][0]["children"][0]["children"][0]["children"][0]
        assert box["code"] == "B001" and box["children"][0]["records"] == [number, supplement]


def test_the_tree_refuses_wrong_nesting_and_duplicate_codes(db):
    with db.session() as s:
        build_room(s)
        with pytest.raises(LocationError, match="a shelf belongs in a rack or cabinet; got zone K01-C"):
            add_location(s, "X1", "shelf", parent="K01-C", actor="k")
        with pytest.raises(LocationError, match="already used"):
            add_location(s, "B001", "box", parent="K01-C-01-1", actor="k")
        with pytest.raises(LocationError, match="a box stands on a shelf"):
            add_location(s, "B9", "box", parent="K01", actor="k")


def test_paper_state_transitions_are_checked(db):
    with db.session() as s:
        build_room(s)
        number = make_record(s, tag="a", doc_types=["SQ"]).number
        folder = shelve(s, number, "B001", actor="k")
        set_folder_state(s, folder, "destroyed", actor="k", reason="test")
        with pytest.raises(PaperStateError, match="is destroyed; it cannot become in_place"):
            set_folder_state(s, folder, "in_place", actor="k")
        with pytest.raises(PaperStateError, match="it no longer exists"):
            shelve(s, number, "B002", actor="k")


def test_born_digital_is_explicit_and_has_no_paper(db):
    with db.session() as s:
        build_room(s)
        paper = make_record(s, tag="a", doc_types=["SQ"], work_order="W1").number
        digital = make_record(s, tag="b", doc_types=["SQ"], work_order="W2").number
        assert unshelved_records(s) == sorted([paper, digital])
        mark_born_digital(s, digital, actor="k", reason="submitted online, no paper")
        assert unshelved_records(s) == [paper]
        with pytest.raises(LocationError, match="born digital"):
            shelve(s, digital, "B001", actor="k")


def test_a_box_moves_to_another_shelf(db):
    with db.session() as s:
        build_room(s)
        add_location(s, "K01-C-01-2", "shelf", parent="K01-C-01", actor="k")
        number = make_record(s, tag="a", doc_types=["SQ"]).number
        shelve(s, number, "B001", actor="k")
        shelve(s, "B001", "K01-C-01-2", actor="k")
        assert where_is(s, number)["path"][-2:] == ["K01-C-01-2", "B001"]
