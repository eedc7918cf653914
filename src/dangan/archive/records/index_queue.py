"""Every change to what the search index shows queues the pages it touches, in its own
transaction. Nobody writes the index outbox by hand: a flush listener on every Session
maps each new, changed or deleted row to the pages whose index document it changes.

What the index shows of a page (indexing/schema.py IndexDoc) and where it comes from:

    page          text, position, QA status; blank and superseded pages are not indexed
    document      type, date
    record        number, status (only active records are indexed), customer, case
    classification business type, retention
    customer      name, address; every 户号 it has had (account_alias)
    case          work order, business type, date accepted; linked by case_link
    paper         folder_record → folder → box → shelf → … → room (the location path)

A page is queued `upsert` (the indexer reads it again and indexes it, or drops it when it
is no longer indexable) or `delete` (a superseded page, a record voided or disposed).
`queued_pages(session)` tells the app layer, after a commit, that the index must follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from dangan.archive.models import (
    AccountAlias,
    ArchiveRecord,
    Box,
    BusinessCase,
    CaseLink,
    Classification,
    Customer,
    Disposal,
    Document,
    Folder,
    FolderRecord,
    IndexOutbox,
    Location,
    Page,
)

UPSERT, DELETE = "upsert", "delete"
_PENDING = "dangan.index_pending"  # page id → op, found by the last flush, not yet queued
_QUEUED = "dangan.index_queued"  # (page id, op) queued in this transaction
_COMMITTED = "dangan.index_committed"  # pages queued by transactions this session committed

# The columns of each table that an index document reads (a change elsewhere changes nothing).
WATCHED: dict[type, tuple[str, ...]] = {
    Page: ("text", "seq", "qa_status", "is_blank", "superseded_by_id", "document_id", "record_id"),
    Document: ("doc_type", "dated", "record_id"),
    ArchiveRecord: ("number", "status", "customer_id", "case_id"),
    Classification: ("business_type", "retention", "valid_to", "record_id"),
    Customer: ("name", "address", "account_number"),
    AccountAlias: ("customer_id", "account_number"),
    BusinessCase: ("work_order", "business_type", "accepted_on"),
    CaseLink: ("case_id", "record_id"),
    Disposal: ("record_id",),
    FolderRecord: ("folder_id", "record_id"),
    Folder: ("box_id",),
    Box: ("shelf_id", "code"),
    Location: ("code", "parent_id"),
}


@dataclass
class _Touched:
    pages: dict[int, str] = field(default_factory=dict)
    documents: set[int] = field(default_factory=set)
    records: set[int] = field(default_factory=set)
    customers: set[int] = field(default_factory=set)
    cases: set[int] = field(default_factory=set)
    folders: set[int] = field(default_factory=set)
    boxes: set[int] = field(default_factory=set)
    locations: set[int] = field(default_factory=set)


def _values(obj, name: str) -> set:
    """The attribute's value now and before this flush (both owners of a moved row matter)."""
    hist = inspect(obj).attrs[name].history
    values = {*hist.added, *hist.deleted, *hist.unchanged} if hist.has_changes() else {getattr(obj, name)}
    return {v for v in values if v is not None}


def _changed(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in WATCHED[type(obj)])


def _touch(t: _Touched, obj, deleted: bool) -> None:
    kind = type(obj)
    if kind is Page:
        t.pages[obj.id] = DELETE if deleted or obj.superseded_by_id is not None else UPSERT
    elif kind is Document:
        t.documents.add(obj.id)
    elif kind is ArchiveRecord:
        t.records.add(obj.id)
    elif kind in (Classification, CaseLink, Disposal, FolderRecord):
        t.records |= _values(obj, "record_id")
        if kind is FolderRecord:
            t.folders |= _values(obj, "folder_id")
    elif kind is Customer:
        t.customers.add(obj.id)
    elif kind is AccountAlias:
        t.customers |= _values(obj, "customer_id")
    elif kind is BusinessCase:
        t.cases.add(obj.id)
    elif kind is Folder:
        t.folders.add(obj.id)
    elif kind is Box:
        t.boxes.add(obj.id)
    elif kind is Location:
        t.locations.add(obj.id)


