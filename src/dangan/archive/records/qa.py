"""The QA queue: pages the pipeline flagged for a person to look at.

A flagged page is either accepted as it is (with a note) or rescanned. A rescan replaces
the page in its document at the same position; the old page and its master stay in the
archive, marked superseded, never deleted (DA/T 31: fix missed or bad scans, keep evidence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.models import ArchiveRecord, Document, Page, SourceFile
from dangan.archive.records.accession import IntakePage, page_row
from dangan.archive.records.likeness import find_likenesses, likeness_flag, remember
from dangan.archive.records.page_fields import document_date
from dangan.archive.records.views import find_record, page_by_id
from dangan.errors import DanganError, NotFound
from dangan.i18n import _


class QaError(DanganError):
    pass


_PAGE_REF = re.compile(r"^(?P<number>.+?)[/#]p?(?P<seq>\d+)$")


def find_page(session: Session, ref: str) -> Page:
    """A current page by id (`417`) or by record and position (`GD01-KH·2026-0000014/3`)."""
    ref = ref.strip()
    if re.fullmatch(r"-?\d+", ref):
        page = page_by_id(session, int(ref))
        if page is None:
            raise NotFound(_("no page with id {ref}").format(ref=ref))
        return page
    m = _PAGE_REF.match(ref)
    if not m:
        raise QaError(_("{ref!r}: give a page id or ARCHIVE-NUMBER/PAGE, e.g. GD01-KH·2026-0000014/3").format(ref=ref))
    record = find_record(session, m["number"])
    page = session.scalar(select(Page).filter_by(record_id=record.id, seq=int(m["seq"]), superseded_by_id=None))
    if page is None:
        raise NotFound(_("{number} has no page {m}").format(number=record.number, m=m["seq"]))
    return page


@dataclass(frozen=True)
class QueueItem:
    page_id: int
    record: str
    seq: int
    flags: list[dict[str, Any]]
    confidence: float | None
    image: str
    replaced_by: int | None = None  # a rescanned page: the page that took its place


def qa_queue(session: Session, status: str = "flagged", limit: int = 200) -> list[QueueItem]:
    """Pages by QA status: flagged (waiting for a person), accepted, or rescanned (replaced by
    a new scan; they stay in the archive, superseded)."""
    q = (
        select(Page, ArchiveRecord.number)
        .join(ArchiveRecord, ArchiveRecord.id == Page.record_id)
        .where(Page.qa_status == status)
    )
    if status != "rescanned":
        q = q.where(Page.superseded_by_id.is_(None))
    rows = session.execute(q.order_by(Page.id).limit(limit)).all()
    return [
        QueueItem(p.id, number, p.seq, p.flags, p.ocr_confidence, p.derived_path, p.superseded_by_id)
        for p, number in rows
    ]


def qa_count(session: Session, record_id: int) -> int:
    """Pages of the record waiting in the QA queue."""
    q = select(func.count(Page.id)).where(
        Page.record_id == record_id, Page.qa_status == "flagged", Page.superseded_by_id.is_(None)
    )
    return session.scalar(q) or 0


def accept_page(session: Session, page: Page, *, actor: str, note: str) -> None:
    if page.superseded_by_id is not None:
        raise QaError(
            _("page {id} was replaced by a rescan; look at page {superseded_by_id}").format(
                id=page.id, superseded_by_id=page.superseded_by_id
            )
        )
    if not note.strip():
        raise QaError(_("say why the page is acceptable as it is (--note)"))
    page.qa_status = "accepted"
    events.record_event(
        session,
        "validation",
        actor,
        "page",
        page.id,
        {"outcome": "accepted", "note": note, "flags": [f["code"] for f in page.flags]},
    )


@dataclass(frozen=True)
class RescanSource:
    """The file a rescanned page came from, as the store keeps it."""

    name: str
    sha256: str
    stored_path: str
    size: int
    media_type: str
    page_count: int


def _source_row(session: Session, source: RescanSource, record_id: int) -> SourceFile:
    """The rescan's file as a source of the record (a file already in the archive is reused),
    so every file in the store has a row that refers to it."""
    row = session.scalar(select(SourceFile).filter_by(sha256=source.sha256))
    if row is None:
        row = SourceFile(
            sha256=source.sha256,
            original_name=source.name,
            stored_path=source.stored_path,
            size=source.size,
            media_type=source.media_type,
            page_count=source.page_count,
            record_id=record_id,
        )
        session.add(row)
        session.flush()
    return row


def replace_page(
    session: Session, old: Page, new: IntakePage, *, actor: str, reason: str, source: RescanSource | None = None
) -> Page:
    """Put a rescanned page in place of OLD: same record, document and position. SOURCE is the
    file the new page came from (its page new.source_page); without it the page keeps OLD's."""
    if old.superseded_by_id is not None:
        raise QaError(
            _("page {id} was already replaced by page {superseded_by_id}").format(
                id=old.id, superseded_by_id=old.superseded_by_id
            )
        )
    if source is None:
        source_id = old.source_id
        new = replace(new, source_page=old.source_page)
    else:
        source_id = _source_row(session, source, old.record_id).id
    number = session.get(ArchiveRecord, old.record_id).number
    likes = find_likenesses(
        session,
        sha256=new.master_sha256,
        phash=new.phash,
        text=new.text,
        fields=new.fields,
        blank=new.is_blank,
        exclude_record_id=old.record_id,
    )
    if likes:
        new = replace(new, flags=[*new.flags, likeness_flag(likes, number)])
    page = page_row(new, old.record_id, old.document_id, old.seq, source_id)
    session.add(page)
    session.flush()
    remember(session, page, likes)
    old.superseded_by_id = page.id
    old.qa_status = "rescanned"
    session.flush()
    document = session.get(Document, old.document_id)
    current = select(Page.fields).where(Page.document_id == document.id, Page.superseded_by_id.is_(None))
    document.dated = document_date(session.scalars(current.order_by(Page.seq)))  # the rescan may read it better
    events.record_event(
        session,
        "replacement",
        actor,
        "page",
        page.id,
        {
            "record": number,
            "seq": old.seq,
            "replaces_page": old.id,
            "reason": reason,
            "old_master_sha256": old.master_sha256,
            "master_sha256": new.master_sha256,
            **(
                {"source": source.name, "source_sha256": source.sha256, "source_page": new.source_page}
                if source
                else {}
            ),
        },
    )
    session.flush()
    return page
