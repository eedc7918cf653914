"""BagIt export and import (RFC 8493, via the Library of Congress `bagit` library).

A bag of the archive holds, under data/:

    store/…                  masters, derived images, sources: the file store's own paths
    records/<number>.json    one metadata file per record (schemas/record-metadata.schema.json)
    ocr/<number>/<seq>.txt   the OCR text of each page
    events.jsonl             the event log, one event per line, hash chain included
    database/<table>.jsonl   (whole-archive bags) every row of every archive table

The manifest gives each payload file's SHA-256; after bagging, the manifest is compared
with the checksums the database recorded, so a file altered in the store is refused rather
than exported with its damage blessed by a fresh checksum.

Only a whole-archive bag can be imported, and only into an empty home: the rows come back
with their ids, so numbers, checksums and events are the same and the hash chain verifies.
User accounts (password hashes) and transient queues are not exported.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import bagit
from sqlalchemy import JSON, Date, DateTime, func, select, text
from sqlalchemy.orm import Session

from dangan import SCHEMAS_DIR
from dangan.archive import events
from dangan.archive.models import ArchiveRecord, Base, ChainHead, Event, Page, Quarantined, SourceFile
from dangan.archive.records.numbering import ArchiveNumber
from dangan.archive.records.views import find_records
from dangan.archive.store import FileStore, sha256_file
from dangan.errors import DanganError
from dangan.i18n import _

BAG_PROFILE = "dangan-archive-bag/1"
METADATA_SCHEMA = SCHEMAS_DIR / "record-metadata.schema.json"
# Not archive content: secrets, sessions and work queues rebuilt on their own.
# archive_setting: how this installation runs (e.g. its search backend), not what it holds
NOT_EXPORTED = frozenset(
    {
        "app_user",
        "user_session",
        "login_failure",
        "known_device",
        "page_read",
        "staged_page",
        "index_outbox",
        "archive_setting",
    }
)
WHOLE, SELECTION = "whole archive", "selection"


class BagError(DanganError, ValueError):
    """A bag cannot be written or read back; the message says what to do."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    scope: str
    records: int
    pages: int
    files: int
    bytes: int
    events: int


@dataclass(frozen=True)
class ImportResult:
    path: Path
    records: int
    pages: int
    events: int
    files: int
    tables: dict[str, int]


# --------------------------------------------------------------------------- metadata per record


def record_metadata(record: ArchiveRecord) -> dict[str, Any]:
    """A record described on its own, readable without dangan (see the JSON Schema)."""
    customer, case, folder = record.customer, record.case, record.folder
    pages_by_doc: dict[int, list[Page]] = {}
    session = Session.object_session(record)
    all_pages = session.scalars(select(Page).filter_by(record_id=record.id).order_by(Page.seq, Page.id)).all()
    for p in all_pages:
        pages_by_doc.setdefault(p.document_id, []).append(p)
    sources = session.scalars(select(SourceFile).filter_by(record_id=record.id).order_by(SourceFile.id)).all()
    token = _token(record.number)
    return {
        "schema": "https://dangan.example/schemas/record-metadata.schema.json",
        "number": record.number,
        "fonds": record.fonds,
        "category": record.category,
        "year": record.year,
        "serial": record.serial,
        "status": record.status,
        "void_reason": record.void_reason or "",
        "title": record.title,
        "born_digital": record.born_digital,
        "accessioned_at": _iso(record.created_at),
        "customer": None
        if customer is None
        else {
            "account_number": customer.account_number,
            "name": customer.name,
            "address": customer.address,
            "voltage_class": customer.voltage_class,
            "customer_class": customer.customer_class,
            "account_numbers": sorted(a.account_number for a in customer.aliases),
        },
        "case": None
        if case is None
        else {
            "work_order": case.work_order,
            "business_type": case.business_type,
            "department": case.department,
            "status": case.status,
            "accepted_on": _iso(case.accepted_on),
            "stage_dates": case.stage_dates or {},
            "billing_fields": case.billing_fields or {},
            "facts": case.facts or {},
        },
        "classifications": [
            {
                "business_type": c.business_type,
                "voltage_class": c.voltage_class,
                "customer_class": c.customer_class,
                "retention": c.retention,
                "attributes": c.attributes or {},
                "valid_from": _iso(c.valid_from),
                "valid_to": _iso(c.valid_to),
                "reason": c.reason,
                "actor": c.actor,
            }
            for c in record.classifications
        ],
        "paper": None
        if folder is None
        else {"folder": folder.code, "state": folder.state, "box": folder.box.code if folder.box else None},
        "sources": [
            {
                "path": f"store/{s.stored_path}",
                "sha256": s.sha256,
                "size": s.size,
                "original_name": s.original_name,
                "media_type": s.media_type,
                "page_count": s.page_count,
            }
            for s in sources
        ],
        "documents": [
            {
                "item_no": d.item_no,
                "doc_type": d.doc_type,
                "title": d.title,
                "origin": d.origin,
                "pages": [
                    {
                        "id": p.id,
                        "seq": p.seq,
                        "source_page": p.source_page,
                        "current": p.superseded_by_id is None,
                        "master": {
                            "path": f"store/{p.master_path}",
                            "sha256": p.master_sha256,
                            "size": p.master_size,
                            "format": p.master_format,
                        },
                        "derived": (
                            {"path": f"store/{p.derived_path}", "sha256": p.derived_sha256} if p.derived_path else None
                        ),
                        "ocr_text": f"ocr/{token}/{_ocr_name(p)}",
                        "width": p.width,
                        "height": p.height,
                        "dpi": p.dpi,
                        "ocr_confidence": p.ocr_confidence,
                        "ocr_engine": p.ocr_engine,
                        "qa_status": p.qa_status,
                        "blank": p.is_blank,
                        "created_at": _iso(p.created_at),
                    }
                    for p in pages_by_doc.get(d.id, [])
                ],
            }
            for d in record.documents
        ],
    }