_NO_PAGES_YET = (Document, ArchiveRecord, Customer, BusinessCase, Folder, Box, Location)


def _collect(session: Session, _flush_context) -> None:
    """after_flush: the flushed rows (ids assigned, history still there) → pages."""
    t = _Touched()
    for obj in session.new:
        # a new document, record, customer or case has no pages yet; a blank page is never indexed
        if type(obj) in WATCHED and type(obj) not in _NO_PAGES_YET and not (type(obj) is Page and obj.is_blank):
            _touch(t, obj, False)
    for obj in session.dirty:
        if type(obj) in WATCHED and _changed(obj):
            _touch(t, obj, False)
    for obj in session.deleted:
        if type(obj) in WATCHED:
            _touch(t, obj, True)
    pages = _resolve(session, t)
    if pages:
        session.info.setdefault(_PENDING, {}).update(pages)


def _in(column, ids: Iterable[int]):
    return column.in_(sorted(ids))


def _resolve(session: Session, t: _Touched) -> dict[int, str]:
    """The pages behind every touched row, read in the flush's own transaction."""
    locations = set(t.locations)
    frontier = set(locations)
    while frontier:  # a location's whole subtree: its boxes move with it
        frontier = set(session.scalars(select(Location.id).where(_in(Location.parent_id, frontier)))) - locations
        locations |= frontier
    boxes = set(t.boxes)
    if locations:
        boxes |= set(session.scalars(select(Box.id).where(_in(Box.shelf_id, locations))))
    folders = set(t.folders)
    if boxes:
        folders |= set(session.scalars(select(Folder.id).where(_in(Folder.box_id, boxes))))
    records = set(t.records)
    if folders:
        records |= set(session.scalars(select(FolderRecord.record_id).where(_in(FolderRecord.folder_id, folders))))
    if t.customers:
        records |= set(session.scalars(select(ArchiveRecord.id).where(_in(ArchiveRecord.customer_id, t.customers))))
    if t.cases:
        records |= set(session.scalars(select(ArchiveRecord.id).where(_in(ArchiveRecord.case_id, t.cases))))
    pages = dict(t.pages)
    current = (Page.superseded_by_id.is_(None), Page.is_blank.is_(False))
    q = select(Page.id, ArchiveRecord.status).join(ArchiveRecord, ArchiveRecord.id == Page.record_id).where(*current)
    if records:
        for page_id, status in session.execute(q.where(_in(Page.record_id, records))):
            pages.setdefault(page_id, UPSERT if status == "active" else DELETE)
    if t.documents:
        for page_id, status in session.execute(q.where(_in(Page.document_id, t.documents))):
            pages.setdefault(page_id, UPSERT if status == "active" else DELETE)
    return pages


def _queue(session: Session, _flush_context) -> None:
    """after_flush_postexec: the pages found become outbox rows, written by the next flush
    (the one commit makes), so they commit or roll back with the change."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    queued = session.info.setdefault(_QUEUED, set())
    for page_id, op in sorted(pending.items()):
        if (page_id, op) not in queued:
            queued.add((page_id, op))
            session.add(IndexOutbox(page_id=page_id, op=op))


def _committed(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.info[_COMMITTED] = session.info.get(_COMMITTED, 0) + len(queued)


def _rolled_back(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING, None)
    if not previous_transaction.nested:  # a savepoint undone leaves the rows queued before it
        session.info.pop(_QUEUED, None)


def queued_pages(session: Session) -> int:
    """How many page updates this session's committed transactions queued for the index."""
    return session.info.get(_COMMITTED, 0)


event.listen(Session, "after_flush", _collect)
event.listen(Session, "after_flush_postexec", _queue)
event.listen(Session, "after_commit", _committed)
event.listen(Session, "after_soft_rollback", _rolled_back)

__all__ = ["DELETE", "UPSERT", "WATCHED", "queued_pages"]
