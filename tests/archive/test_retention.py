"""Retention from the scheme, appraisal list, disposal with a tombstone."""

from datetime import date

import pytest
from sqlalchemy import select

from dangan.archive.business.scheme import load_scheme
from dangan.archive.models import Disposal, Event
from dangan.archive.paper.locations import get_folder, shelve
from dangan.archive.records.lifecycle import DisposalRefused, close_case, dispose, retention_due, retention_of
from dangan.archive.records.views import find_record
from tests.archive.paper import build_room
from tests.archive.records import make_record

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


def test_temporary_supply_is_due_ten_years_after_the_year_its_case_closed(db, scheme):
    with db.session() as s:
        build_room(s)
        ls = make_record(s, tag="ls", doc_types=["SQ"], business_type="LS", work_order="W1").number
        xz = make_record(s, tag="xz", doc_types=["SQ"], business_type="XZ", work_order="W2").number
        shelve(s, ls, "B001", actor="k")
        assert retention_of(s, find_record(s, ls), scheme).state == "not started"
        close_case(s, "W1", date(2013, 6, 30), actor="clerk")
    with db.session() as s:
        status = retention_of(s, find_record(s, ls), scheme, today=date(2024, 1, 1))
        assert (status.retention, status.trigger, status.due_on, status.state) == (
            "D10",
            "case_closed",
            date(2024, 1, 1),
            "due",
        )
        assert retention_of(s, find_record(s, ls), scheme, today=date(2023, 12, 31)).state == "running"
        assert [x.number for x in retention_due(s, scheme, today=date(2024, 1, 1))] == [ls]
        with pytest.raises(DisposalRefused, match="not due for disposal"):
            dispose(s, xz, reason="r", approved_by="鉴定小组", actor="k", scheme=scheme)
        dispose(
            s,
            ls,
            reason="保管期满，经鉴定销毁",
            approved_by="鉴定小组",
            actor="k",
            scheme=scheme,
            today=date(2024, 1, 1),
        )
    with db.session() as s:
        record = find_record(s, ls)
        assert record.status == "disposed" and record.title and record.documents  # tombstone keeps metadata
        assert s.get(Disposal, record.id).approved_by == "鉴定小组"
        assert get_folder(s, ls).state == "destroyed"
        assert s.scalars(select(Event).filter_by(type="disposal")).one().detail["retention"] == "D10"
        assert retention_due(s, scheme, today=date(2030, 1, 1)) == []


def test_account_closed_trigger_waits_for_the_closing_case(db, scheme):
    with db.session() as s:
        xz = make_record(s, tag="xz", doc_types=["SQ"], business_type="XZ", work_order="W2").number
        make_record(s, tag="xh", doc_types=["SQ"], business_type="XH", work_order="W3")
        assert retention_of(s, find_record(s, xz), scheme).state == "not started"
        close_case(s, "W3", date(1990, 3, 1), actor="clerk")
        status = retention_of(s, find_record(s, xz), scheme, today=date(2024, 1, 1))
        assert (status.trigger_date, status.due_on, status.state) == (date(1990, 3, 1), date(2021, 1, 1), "due")
