"""The QA queue: pages the pipeline flagged for a person to look at.

A flagged page is either accepted as it is (with a note) or rescanned. A rescan replaces
the page in its document at the same position; the old page and its master stay in the
archive, marked superseded, never deleted (DA/T 31: fix missed or bad scans, keep evidence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.models import ArchiveRecord, IndexOutbox, Page
from dangan.archive.records.accession import IntakePage, page_row
from dangan.archive.records.views import find_record, page_by_id
from dangan.errors import DanganError, NotFound


class QaError(DanganError):
    pass


_PAGE_REF = re.compile(r"^(?P<number>.+?)[/#]p?(?P<seq>\d+)$")


def find_page(session: Session, ref: str) -> Page:
    """A current page by id (`417`) or by record and position (`GD01-KH·2026-0000014/3`)."""
    ref = ref.strip()
    if re.fullmatch(r"-?\d+", ref):
        page = page_by_id(session, int(ref))
        if page is None:
            raise NotFound(f"no page with id {ref}")
        return page
    m = _PAGE_REF.match(ref)
    if not m:
        raise QaError(f"{ref!r}: give a page id or ARCHIVE-NUMBER/PAGE, e.g. GD01-KH·2026-0000014/3")
    record = find_record(session, m["number"])
    page = session.scalar(select(Page).filter_by(record_id=record.id, seq=int(m["seq"]), superseded_by_id=None))
    if page is None:
        raise NotFound(f"{record.number} has no page {m['seq']}")
    return page


@dataclass(frozen=True)
class QueueItem:
    page_id: int
    record: str
    seq: int
    flags: list[dict[str, Any]]
    confidence: float | None
    image: str


def qa_queue(session: Session, status: str = "flagged", limit: int = 200) -> list[QueueItem]:
    rows = session.execute(
        select(Page, ArchiveRecord.number)
        .join(ArchiveRecord, ArchiveRecord.id == Page.record_id)
        .where(Page.qa_status == status, Page.superseded_by_id.is_(None))
        .order_by(Page.id)
        .limit(limit)
    ).all()
    return [QueueItem(p.id, number, p.seq, p.flags, p.ocr_confidence, p.derived_path) for p, number in rows]


def accept_page(session: Session, page: Page, *, actor: str, note: str) -> None:
    if page.superseded_by_id is not None:
        raise QaError(f"page {page.id} was replaced by a rescan; look at page {page.superseded_by_id}")
    if not note.strip():
        raise QaError("say why the page is acceptable as it is (--note)")
    page.qa_status = "accepted"
    events.record_event(
        session,
        "validation",
        actor,
        "page",
        page.id,
        {"outcome": "accepted", "note": note, "flags": [f["code"] for f in page.flags]},
    )
    session.add(IndexOutbox(page_id=page.id, op="upsert"))  # qa status is searchable


def replace_page(session: Session, old: Page, new: IntakePage, *, actor: str, reason: str) -> Page:
    """Put a rescanned page in place of OLD: same record, document and position."""
    if old.superseded_by_id is not None:
        raise QaError(f"page {old.id} was already replaced by page {old.superseded_by_id}")
    new = replace(new, source_page=old.source_page)
    page = page_row(new, old.record_id, old.document_id, old.seq, old.source_id)
    session.add(page)
    session.flush()
    old.superseded_by_id = page.id
    old.qa_status = "rescanned"
    number = session.get(ArchiveRecord, old.record_id).number
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
        },
    )
    session.add(IndexOutbox(page_id=old.id, op="delete"))
    if not new.is_blank:
        session.add(IndexOutbox(page_id=page.id, op="upsert"))
    session.flush()
    return page
