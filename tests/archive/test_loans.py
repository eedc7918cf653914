"""借阅 of paper folders: due dates, page counts back in, overdue list."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from dangan.archive.models import Event
from dangan.archive.paper.loans import LoanError, lend, overdue_loans, return_loan
from dangan.archive.paper.locations import get_folder, shelve
from tests.archive.paper import build_room
from tests.archive.records import make_record

pytestmark = pytest.mark.database


def test_lend_return_with_page_mismatch_and_overdue(db):
    with db.session() as s:
        build_room(s)
        number = make_record(s, tag="a", doc_types=["SQ", "SF", "JQ"]).number
        shelve(s, number, "B001", actor="keeper")
        loan = lend(s, number, borrower="李四", department="计量", purpose="核对表号", actor="keeper")
        assert loan.due_on == date.today() + timedelta(days=14) and loan.pages_out == 3
        assert get_folder(s, number).state == "on_loan"
        with pytest.raises(LoanError, match="is on_loan \\(lent to 李四"):
            lend(s, number, borrower="王五", actor="keeper")
        assert overdue_loans(s) == []
        assert [x.id for x in overdue_loans(s, today=date.today() + timedelta(days=15))] == [loan.id]
    with db.session() as s:
        loan = return_loan(s, number, pages_counted=2, actor="keeper", note="one page short")
        assert loan.pages_back == 2 and "page count 2, scanned 3" in loan.return_note
        assert get_folder(s, number).state == "in_place"
        returned = s.scalars(select(Event).filter_by(type="loan returned")).one()
        assert returned.detail["page_mismatch"] is True
        with pytest.raises(LoanError, match="is not on loan"):
            return_loan(s, number, pages_counted=3, actor="keeper")


def test_an_unshelved_folder_cannot_be_lent(db):
    with db.session() as s:
        number = make_record(s, tag="a", doc_types=["SQ"]).number
        with pytest.raises(LoanError, match="shelve it first"):
            lend(s, number, borrower="李四", actor="keeper")
