"""The database is the truth; the index is fed from it.

Accession writes an outbox row per page in the same transaction as the page. `sync`
drains the outbox into the index (a page is deleted from the outbox only after its
index commit, so a crash at any point re-indexes, never loses); with the PostgreSQL
backend `index_at_commit` does it inside that very transaction. `rebuild` streams every
page, upserting in place (searches meanwhile answer from the index as it was, page by
page), with a checkpoint at each commit so a killed rebuild resumes. `check` compares.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.db import Database
from dangan.archive.models import ArchiveRecord, IndexOutbox, Page
from dangan.indexing.backend import Backend
from dangan.indexing.page_docs import page_docs
from dangan.indexing.schema import IndexDoc, doc_fingerprint

CHUNK = 1000  # pages read from the database at a time
READ_AHEAD = 4  # chunks a rebuild's reader thread may hold ready for the writer
REBUILD_BATCH = 10_000  # pages per index commit in a rebuild (and per checkpoint)
OUTBOX_IN_SESSION = "dangan.index_outbox"  # Session.info key: outbox rows this transaction wrote

Progress = Callable[[int, int], None]


def pending(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(IndexOutbox.id))) or 0


def sync(
    db: Database, backend: Backend, progress: Progress | None = None, *, scheme: ClassificationScheme | None = None
) -> int:
    """Index every page waiting in the outbox; return how many pages were written. SCHEME
    names the codes (default: the shipped scheme)."""
    total, written = pending(db), 0
    while True:
        with db.session() as s:
            rows = s.execute(
                select(IndexOutbox.id, IndexOutbox.page_id, IndexOutbox.op).order_by(IndexOutbox.id).limit(CHUNK)
            ).all()
            if not rows:
                return written
            upserts = sorted({r.page_id for r in rows if r.op == "upsert"})
            deletes = sorted({r.page_id for r in rows if r.op == "delete"})
            docs = page_docs(s, upserts, scheme)
        live = {d.page_id for d in docs}
        gone = [str(i) for i in deletes] + [str(i) for i in upserts if str(i) not in live]
        if gone:
            backend.delete(gone)
        written += backend.add(docs)
        with db.session() as s:  # only now is it safe to forget them
            s.execute(
                delete(IndexOutbox).where(IndexOutbox.id <= rows[-1].id, IndexOutbox.id.in_([r.id for r in rows]))
            )
        if progress:
            progress(min(written, total), total)


def _page_id_chunks(db: Database, after: int) -> Iterator[list[int]]:
    while True:
        with db.session() as s:
            ids = s.scalars(select(Page.id).where(Page.id > after).order_by(Page.id).limit(CHUNK)).all()
        if not ids:
            return
        yield list(ids)
        after = ids[-1]


def rebuild(
    db: Database,
    backend: Backend,
    progress: Progress | None = None,
    *,
    resume: bool = True,
    scheme: ClassificationScheme | None = None,
) -> int:
    """Re-index every page from the database, in place: pages are upserted in page order and
    committed every REBUILD_BATCH, each commit checkpointed, so a killed rebuild resumes
    (unless not RESUME) and searches meanwhile see every page. An index built by another
    version is emptied first; pages in the index but not in the database are removed at the end.
    SCHEME names the codes (default: the shipped scheme)."""
    after = backend.read_checkpoint() if resume else None
    if backend.needs_rebuild():
        backend.clear()
        after = None
    after = after or 0
    with db.session() as s:
        total = s.scalar(select(func.count(Page.id))) or 0
        done = s.scalar(select(func.count(Page.id)).where(Page.id <= after)) or 0
        outbox_max = s.scalar(select(func.max(IndexOutbox.id))) or 0
    counted = {"done": done}

    def chunks() -> Iterator[tuple[int, list[IndexDoc]]]:
        for ids in _page_id_chunks(db, after):
            with db.session() as s:
                yield len(ids), page_docs(s, ids, scheme)

    def pages() -> Iterator[IndexDoc]:
        for read, docs in read_ahead(chunks()):
            yield from docs
            counted["done"] += read
            if progress:
                progress(counted["done"], total)

    written = backend.add(
        pages(), batch_size=REBUILD_BATCH, on_commit=lambda last: backend.write_checkpoint(int(last.page_id))
    )
    _remove_orphans(db, backend, written=written, complete=not after)
    backend.write_checkpoint(None)
    # Everything queued before this run started is in, but for a resumed run only from its
    # checkpoint on: a page before it may have changed while the rebuild was down. Later rows
    # and those stay for sync.
    done = delete(IndexOutbox).where(IndexOutbox.id <= outbox_max)
    with db.session() as s:
        s.execute(done.where(IndexOutbox.page_id > after) if after else done)
    return counted["done"]


def read_ahead(items: Iterable, depth: int = READ_AHEAD) -> Iterator:
    """ITEMS made by a thread of its own, up to DEPTH ahead of the consumer: the database
    is read while the index writes (the wait on SQLite or the server, outside the GIL,
    overlaps with the writer's work). An error of the reader is raised to the consumer;
    a consumer that stops early stops the reader."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not hand_over((None, item)):
                    return
            hand_over((None, done))
        except BaseException as error:  # noqa: BLE001 - raised again in the consumer
            hand_over((error, None))

    reader = threading.Thread(target=read, name="dangan-index-reader", daemon=True)
    reader.start()
    try:
        while True:
            error, item = ready.get()
            if error is not None:
                raise error
            if item is done:
                return
            yield item
    finally:
        stop.set()
        reader.join()


def _remove_orphans(db: Database, backend: Backend, *, written: int, complete: bool) -> None:
    """Pages the index holds that the database no longer shows (or never had). When this
    rebuild wrote every live page (COMPLETE: it did not resume) and the index holds no more
    than it WROTE, there are none. Otherwise the live page ids are read into one array (8 bytes
    a page) and the index's pages checked against it a batch at a time."""
    if complete and backend.count() == written:
        return
    live = _live_page_ids(db)
    orphans: list[str] = []
    for batch in backend.fingerprints():
        at = _positions(live, np.array([_page_number(pid) for pid, _ in batch], dtype=np.int64))
        orphans += [pid for (pid, _), i in zip(batch, at, strict=True) if i < 0]
    if orphans:
        backend.delete(orphans)


def _live_page_ids(db: Database) -> np.ndarray:
    """The ids of the pages an index should hold (page_docs's choice), sorted."""
    chunks, after = [], 0
    while True:
        with db.session() as s:
            query = _live_pages(select(Page.id)).where(Page.id > after).order_by(Page.id).limit(50 * CHUNK)
            ids = s.scalars(query).all()
        if not ids:
            return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        chunks.append(np.array(ids, dtype=np.int64))
        after = ids[-1]


def _live_pages(query):
    """QUERY over Page narrowed to the pages an index should hold (page_docs's choice)."""
    return query.join(ArchiveRecord, ArchiveRecord.id == Page.record_id).where(
        Page.superseded_by_id.is_(None), Page.is_blank.is_(False), ArchiveRecord.status == "active"
    )


def _page_number(page_id: str) -> int:
    """PAGE_ID as the database's page id; -1 when it cannot be one."""
    return int(page_id) if page_id.isascii() and page_id.isdigit() and page_id[0] != "0" else -1


def _positions(ordered: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Where each of VALUES stands in the sorted array ORDERED; -1 where it is not there."""
    if not len(ordered):
        return np.full(len(values), -1)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return np.where(ordered[at] == values, at, -1)


def _indexed(backend: Backend) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The index's pages as sorted page ids with their fingerprints (32 ASCII bytes): ~40 bytes
    a page, where a dict of strings took ~250. Ids the database cannot have are kept apart."""
    ids, fingerprints, odd = [], [], []
    for batch in backend.fingerprints():
        numbers = np.array([_page_number(pid) for pid, _ in batch], dtype=np.int64)
        usable = numbers >= 0
        odd += [pid for (pid, _), ok in zip(batch, usable, strict=True) if not ok]
        ids.append(numbers[usable])
        fingerprints.append(np.array([fp for _, fp in batch], dtype="S32")[usable])
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype="S32"), odd
    every, prints = np.concatenate(ids), np.concatenate(fingerprints)
    order = np.argsort(every)
    return every[order], prints[order], odd


# --- in the accession's own transaction (PostgreSQL) ------------------------------------


def index_at_commit(
    db: Database,
    backend,
    scheme: Callable[[], ClassificationScheme] | None = None,
    *,
    active: Callable[[], bool] | None = None,
) -> None:
    """Index pages in the very transaction that queues them in the outbox (accession, QA,
    shelving): at commit they are searchable, on rollback they never were. BACKEND writes
    through the session's connection (`write_in`: the PostgreSQL backend). Outbox rows
    another process leaves (a station without this hook) still wait for `sync`, and so do the
    rows of a transaction that commits while ACTIVE() is false (the archive's index is elsewhere)."""

    def collect(session: Session, _flush_context) -> None:
        ids = [o.id for o in session.new if isinstance(o, IndexOutbox)]
        if ids:
            session.info.setdefault(OUTBOX_IN_SESSION, set()).update(ids)

    def index(session: Session) -> None:
        session.flush()
        ids = session.info.pop(OUTBOX_IN_SESSION, None)
        if not ids or (active is not None and not active()):
            return
        rows = session.execute(
            select(IndexOutbox.id, IndexOutbox.page_id, IndexOutbox.op).where(IndexOutbox.id.in_(ids))
        ).all()
        upserts = sorted({r.page_id for r in rows if r.op == "upsert"})
        docs = page_docs(session, upserts, scheme() if scheme else None)
        live = {d.page_id for d in docs}
        gone = [str(r.page_id) for r in rows if r.op == "delete"] + [str(i) for i in upserts if str(i) not in live]
        backend.write_in(session.connection(), docs, gone)
        session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_([r.id for r in rows])))

    def forget(session: Session, *_args) -> None:
        session.info.pop(OUTBOX_IN_SESSION, None)

    db.listen("after_flush", collect)
    db.listen("before_commit", index)
    db.listen("after_soft_rollback", forget)


