"""Reconciliation: paper against electronic, page counts, places, overdue loans."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.audit.reports.base import Report, Section, about, folder_pages
from dangan.archive.business.scheme import ClassificationScheme, load_scheme
from dangan.archive.models import (
    ArchiveRecord,
    Document,
    Folder,
    Loan,
)
from dangan.archive.paper.loans import overdue_loans
from dangan.archive.paper.locations import unshelved_records
from dangan.i18n import N_, _

# --------------------------------------------------------------------------- reconciliation


def reconciliation_report(
    session: Session, *, db_url: str, actor: str, today: date | None = None, scheme: ClassificationScheme | None = None
) -> Report:
    """Paper against electronic: each must have the other, in the same number of pages,
    in a known place."""
    today = today or date.today()
    pages_of = folder_pages(session)
    folders = session.scalars(select(Folder).where(Folder.state != "destroyed").order_by(Folder.code)).all()
    paper_only = [
        {"folder": f.code, "state": f.state, "records": [r.number for r in f.records]}
        for f in folders
        if pages_of.get(f.id, (0, 0))[0] == 0
    ]
    scan_only = [{"record": n} for n in unshelved_records(session)]
    wanted_on_paper = _electronic_where_paper_is_wanted(session, scheme or load_scheme())
    # The models keep no page count for a paper folder; paper is counted when a loan comes back.
    latest: dict[int, Loan] = {}
    for loan in session.scalars(select(Loan).where(Loan.returned_at.is_not(None)).order_by(Loan.id)):
        latest[loan.folder_id] = loan
    mismatches = []
    for folder_id, loan in sorted(latest.items()):
        scanned = pages_of.get(folder_id, (0, 0))[0]
        if loan.pages_back is not None and loan.pages_back != scanned:
            mismatches.append(
                {
                    "folder": loan.folder.code,
                    "paper_pages": loan.pages_back,
                    "scanned_pages": scanned,
                    "counted_on": loan.returned_at,
                    "loan": loan.id,
                }
            )
    unplaced = []
    for f in folders:
        box = f.box
        why = (
            _("not in a box")
            if box is None
            else _("box not on a shelf")
            if box.shelf_id is None
            else _("paper missing")
            if f.state == "missing"
            else _("paper misplaced")
            if f.state == "misplaced"
            else None
        )
        if why:
            unplaced.append({"folder": f.code, "records": [r.number for r in f.records], "problem": why})
    late = [
        {
            "folder": loan.folder.code,
            "borrower": loan.borrower,
            "due_on": loan.due_on,
            "days_overdue": (today - loan.due_on).days,
            "loan": loan.id,
        }
        for loan in overdue_loans(session, today)
    ]
    report = Report(
        "reconciliation",
        _("Paper and electronic reconciliation"),
        about(session, db_url=db_url, actor=actor, scheme=scheme, today=today),
    )
    report.sections += [
        Section(N_("paper without scan"), ["folder", "state", "records"], paper_only),
        Section(N_("scan without paper"), ["record"], scan_only),
        Section(
            N_("electronic original where the scheme wants paper"),
            ["record", "item", "doc_type", "title"],
            wanted_on_paper,
        ),
        Section(N_("page count differs"), ["folder", "paper_pages", "scanned_pages", "counted_on", "loan"], mismatches),
        Section(N_("records without location"), ["folder", "records", "problem"], unplaced),
        Section(N_("folders on overdue loan"), ["folder", "borrower", "due_on", "days_overdue", "loan"], late),
    ]
    report.findings = {
        "paper_without_scan": [r["folder"] for r in paper_only],
        "scan_without_paper": [r["record"] for r in scan_only],
        "electronic_where_paper_is_wanted": [f"{r['record']}/{r['item']}" for r in wanted_on_paper],
        "page_count_differs": [r["folder"] for r in mismatches],
        "without_location": [r["folder"] for r in unplaced],
        "overdue_loans": [r["folder"] for r in late],
    }
    report.problems = sum(len(v) for v in report.findings.values())
    report.notes.append(
        _(
            "Electronic originals (born-digital PDF, OFD) have no paper: paper is demanded for one only when "
            "the scheme does not allow its document type to be born digital; paper page counts leave them out."
        )
    )
    report.notes.append(
        _(
            "The database keeps no page count for a paper folder; paper pages are compared with "
            "the scan where they were counted: the page count taken when a loan came back "
            "(latest return per folder)."
        )
    )
    return report


def _electronic_where_paper_is_wanted(session: Session, scheme: ClassificationScheme) -> list[dict]:
    """Electronic originals of a type the scheme does not allow born digital (or of no type
    yet): the paper is still wanted."""
    rows = session.execute(
        select(ArchiveRecord.number, Document.item_no, Document.doc_type, Document.title)
        .join(Document, Document.record_id == ArchiveRecord.id)
        .where(Document.origin == "electronic", ArchiveRecord.status == "active")
        .order_by(ArchiveRecord.number, Document.item_no)
    ).all()
    allowed = {code for code, t in scheme.document_types.items() if t.born_digital}
    return [
        {
            "record": number,
            "item": item,
            "doc_type": doc_type or "",
            "doc_type_name": scheme.document_types[doc_type].name if doc_type in scheme.document_types else "",
            "title": title,
        }
        for number, item, doc_type, title in rows
        if doc_type not in allowed
    ]
