"""What counts as a page of the customer's paper, in one place: loans, reconciliation, `show`
and scan results count the same pages.

A page of the paper is a current page image (not replaced by a rescan) that carries
something: our cover sheets are not the customer's paper, and a blank page (the empty back
of a sheet scanned on both sides, an empty separator) is nothing a person counts when the
folder comes back from a loan. Both stay stored as images; they are only not counted. Nor is
a page of an electronic original (a born-digital PDF or an OFD): it never was paper.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dangan.archive.models import Document, Page

CURRENT = Page.superseded_by_id.is_(None)
ON_PAPER = Page.document_id.not_in(select(Document.id).where(Document.origin == "electronic"))
PAPER_PAGE = (CURRENT, Page.is_cover.is_(False), Page.is_blank.is_(False), ON_PAPER)


def is_paper_page(page: Page) -> bool:
    return (
        page.superseded_by_id is None
        and not page.is_cover
        and not page.is_blank
        and page.document.origin != "electronic"
    )


def is_cover_fields(fields: dict | None) -> bool:
    """Does a page's field proposals say it is one of our cover sheets (scanning.covers)?"""
    prop = (fields or {}).get("cover")
    return isinstance(prop, dict) and bool(prop.get("value"))


def paper_page_count(session: Session, record_ids: Iterable[int]) -> int:
    ids = sorted(set(record_ids))
    if not ids:
        return 0
    return session.scalar(select(func.count(Page.id)).where(Page.record_id.in_(ids), *PAPER_PAGE)) or 0


__all__ = ["CURRENT", "ON_PAPER", "PAPER_PAGE", "is_cover_fields", "is_paper_page", "paper_page_count"]