@dataclass
class IndexCheck:
    pages: int = 0
    missing: list[str] = field(default_factory=list)  # in the database, not in the index
    stale: list[str] = field(default_factory=list)  # in both, but the index holds old content
    orphaned: list[str] = field(default_factory=list)  # in the index, not (or no longer) in the database

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)


def check(
    db: Database, backend: Backend, progress: Progress | None = None, *, scheme: ClassificationScheme | None = None
) -> IndexCheck:
    """Compare every page in the database with the index; PROGRESS(pages compared, pages to compare)."""
    ids, fingerprints, odd = _indexed(backend)
    found = np.zeros(len(ids), dtype=bool)
    result = IndexCheck()
    with db.session() as s:
        total = s.scalar(select(func.count()).select_from(_live_pages(select(Page.id)).subquery())) or 0
    for chunk in _page_id_chunks(db, 0):
        with db.session() as s:
            docs = page_docs(s, chunk, scheme)
        if progress:
            progress(result.pages + len(docs), total)
        at = _positions(ids, np.array([int(d.page_id) for d in docs], dtype=np.int64))
        for d, i in zip(docs, at, strict=True):
            result.pages += 1
            if i < 0:
                result.missing.append(d.page_id)
                continue
            found[i] = True
            if fingerprints[i] != doc_fingerprint(d).encode("ascii"):
                result.stale.append(d.page_id)
    result.orphaned = [str(i) for i in ids[~found]] + sorted(odd)
    return result
