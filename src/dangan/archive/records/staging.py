"""The batch journal: pages staged one by one as OCR finishes, accessioned per folder.

Staging commits each page as soon as it is done, so a crash or Ctrl-C mid-folder costs
only the pages in flight: a rerun asks `staged_numbers` what is already done.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dangan.archive.models import StagedPage
from dangan.archive.records.accession import IntakePage


@dataclass(frozen=True)
class StagedSummary:
    """What splitting and case-linking need of a page, without its text and word boxes."""

    page_no: int
    doc_type: str | None
    doc_type_score: float
    title: str
    is_blank: bool
    fields: dict
    flags: list
    origin: str = "paper"

    @property
    def needs_review(self) -> bool:
        return bool(self.flags)


def stage_page(session: Session, source_sha256: str, page: IntakePage) -> None:
    session.merge(
        StagedPage(
            source_sha256=source_sha256,
            page_no=page.source_page,
            doc_type=page.doc_type,
            doc_type_score=page.doc_type_score,
            title=page.title,
            is_blank=page.is_blank,
            fields=page.fields,
            flags=page.flags,
            origin=page.origin,
            payload=asdict(page),
        )
    )


def staged_numbers(session: Session, source_sha256: str) -> set[int]:
    return set(session.scalars(select(StagedPage.page_no).filter_by(source_sha256=source_sha256)))


def staged_summaries(session: Session, source_sha256: str) -> list[StagedSummary]:
    rows = session.execute(
        select(
            StagedPage.page_no,
            StagedPage.doc_type,
            StagedPage.doc_type_score,
            StagedPage.title,
            StagedPage.is_blank,
            StagedPage.fields,
            StagedPage.flags,
            StagedPage.origin,
        )
        .filter_by(source_sha256=source_sha256)
        .order_by(StagedPage.page_no)
    ).all()
    return [StagedSummary(*r) for r in rows]


def staged_pages(session: Session, source_sha256: str, chunk: int = 20) -> Iterator[IntakePage]:
    """The staged pages in order, read a few at a time."""
    after = 0
    while True:
        rows = session.scalars(
            select(StagedPage)
            .filter_by(source_sha256=source_sha256)
            .where(StagedPage.page_no > after)
            .order_by(StagedPage.page_no)
            .limit(chunk)
        ).all()
        if not rows:
            return
        for r in rows:
            yield IntakePage(**r.payload)
            session.expunge(r)
        after = rows[-1].page_no


def clear_staged(session: Session, source_sha256: str) -> None:
    session.execute(delete(StagedPage).filter_by(source_sha256=source_sha256))
