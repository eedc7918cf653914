"""Accession: a scanned folder becomes an archive record with a number, in one transaction.

The scanning side hands over plain data (FolderIntake); this module finds or creates the
customer and the business case, assigns the number, writes documents, pages, events and
the index outbox (queued by the flush) together, so a crash leaves either all of it or none of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.models import (
    AccountAlias,
    ArchiveRecord,
    BusinessCase,
    Classification,
    Customer,
    Document,
    Fonds,
    Page,
    SourceFile,
    utcnow,
)
from dangan.archive.records.likeness import find_likenesses, likeness_flag, remember
from dangan.archive.records.numbering import CATEGORY, assign_number
from dangan.archive.records.paper_pages import is_cover_fields


@dataclass(frozen=True)
class IntakePage:
    source_page: int
    master_path: str
    master_sha256: str
    master_size: int
    master_format: str
    derived_path: str
    derived_sha256: str
    width: int
    height: int
    dpi: int
    phash: str = ""  # perceptual hash of the derived image (records.likeness)
    rotation: int = 0
    skew: float = 0.0
    is_blank: bool = False
    is_colour: bool = False
    has_seal: bool = False
    text: str = ""
    words: list = field(default_factory=list)
    ocr_confidence: float | None = None
    ocr_engine: str = ""
    metrics: dict = field(default_factory=dict)
    flags: list = field(default_factory=list)  # [{code, severity, message}]
    fields: dict = field(default_factory=dict)  # {name: {value, confidence, valid, …}}
    doc_type: str | None = None  # what the page's title says, if it has one
    doc_type_score: float = 0.0
    title: str = ""
    origin: str = "paper"  # electronic: born digital, its master the file as it came

    @property
    def needs_review(self) -> bool:
        """Every flag sends the page to the QA queue: a person looks at warnings too ('fail'
        ones must be fixed, 'warn' ones checked)."""
        return bool(self.flags)


@dataclass(frozen=True)
class IntakeDocument:
    doc_type: str | None
    doc_type_score: float
    title: str
    page_numbers: list[int]  # source page numbers, in order
    dated: date | None = None  # the document's own date (page_fields.document_date)
    origin: str = "paper"  # paper | electronic (see Document.origin)


@dataclass(frozen=True)
class FolderIntake:
    """One scanned folder (one customer file) as the pipeline read it."""

    source_name: str
    source_sha256: str
    source_path: str  # relative to the file store
    source_size: int
    media_type: str
    documents: list[IntakeDocument]
    # What the pages say, as proposals; validated values only.
    account_number: str | None = None
    customer_name: str = ""
    address: str = ""
    work_order: str | None = None
    business_type: str = ""
    business_date: date | None = None


def find_customer(session: Session, account_number: str) -> Customer | None:
    alias = session.get(AccountAlias, account_number)
    if alias is not None:
        return session.get(Customer, alias.customer_id)
    return session.scalar(select(Customer).filter_by(account_number=account_number))


def ensure_fonds(session: Session, code: str, name: str = "") -> Fonds:
    fonds = session.get(Fonds, code)
    if fonds is None:
        try:
            with session.begin_nested():  # another process may register it at the same moment
                session.add(Fonds(code=code, name=name or code))
        except IntegrityError:
            pass
        fonds = session.get(Fonds, code)
    return fonds


def _customer_for(session: Session, intake: FolderIntake, actor: str) -> Customer | None:
    if not intake.account_number:
        return None
    customer = find_customer(session, intake.account_number)
    if customer is None:
        customer = Customer(account_number=intake.account_number, name=intake.customer_name, address=intake.address)
        session.add(customer)
        session.flush()
        session.add(
            AccountAlias(
                account_number=intake.account_number, customer_id=customer.id, reason="first seen on a scanned page"
            )
        )
        events.record_event(
            session,
            "customer registered",
            actor,
            "customer",
            customer.account_number,
            {"name": customer.name, "address": customer.address, "source": "ocr"},
        )
    return customer


def _case_for(session: Session, intake: FolderIntake, customer: Customer | None) -> BusinessCase | None:
    if not intake.work_order:
        return None
    case = session.scalar(select(BusinessCase).filter_by(work_order=intake.work_order))
    if case is None:
        case = BusinessCase(
            work_order=intake.work_order,
            customer_id=customer.id if customer else None,
            business_type=intake.business_type,
            type_source="scan" if intake.business_type else "",
            accepted_on=intake.business_date,
            stage_dates={},
            billing_fields={},
            facts={},
        )
        session.add(case)
        session.flush()
    return case


ACCESSION_LOCK = 0x64616E67  # "dang": the one advisory lock every accession takes


def serialise_accessions(session: Session) -> None:
    """Make the caller's transaction the only one accessioning until it ends.

    Two stations (or a station and a rerun) that accession the same file, or two files of one
    new customer, at the same moment would otherwise race on the unique source checksum and
    户号. On PostgreSQL this is a transaction-level advisory lock: released by commit or
    rollback, and by the server when the connection drops, so an outage cannot leave it held.
    Taking it again in the same transaction is a no-op. SQLite needs none: every transaction
    there starts with BEGIN IMMEDIATE, which already lets one writer in at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ACCESSION_LOCK})


