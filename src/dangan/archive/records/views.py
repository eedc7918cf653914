"""Read models: what a person sees of a record, as plain data (CLI, web and tests alike)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.models import ArchiveRecord, Page, Quarantined, SourceFile
from dangan.archive.records.accession import find_customer
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber, propose_corrections
from dangan.archive.records.paper_pages import is_paper_page
from dangan.errors import NotFound
from dangan.i18n import render

MAX_ID = 2**31 - 1  # row ids fit a 32-bit integer in every database we run on


def page_by_id(session: Session, page_id: int) -> Page | None:
    """The page with this id, None for no page (an id no database could hold included)."""
    return session.get(Page, page_id) if 0 < page_id <= MAX_ID else None


def find_record(session: Session, key: str) -> ArchiveRecord:
    """A record by archive number (typos get a suggestion) or by a 户号 with one record."""
    key = key.strip()
    try:
        number = ArchiveNumber.parse(key)
    except InvalidArchiveNumber as e:
        if key.isdigit():
            customer = find_customer(session, key)
            if customer is not None:
                records = session.scalars(
                    select(ArchiveRecord).filter_by(customer_id=customer.id).order_by(ArchiveRecord.id)
                ).all()
                if len(records) == 1:
                    return records[0]
                if records:
                    raise NotFound(
                        f"户号 {key} has {len(records)} records: " + ", ".join(r.number for r in records)
                    ) from None
            raise NotFound(f"no customer with 户号 {key}") from None
        existing = [
            str(n)
            for n in propose_corrections(key)
            if session.scalar(select(ArchiveRecord.id).filter_by(number=str(n)))
        ]
        hint = f"; did you mean {' or '.join(existing)}?" if existing else ""
        raise NotFound(f"{e}{hint}") from None
    record = session.scalar(select(ArchiveRecord).filter_by(number=str(number)))
    if record is None:
        raise NotFound(f"no record numbered {number}")
    return record


def find_records(session: Session, numbers: Iterable[str]) -> tuple[list[ArchiveRecord], list[str]]:
    """Records by archive number, in the order given, without repeats; and a reason for
    each text that is not the number of a record (for the caller to refuse with)."""
    records, unknown = [], []
    for text in dict.fromkeys(n.strip() for n in numbers if n.strip()):
        try:
            number = str(ArchiveNumber.parse(text))
        except InvalidArchiveNumber as e:
            unknown.append(str(e))
            continue
        record = session.scalar(select(ArchiveRecord).filter_by(number=number))
        if record is None:
            unknown.append(f"no record numbered {number}")
        else:
            records.append(record)
    return records, unknown


def record_view(
    session: Session, key: str, *, store_root: str = "", with_text: bool = True, actor: str | None = None
) -> dict[str, Any]:
    record = find_record(session, key)
    if actor:  # viewing an electronic record is an access event
        events.record_event(session, events.ACCESS, actor, "record", record.number, {"what": "show"})
    c, case, cls = record.customer, record.case, record.classification
    view: dict[str, Any] = {
        "number": record.number,
        "status": record.status,
        "title": record.title,
        "accessioned_at": record.created_at.isoformat(),
        "customer": c
        and {
            "account_number": c.account_number,
            "name": c.name,
            "address": c.address,
            "account_numbers": sorted(a.account_number for a in c.aliases),
        },
        "case": case
        and {
            "work_order": case.work_order,
            "business_type": case.business_type,
            "status": case.status,
            "department": case.department,
            "accepted_on": case.accepted_on and case.accepted_on.isoformat(),
        },
        "classification": cls
        and {
            "business_type": cls.business_type,
            "voltage_class": cls.voltage_class,
            "customer_class": cls.customer_class,
            "retention": cls.retention,
        },
        "store_root": store_root,
        "documents": [],
    }
    images = 0
    for d in record.documents:
        view["documents"].append(
            {
                "item_no": d.item_no,
                "doc_type": d.doc_type,
                "doc_type_score": d.doc_type_score,
                "title": d.title,
                "dated": d.dated.isoformat() if d.dated else None,
                "origin": d.origin,
                "pages": [_page_view(p, with_text) for p in d.pages],
            }
        )
        images += len(d.pages)
    # pages of the customer's paper, as loans and reconciliation count them (records.paper_pages)
    view["pages"] = sum(1 for d in record.documents for p in d.pages if is_paper_page(p))
    view["images"] = images
    return view


def _page_view(p: Page, with_text: bool) -> dict[str, Any]:
    v = {
        "id": p.id,
        "seq": p.seq,
        "source_page": p.source_page,
        "master": {"path": p.master_path, "sha256": p.master_sha256, "size": p.master_size, "format": p.master_format},
        "derived": {"path": p.derived_path, "sha256": p.derived_sha256},
        "width": p.width,
        "height": p.height,
        "dpi": p.dpi,
        "rotation": p.rotation,
        "skew": p.skew,
        "blank": p.is_blank,
        "cover": p.is_cover,
        "seal": p.has_seal,
        "ocr_confidence": p.ocr_confidence,
        "ocr_engine": p.ocr_engine,
        "qa_status": p.qa_status,
        "flags": p.flags,
        "fields": p.fields,
    }
    if with_text:
        v["text"] = p.text
    return v


def quarantine_list(session: Session, batch_id: int | None = None) -> list[dict[str, Any]]:
    """Quarantined files still waiting for a person: a file whose very bytes were accessioned
    later (the cause was fixed and the batch run again) is no longer listed; its original stays
    kept, and the event log keeps the quarantine."""
    accessioned = select(SourceFile.sha256).where(SourceFile.record_id.is_not(None))
    q = select(Quarantined).where(Quarantined.sha256.not_in(accessioned)).order_by(Quarantined.id)
    if batch_id is not None:
        q = q.filter_by(batch_id=batch_id)
    return [
        {
            "file": x.original_name,
            "reason": render(x.reason_kept, fallback=x.reason),
            "reason_code": (x.reason_kept or {}).get("code"),
            "reason_params": (x.reason_kept or {}).get("params"),
            "kept_as": x.stored_path,
            "sha256": x.sha256,
        }
        for x in session.scalars(q)
    ]
