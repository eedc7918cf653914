"""For auditors: fixity and the four properties (四性), the event log and its chain, and the
BagIt round trip (export, and import into an empty data home with the index rebuilt)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import and_, false, func, or_, select

from dangan.app.archive import Archive
from dangan.app.index import rebuild_index
from dangan.app.records import event_row, masking
from dangan.archive import events as ev
from dangan.archive import spreadsheet
from dangan.archive.audit import bag, fixity
from dangan.archive.models import ArchiveRecord, Event, Page
from dangan.archive.users import User
from dangan.scanning.ofd_check import OfdCheck, check_ofda

Progress = Callable[[int, int], None]


def verify(archive: Archive, *, full: bool = False, progress: Progress | None = None) -> fixity.FixityResult:
    """Every stored file present (with --full: its SHA-256 recomputed), nothing unexpected in the
    store, the event chain intact; stored as a 'fixity check' event."""
    with archive.session() as s:
        return fixity.verify(s, archive.store, full=full, actor=archive.actor, progress=progress)


def check_four(archive: Archive, *, progress: Progress | None = None) -> fixity.FourPropertiesResult:
    """四性检测 (DA/T 70-2018) in one pass, stored as a 'fixity check' event."""
    with archive.session() as s:
        return fixity.check_four_properties(s, archive.store, actor=archive.actor, progress=progress)


def check_ofd(path: str | os.PathLike) -> OfdCheck:
    """An OFD file (an export of ours, or one received) against the archival profile, in the
    four properties; the file is only read."""
    return check_ofda(path)


def verify_chain(archive: Archive) -> dict[str, Any]:
    with archive.session() as s:
        checked, problems = ev.verify_chain(s)
    return {
        "checked": checked,
        "ok": not problems,
        "problems": [{"seq": p.seq, "problem": p.problem} for p in problems],
    }


def event_log(
    archive: Archive,
    *,
    page: int = 1,
    per_page: int = 100,
    type_: str = "",
    actor: str = "",
    object_id: str = "",
    record: str = "",
    viewer: User | None = None,
) -> dict[str, Any]:
    """The event log newest first, filtered by kind (event type), actor, object and record (a
    record's number: events about it and about its pages). Personal values masked for a
    VIEWER who may not see them."""
    q = select(Event)
    if type_:
        q = q.where(Event.type == type_)
    if actor:
        q = q.where(Event.actor == actor)
    if object_id:
        q = q.where(Event.object_id == object_id)
    with archive.session() as s:
        if record:
            pages = [
                str(i) for i in s.scalars(select(Page.id).join(ArchiveRecord).where(ArchiveRecord.number == record))
            ]
            about_pages = and_(Event.object_type == "page", Event.object_id.in_(pages)) if pages else false()
            q = q.where(or_(Event.object_id == record, about_pages))
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        personal = masking(archive, viewer)
        rows = [
            event_row(e, personal)
            for e in s.scalars(q.order_by(Event.seq.desc()).offset((page - 1) * per_page).limit(per_page))
        ]
        types = sorted(s.scalars(select(Event.type).distinct()))
    return {
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-total // per_page)),
        "events": rows,
        "types": types,
    }


def events_csv(archive: Archive, chunk: int = 2000, *, viewer: User | None = None) -> Iterator[str]:
    """The whole log as CSV, streamed (UTF-8 with BOM so spreadsheet programs read the Chinese);
    the download itself is an export event."""
    with archive.session() as s:
        ev.record_event(s, ev.EXPORT, archive.actor, "event log", "", {"what": "event log", "format": "csv"})
    personal = masking(archive, viewer)
    yield "\ufeff"
    buf = io.StringIO()
    w = spreadsheet.writer(buf)
    w.writerow(["seq", "at", "type", "actor", "object_type", "object_id", "detail", "prev_hash", "hash"])
    last = 0
    while True:
        with archive.session() as s:
            rows = s.scalars(select(Event).where(Event.seq > last).order_by(Event.seq).limit(chunk)).all()
            for e in rows:
                detail = personal.mask_data(e.detail or {}) if personal else e.detail or {}
                w.writerow(
                    [
                        e.seq,
                        e.at.isoformat() if e.at else "",
                        e.type,
                        e.actor,
                        e.object_type,
                        e.object_id,
                        json.dumps(detail, ensure_ascii=False, sort_keys=True),
                        e.prev_hash,
                        e.hash,
                    ]
                )
        yield buf.getvalue()
        buf.seek(0), buf.truncate()
        if not rows:
            return
        last = rows[-1].seq


def export_bag(archive: Archive, output: str | os.PathLike, numbers: tuple[str, ...] = ()) -> bag.ExportResult:
    """A BagIt bag of the records NUMBERS, or of the whole archive."""
    with archive.session() as s:
        return bag.export_bag(
            s, archive.store, output, numbers=numbers, actor=archive.actor, organisation=archive.scheme.fonds.name
        )


def import_bag(archive: Archive, path: str | os.PathLike) -> tuple[bag.ImportResult, int]:
    """Restore a whole-archive bag into this (empty) data home, then rebuild the index.
    Returns what was imported and how many pages are in the index."""
    result = bag.import_bag(path, archive.home)
    return result, rebuild_index(archive, fresh=True).pages