def already_accessioned(session: Session, source_sha256: str) -> ArchiveRecord | None:
    src = session.scalar(select(SourceFile).filter_by(sha256=source_sha256))
    return session.get(ArchiveRecord, src.record_id) if src and src.record_id else None


def accession_folder(
    session: Session,
    intake: FolderIntake,
    pages: Iterable[IntakePage],
    *,
    fonds: str,
    actor: str,
    batch_id: int | None = None,
    year: int | None = None,
    source: SourceFile | None = None,
) -> ArchiveRecord:
    """Create the archive record for INTAKE, or return the existing one if these exact bytes
    were accessioned before (a rerun after a crash, or the same file scanned in twice).

    PAGES yields the folder's pages in source order; they are written as they come and
    let go, so a 500-page folder never sits in memory. SOURCE is the file's row when an
    earlier folder of the same file (split at a cover sheet) was accessioned just before."""
    serialise_accessions(session)
    if source is None:
        existing = already_accessioned(session, intake.source_sha256)
        if existing is not None:
            return existing
    ensure_fonds(session, fonds)
    customer = _customer_for(session, intake, actor)
    case = _case_for(session, intake, customer)
    number = assign_number(session, fonds, year or date.today().year)
    title = record_title(customer.name if customer and customer.name else intake.customer_name, intake.business_type)
    record = ArchiveRecord(
        number=str(number),
        fonds=number.fonds,
        category=number.category,
        year=number.year,
        serial=number.serial,
        title=title,
        customer_id=customer.id if customer else None,
        case_id=case.id if case else None,
    )
    session.add(record)
    session.flush()
    session.add(
        Classification(
            record_id=record.id,
            business_type=intake.business_type,
            voltage_class=customer.voltage_class if customer else "",
            customer_class=customer.customer_class if customer else "",
            reason="accession",
            actor=actor,
            valid_from=utcnow(),
        )
    )
    if source is None:
        source = _source_row(session, intake, record, batch_id)
    events.record_event(
        session,
        events.REGISTRATION,
        actor,
        "record",
        record.number,
        {
            "fonds": number.fonds,
            "category": CATEGORY,
            "year": number.year,
            "serial": number.serial,
            "source": intake.source_name,
            "source_sha256": intake.source_sha256,
        },
    )
    _write_documents(session, record, intake, pages, source, actor)
    return record


def _write_documents(
    session: Session,
    record: ArchiveRecord,
    intake: FolderIntake,
    pages: Iterable[IntakePage],
    source: SourceFile,
    actor: str,
    first_item: int = 1,
    first_seq: int = 1,
) -> None:
    """INTAKE's documents and pages under RECORD, from item FIRST_ITEM and image FIRST_SEQ on,
    each page with its ingestion event and index entry."""
    document_of: dict[int, int] = {}
    for item_no, doc in enumerate(intake.documents, start=first_item):
        document = Document(
            record_id=record.id,
            item_no=item_no,
            doc_type=doc.doc_type,
            doc_type_score=doc.doc_type_score,
            title=doc.title,
            dated=doc.dated,
            origin=doc.origin,
        )
        session.add(document)
        session.flush()
        document_of.update((n, document.id) for n in doc.page_numbers)
    for seq, p in enumerate(pages, start=first_seq):
        likes = find_likenesses(
            session,
            sha256=p.master_sha256,
            phash=p.phash,
            text=p.text,
            fields=p.fields,
            blank=p.is_blank,
            exclude_record_id=record.id,
        )
        if likes:  # the same folder scanned before: a person decides
            p = replace(p, flags=[*p.flags, likeness_flag(likes, record.number)])
        page = page_row(p, record.id, document_of[p.source_page], seq, source.id)
        session.add(page)
        session.flush()
        remember(session, page, likes)
        events.record_event(
            session,
            events.INGESTION,
            actor,
            "page",
            page.id,
            {
                "record": record.number,
                "seq": seq,
                "source": intake.source_name,
                "source_page": p.source_page,
                "master_sha256": p.master_sha256,
                "master_format": p.master_format,
                "ocr_engine": p.ocr_engine,
                "flags": [f["code"] for f in p.flags],
            },
        )
        session.flush()  # the page's index outbox row is queued by the flush (records.index_queue)
        session.expunge(page)


