"""盘点 of one box: what the hand scanner read against what the archive expects."""

from datetime import date

import pytest
from sqlalchemy import select

from dangan.archive.models import Event
from dangan.archive.paper.loans import lend
from dangan.archive.paper.locations import get_folder, shelve
from dangan.archive.paper.stocktake import stocktake
from tests.archive.paper import build_room
from tests.archive.records import make_record

pytestmark = pytest.mark.database


def test_one_misplaced_one_missing_one_unexpected_and_one_on_loan(db):
    with db.session() as s:
        build_room(s)
        n = [make_record(s, tag=f"r{i}", doc_types=["SQ"], work_order=f"W{i}").number for i in range(5)]
        for number in n[:4]:
            shelve(s, number, "B001", actor="keeper")
        shelve(s, n[4], "B002", actor="keeper")  # belongs in the other box
        lend(s, n[3], borrower="李四", actor="keeper", due_on=date(2024, 1, 15), today=date(2024, 1, 1))
    scanned = ["B001", n[0], n[1], f"  {n[1]}  ", "", n[4], "UNKNOWN-42"]  # n[2] is not there
    with db.session() as s:
        report = stocktake(s, "B001", scanned, actor="keeper", today=date(2024, 2, 1))
    assert report.in_place == [n[0], n[1]]
    assert report.misplaced == [
        {"code": n[4], "belongs_in": "B002", "path": ["K01", "K01-C", "K01-C-01", "K01-C-01-1", "B002"]}
    ]
    assert [u["code"] for u in report.unexpected] == ["UNKNOWN-42"]
    assert report.missing == [n[2]]
    assert report.on_loan == [
        {"code": n[3], "borrower": "李四", "due_on": "2024-01-15", "overdue": True, "found": False}
    ]
    with db.session() as s:
        assert get_folder(s, n[2]).state == "missing"
        assert get_folder(s, n[4]).state == "misplaced"
        event = s.scalars(select(Event).filter_by(type="stock-take")).one()
        assert event.detail["missing"] == [n[2]] and event.seq == report.event_seq
    with db.session() as s:  # the missing folder turns up in the next count: back in place
        report = stocktake(s, "B001", [n[0], n[1], n[2]], actor="keeper")
        assert report.missing == [] and get_folder(s, n[2]).state == "in_place"
