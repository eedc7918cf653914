"""借阅: lending paper folders. Electronic viewing comes first (logged by archive.views as
an 'access' event); when the paper itself must go out, it goes to a named person with a
due date, and its pages are counted back in against the scanned page count."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.models import Loan, utcnow
from dangan.archive.paper.locations import LocationError, get_folder, scanned_page_count, set_folder_state
from dangan.errors import DanganError
from dangan.i18n import _

LOAN_ISSUED = "loan issued"
LOAN_RETURNED = "loan returned"
DEFAULT_DAYS = 14  # typical 借阅 term in archive rules: two weeks


class LoanError(DanganError, ValueError):
    """A folder cannot be lent or taken back; the message says why."""


def lend(
    session: Session,
    folder_key: str,
    *,
    borrower: str,
    actor: str,
    due_on: date | None = None,
    days: int = DEFAULT_DAYS,
    department: str = "",
    purpose: str = "",
    approver: str = "",
    today: date | None = None,
) -> Loan:
    """Lend the folder (code or archive number) to BORROWER until DUE_ON (default: in 14 days)."""
    if not borrower.strip():
        raise LoanError(_("a loan needs the borrower's name"))
    today = today or date.today()
    due_on = due_on or today + timedelta(days=days)
    if due_on < today:
        raise LoanError(_("due date {due_on} is in the past").format(due_on=due_on))
    try:
        folder = get_folder(session, folder_key, lock=True)
    except LocationError as e:
        raise LoanError(str(e)) from None
    if folder.state != "in_place":
        open_loan = _open_loan(session, folder.id)
        who = f" (lent to {open_loan.borrower}, due {open_loan.due_on})" if open_loan else ""
        raise LoanError(
            _("folder {code} is {state}{who}; only a folder in place can be lent").format(
                code=folder.code, state=folder.state, who=who
            )
        )
    pages = scanned_page_count(session, folder)
    loan = Loan(
        folder_id=folder.id,
        borrower=borrower,
        department=department,
        purpose=purpose,
        approver=approver,
        issued_by=actor,
        due_on=due_on,
        pages_out=pages,
    )
    session.add(loan)
    session.flush()
    set_folder_state(session, folder, "on_loan", actor=actor, reason=f"loan #{loan.id} to {borrower}")
    events.record_event(
        session,
        LOAN_ISSUED,
        actor,
        "folder",
        folder.code,
        {
            "loan": loan.id,
            "borrower": borrower,
            "department": department,
            "purpose": purpose,
            "approver": approver,
            "due_on": due_on,
            "pages": pages,
            "records": [r.number for r in folder.records],
        },
    )
    return loan


def return_loan(session: Session, folder_key: str, *, pages_counted: int, actor: str, note: str = "") -> Loan:
    """Take the folder back; PAGES_COUNTED is what the receiver counted. A difference from
    the scanned page count is recorded on the loan and in the event, not hidden."""
    if pages_counted < 0:
        raise LoanError(_("the page count cannot be negative"))
    try:
        folder = get_folder(session, folder_key, lock=True)
    except LocationError as e:
        raise LoanError(str(e)) from None
    loan = _open_loan(session, folder.id)
    if loan is None:
        raise LoanError(_("folder {code} is not on loan").format(code=folder.code))
    expected = scanned_page_count(session, folder)
    mismatch = pages_counted != expected
    loan.returned_at, loan.returned_to, loan.pages_back = utcnow(), actor, pages_counted
    loan.return_note = note + (f" [page count {pages_counted}, scanned {expected}]" if mismatch else "")
    session.flush()
    set_folder_state(session, folder, "in_place", actor=actor, reason=f"loan #{loan.id} returned")
    events.record_event(
        session,
        LOAN_RETURNED,
        actor,
        "folder",
        folder.code,
        {
            "loan": loan.id,
            "borrower": loan.borrower,
            "pages_counted": pages_counted,
            "pages_scanned": expected,
            "page_mismatch": mismatch,
            "note": note,
            "overdue_days": max(0, (date.today() - loan.due_on).days),
        },
    )
    return loan


def open_loans(session: Session) -> list[Loan]:
    return list(session.scalars(select(Loan).filter_by(returned_at=None).order_by(Loan.due_on, Loan.id)))


def overdue_loans(session: Session, today: date | None = None) -> list[Loan]:
    today = today or date.today()
    return [loan for loan in open_loans(session) if loan.due_on < today]


def loan_view(loan: Loan, today: date | None = None) -> dict[str, Any]:
    today = today or date.today()
    return {
        "id": loan.id,
        "folder": loan.folder.code,
        "records": [r.number for r in loan.folder.records],
        "borrower": loan.borrower,
        "department": loan.department,
        "purpose": loan.purpose,
        "issued_at": loan.issued_at,
        "due_on": loan.due_on,
        "returned_at": loan.returned_at,
        "pages_out": loan.pages_out,
        "pages_back": loan.pages_back,
        "page_mismatch": loan.pages_back is not None and loan.pages_back != loan.pages_out,
        "overdue_days": max(0, (today - loan.due_on).days) if loan.returned_at is None else 0,
    }


def _open_loan(session: Session, folder_id: int) -> Loan | None:
    return session.scalar(select(Loan).filter_by(folder_id=folder_id, returned_at=None))