def _token(number: str) -> str:
    return ArchiveNumber.parse(number).file_token


def _ocr_name(page: Page) -> str:
    return f"{page.seq:04d}-page{page.id}.txt"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite hands datetimes back naive; they were stored as UTC
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


# --------------------------------------------------------------------------- export


def export_bag(
    session: Session,
    store: FileStore,
    target: str | os.PathLike,
    *,
    numbers: Iterable[str] = (),
    actor: str = "",
    organisation: str = "",
) -> ExportResult:
    """Write a bag of the records NUMBERED (all records when none are given) to TARGET,
    which must not exist yet (or be an empty directory)."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BagError(_("{target} is not empty: give a new directory for the bag").format(target=target))
    records = _select(session, list(numbers))
    scope = SELECTION if list(numbers) else WHOLE
    target.mkdir(parents=True, exist_ok=True)
    ids = {r.id for r in records}
    refs: dict[str, str] = {}  # store relpath → recorded sha256
    pages = session.scalars(select(Page).where(Page.record_id.in_(ids)).order_by(Page.id)).all() if ids else []
    for p in pages:
        refs[p.master_path] = p.master_sha256
        if p.derived_path:
            refs[p.derived_path] = p.derived_sha256
    for s in session.scalars(select(SourceFile).where(SourceFile.record_id.in_(ids))) if ids else []:
        refs[s.stored_path] = s.sha256
    if scope == WHOLE:  # files no record owns: sources not (yet) filed, and the quarantine
        for s in session.scalars(select(SourceFile).where(SourceFile.record_id.is_(None))):
            refs[s.stored_path] = s.sha256
        for q in session.scalars(select(Quarantined)):
            refs[q.stored_path] = q.sha256
    missing = [rel for rel in refs if not (store.root / rel).is_file()]
    if missing:
        shutil.rmtree(target)
        raise BagError(
            _(
                "{n} stored files are missing (first: {missing}); run `dangan verify` and restore them before exporting"
            ).format(n=len(missing), missing=missing[0])
        )
    for rel in sorted(refs):
        dest = target / "store" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store.root / rel, dest)
    for r in records:
        token = _token(r.number)
        meta = record_metadata(r)
        _write_json(target / "records" / f"{token}.json", meta)
        for p in session.scalars(select(Page).filter_by(record_id=r.id)):
            out = target / "ocr" / token / _ocr_name(p)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(p.text or "", encoding="utf-8")
    n_events = _write_events(session, target / "events.jsonl", None if scope == WHOLE else records)
    if scope == WHOLE:
        _dump_tables(session, target / "database")
    head = session.get(ChainHead, 1)
    info = {
        "Source-Organization": organisation or "dangan",
        "External-Description": f"dangan customer archive, {scope}: {len(records)} records, {len(pages)} pages",
        "Bag-Group-Identifier": BAG_PROFILE,
        "Dangan-Scope": scope,
        "Dangan-Records": str(len(records)),
        "Dangan-Pages": str(len(pages)),
        "Dangan-Events": str(n_events),
        "Dangan-Chain-Head": f"{head.seq}:{head.hash}" if head else "0:",
        "Dangan-Exported-By": actor,
    }
    bag = bagit.make_bag(str(target), bag_info=info, checksums=["sha256"])
    # The bag hashed every file afresh; it must agree with what the database recorded.
    manifest = {path: hashes["sha256"] for path, hashes in bag.entries.items() if path.startswith("data/")}
    altered = [rel for rel, sha in refs.items() if manifest.get(f"data/store/{rel}") != sha]
    if altered:
        shutil.rmtree(target)
        raise BagError(
            _(
                "{n} stored files differ from their recorded SHA-256 (first: {altered}); run `dangan "
                "verify --full`; nothing was exported"
            ).format(n=len(altered), altered=altered[0])
        )
    size = sum((target / "data" / "store" / rel).stat().st_size for rel in refs)
    tagmanifest = target / "tagmanifest-sha256.txt"
    events.record_event(  # the export itself is on the record, after the log the bag carries
        session,
        events.EXPORT,
        actor or "export",
        "bag",
        sha256_file(tagmanifest) if tagmanifest.exists() else info["Dangan-Chain-Head"][:64],
        {
            "what": "BagIt",
            "path": str(target),
            "scope": scope,
            "records": len(records),
            "numbers": [r.number for r in records] if scope == SELECTION else [],
            "pages": len(pages),
            "files": len(refs),
            "bytes": size,
            "events": n_events,
            "chain_head": info["Dangan-Chain-Head"],
        },
    )
    return ExportResult(target, scope, len(records), len(pages), len(refs), size, n_events)


def _select(session: Session, numbers: list[str]) -> list[ArchiveRecord]:
    if not numbers:
        return list(session.scalars(select(ArchiveRecord).order_by(ArchiveRecord.id)))
    records, unknown = find_records(session, numbers)
    if unknown:
        raise BagError("cannot export: " + "; ".join(unknown))
    return records


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_iso), encoding="utf-8")


def _event_line(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": _iso(e.at),
        "type": e.type,
        "actor": e.actor,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "detail": e.detail or {},
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def _write_events(session: Session, path: Path, records: list[ArchiveRecord] | None) -> int:
    """The log as JSON lines. For a selection: the events about those records and their pages
    (their hashes still link into the full chain, which stays with the archive)."""
    wanted: set[tuple[str, str]] | None = None
    if records is not None:
        wanted = {("record", r.number) for r in records}
        wanted |= {
            ("page", str(pid))
            for pid in session.scalars(select(Page.id).where(Page.record_id.in_([r.id for r in records])))
        }
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for e in session.scalars(select(Event).order_by(Event.seq)).yield_per(1000):
            if (
                wanted is not None
                and (e.object_type, e.object_id) not in wanted
                and (e.detail or {}).get("record") not in {r.number for r in records}
            ):
                continue
            f.write(json.dumps(_event_line(e), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def _tables():
    import dangan.archive.login  # noqa: F401  (registers the user tables, so NOT_EXPORTED can leave them out knowingly)

    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_EXPORTED]


def _dump_tables(session: Session, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table in _tables():
        pk = list(table.primary_key.columns)
        with open(folder / f"{table.name}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(
                json.dumps({k: _dump_value(v) for k, v in row.items()}, ensure_ascii=False, sort_keys=True) + "\n"
                for row in session.execute(select(table).order_by(*pk)).mappings().yield_per(1000)
            )


def _dump_value(v: Any) -> Any:
    return _iso(v) if isinstance(v, (datetime, date)) else v


# --------------------------------------------------------------------------- import


def validate_bag(path: str | os.PathLike) -> bagit.Bag:
    """Open and fully validate a bag (every checksum recomputed); BagError says what is wrong."""
    try:
        bag = bagit.Bag(str(path))
        bag.validate()
    except bagit.BagValidationError as e:
        details = "; ".join(str(d) for d in (e.details or [])[:5])
        raise BagError(
            _("the bag at {path} is not valid: {message}{value}").format(
                path=path, message=e.message, value=": " + details if details else ""
            )
        ) from None
    except bagit.BagError as e:
        raise BagError(_("{path} is not a readable bag: {e}").format(path=path, e=e)) from None
    return bag


def home_is_empty(root: Path) -> bool:
    return not root.exists() or not any(root.iterdir())


def import_bag(path: str | os.PathLike, home, *, progress=None) -> ImportResult:
    """Restore a whole-archive bag into HOME (an archive.home.DataHome), which must be empty:
    no files in its folder and no rows in its database."""
    from dangan.archive.db import Database
    from dangan.archive.home import init_home

    path = Path(path)
    bag = validate_bag(path)
    scope = _first(bag.info.get("Dangan-Scope"))
    if scope != WHOLE:
        raise BagError(
            _(
                "{path} holds a {value} bag; only a whole-archive export (`dangan export -o DIR` "
                "without numbers) can be imported"
            ).format(path=path, value=scope or "non-dangan")
        )
    if not home_is_empty(home.root):
        raise BagError(_("{root} is not empty: import a bag only into a new, empty data home").format(root=home.root))
    init_home(home)
    db = Database(home.db_url)
    data = path / "data"
    try:
        with db.session() as s:
            if s.scalar(select(func.count(ArchiveRecord.id))) or s.scalar(select(func.count(Event.id))):
                raise BagError(
                    _("the database {value} already holds an archive; import into an empty one").format(
                        value=home.db_url.split("@")[-1]
                    )
                )
            counts = _load_tables(s, data / "database")
        files = 0
        store = FileStore(home.store_dir)
        src_root = data / "store"
        for src in sorted(src_root.rglob("*")) if src_root.exists() else []:
            if src.is_file():
                dest = store.root / src.relative_to(src_root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
                os.chmod(dest, 0o444)  # masters are never modified in place
                files += 1
    finally:
        db.dispose()
    return ImportResult(
        path, counts.get("archive_record", 0), counts.get("page", 0), counts.get("event", 0), files, counts
    )


def _first(value: Any) -> str | None:
    return value[0] if isinstance(value, list) else value


def _load_tables(session: Session, folder: Path) -> dict[str, int]:
    counts = {}
    for table in _tables():
        src = folder / f"{table.name}.jsonl"
        if not src.exists():
            raise BagError(
                _("the bag has no {name}: it was written by another version of dangan").format(name=src.name)
            )
        # A row may point to a later row of its own table (a rescan supersedes an older page):
        # insert those links empty, then set them once every row exists.
        self_refs = [c.name for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
        later: list[tuple[dict, dict]] = []
        batch: list[dict] = []
        n = 0
        with open(src, encoding="utf-8") as f:
            for line in f:
                row = _load_row(table, json.loads(line))
                links = {c: row[c] for c in self_refs if row.get(c) is not None}
                if links:
                    later.append(({c.name: row[c.name] for c in table.primary_key.columns}, links))
                    row = {**row, **{c: None for c in links}}
                batch.append(row)
                n += 1
                if len(batch) >= 1000:
                    session.execute(table.insert(), batch)
                    batch = []
        if batch:
            session.execute(table.insert(), batch)
        for key, links in later:
            cond = [table.c[k] == v for k, v in key.items()]
            session.execute(table.update().where(*cond).values(**links))
        counts[table.name] = n
    _reset_sequences(session)
    return counts


def _load_row(table, row: dict) -> dict:
    out = {}
    for col in table.columns:
        if col.name not in row:
            continue
        v = row[col.name]
        if v is not None and isinstance(col.type, DateTime):
            v = datetime.fromisoformat(v)
        elif v is not None and isinstance(col.type, Date):
            v = date.fromisoformat(v)
        elif isinstance(col.type, JSON):
            pass
        out[col.name] = v
    return out


def _reset_sequences(session: Session) -> None:
    """PostgreSQL hands out ids from sequences that know nothing of the rows we inserted."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement in (True, "auto") and pk[0].type.python_type is int:
            seq = session.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": pk[0].name})
            if seq:
                session.execute(
                    text(
                        f"SELECT setval('{seq}', COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
                    )
                )


__all__ = [
    "BagError",
    "ExportResult",
    "ImportResult",
    "export_bag",
    "home_is_empty",
    "import_bag",
    "record_metadata",
    "validate_bag",
]