JOINED = "electronic original joined"  # event: an electronic original became documents of an existing record


def join_record(
    session: Session,
    record: ArchiveRecord,
    intake: FolderIntake,
    pages: Iterable[IntakePage],
    *,
    actor: str,
    batch_id: int | None = None,
    source: SourceFile | None = None,
    how: str,
) -> ArchiveRecord:
    """An electronic original joins RECORD, the record of its case, as documents of its own
    after the ones there (the record's number and its pages so far do not change). HOW says
    what tied it to the record (a work order, a 户号, a cover or manifest naming it)."""
    if source is None:
        source = _source_row(session, intake, record, batch_id)
    last_item = session.scalar(select(func.max(Document.item_no)).where(Document.record_id == record.id)) or 0
    last_seq = session.scalar(select(func.max(Page.seq)).where(Page.record_id == record.id)) or 0
    events.record_event(
        session,
        JOINED,
        actor,
        "record",
        record.number,
        {
            "source": intake.source_name,
            "source_sha256": intake.source_sha256,
            "media_type": intake.media_type,
            "items": [last_item + 1 + i for i in range(len(intake.documents))],
            "how": how,
        },
    )
    _write_documents(session, record, intake, pages, source, actor, last_item + 1, last_seq + 1)
    session.expire(record, ["documents"])
    return record


def page_row(p: IntakePage, record_id: int, document_id: int, seq: int, source_id: int) -> Page:
    return Page(
        document_id=document_id,
        record_id=record_id,
        seq=seq,
        source_id=source_id,
        source_page=p.source_page,
        master_path=p.master_path,
        master_sha256=p.master_sha256,
        master_size=p.master_size,
        master_format=p.master_format,
        derived_path=p.derived_path,
        derived_sha256=p.derived_sha256,
        width=p.width,
        height=p.height,
        dpi=p.dpi,
        rotation=p.rotation,
        skew=p.skew,
        is_blank=p.is_blank,
        is_cover=is_cover_fields(p.fields),
        phash=p.phash,
        is_colour=p.is_colour,
        has_seal=p.has_seal,
        text=p.text,
        words=p.words,
        ocr_confidence=p.ocr_confidence,
        ocr_engine=p.ocr_engine,
        metrics=p.metrics,
        flags=p.flags,
        fields=p.fields,
        qa_status="flagged" if p.needs_review else "ok",
    )


def record_title(customer_name: str, business_type: str) -> str:
    """What a record is called in lists and search results: whose file, of which business."""
    return f"{customer_name or 'customer not read'} · {business_type or 'business type not read'}"


def fields_summary(page_fields: Iterable[dict]) -> dict[str, Any]:
    """The most frequent valid proposal for each field across a folder's pages."""
    votes: dict[str, Counter] = {}
    for fields in page_fields:
        for name, prop in (fields or {}).items():
            if prop.get("valid", True) and prop.get("value") not in (None, ""):
                votes.setdefault(name, Counter())[str(prop["value"])] += 1
    return {name: c.most_common(1)[0][0] for name, c in votes.items()}


def _source_row(session: Session, intake: FolderIntake, record: ArchiveRecord, batch_id: int | None) -> SourceFile:
    """The row of the file INTAKE came from, belonging to RECORD."""
    source = SourceFile(
        sha256=intake.source_sha256,
        original_name=intake.source_name,
        stored_path=intake.source_path,
        size=intake.source_size,
        media_type=intake.media_type,
        batch_id=batch_id,
        record_id=record.id,
        page_count=sum(len(d.page_numbers) for d in intake.documents),
    )
    session.add(source)
    session.flush()
    return source
