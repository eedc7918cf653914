"""What the reports must say, counted straight from the database with queries of their own
(not the reports' code): the consistency tests compare the two after every operation."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from dangan.archive.models import (
    ArchiveRecord,
    BusinessCase,
    Event,
    Folder,
    FolderRecord,
    IndexOutbox,
    Loan,
    NumberCounter,
    Page,
    PageLikeness,
)


def _paper(q):
    return q.where(Page.superseded_by_id.is_(None), Page.is_cover.is_(False), Page.is_blank.is_(False))


def counts(s: Session) -> dict[str, int]:
    return {
        "records": s.scalar(select(func.count(ArchiveRecord.id))),
        "active_records": s.scalar(select(func.count(ArchiveRecord.id)).where(ArchiveRecord.status == "active")),
        "pages": s.scalar(_paper(select(func.count(Page.id)))),
        "business_cases": s.scalar(select(func.count(BusinessCase.id))),
        "folders": s.scalar(select(func.count(Folder.id))),
        "events": s.scalar(select(func.count(Event.id))),
    }


def folder_paper_pages(s: Session) -> dict[int, int]:
    """folder id → pages of the paper of its active records."""
    rows = s.execute(
        _paper(
            select(FolderRecord.folder_id, func.count(Page.id))
            .join(ArchiveRecord, ArchiveRecord.id == FolderRecord.record_id)
            .join(Page, Page.record_id == ArchiveRecord.id)
            .where(ArchiveRecord.status == "active")
            .group_by(FolderRecord.folder_id)
        )
    ).all()
    return dict(rows)


def reconciliation(s: Session) -> dict[str, list[str]]:
    pages = folder_paper_pages(s)
    folders = s.execute(select(Folder.id, Folder.code).where(Folder.state != "destroyed")).all()
    no_folder = select(FolderRecord.record_id)
    scan_only = s.scalars(
        select(ArchiveRecord.number).where(
            ArchiveRecord.status == "active", ArchiveRecord.born_digital.is_(False), ArchiveRecord.id.not_in(no_folder)
        )
    )
    latest: dict[int, Loan] = {}
    for loan in s.scalars(select(Loan).where(Loan.returned_at.is_not(None)).order_by(Loan.id)):
        latest[loan.folder_id] = loan
    code = {i: c for i, c in s.execute(select(Folder.id, Folder.code))}
    return {
        "paper_without_scan": sorted(c for i, c in folders if pages.get(i, 0) == 0),
        "scan_without_paper": sorted(scan_only),
        "page_count_differs": sorted(
            code[f] for f, loan in latest.items() if loan.pages_back is not None and loan.pages_back != pages.get(f, 0)
        ),
    }


def numbering_gaps(s: Session) -> list[tuple]:
    used: dict[tuple, set[int]] = defaultdict(set)
    for fonds, cat, year, serial in s.execute(
        select(ArchiveRecord.fonds, ArchiveRecord.category, ArchiveRecord.year, ArchiveRecord.serial)
    ):
        used[(fonds, cat, year)].add(serial)
    top = {(c.fonds, c.category, c.year): c.next_serial - 1 for c in s.scalars(select(NumberCounter))}
    return sorted(
        (*key, n)
        for key in set(used) | set(top)
        for n in range(1, max([*used[key], top.get(key, 0)]) + 1)
        if n not in used[key]
    )


def likeness_pairs(s: Session) -> int:
    page, like = aliased(Page), aliased(Page)
    r1, r2 = aliased(ArchiveRecord), aliased(ArchiveRecord)
    q = (
        select(func.count(PageLikeness.id))
        .join(page, page.id == PageLikeness.page_id)
        .join(like, like.id == PageLikeness.like_page_id)
        .join(r1, r1.id == page.record_id)
        .join(r2, r2.id == like.record_id)
        .where(page.superseded_by_id.is_(None), like.superseded_by_id.is_(None), r1.status == "active")
        .where(r2.status == "active")
    )
    return s.scalar(q)


def flagged_pages(s: Session) -> int:
    return s.scalar(select(func.count(Page.id)).where(Page.qa_status == "flagged", Page.superseded_by_id.is_(None)))


def outbox(s: Session) -> int:
    return s.scalar(select(func.count(IndexOutbox.id)))
