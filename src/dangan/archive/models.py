"""The archive's tables. Every schema change goes through a migration in archive/migrations.

The archive number lives on ArchiveRecord and nothing mutable is derived from it:
business type, customer attributes and retention are metadata with a history
(Classification rows), so a 过户 or 改类 never touches the number, the stored paths or
the printed labels.

All tables stay in this one module (longer than most): a reader sees every relationship in
one place, and the migrations test compares this metadata with the migrated database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict: JSON, list: JSON}


class Fonds(Base):
    """全宗: the archive-owning unit."""

    __tablename__ = "fonds"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Customer(Base):
    """客户, keyed by an internal id: the 户号 can change (分户, 并户), so it is an alias."""

    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_number: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    voltage_class: Mapped[str] = mapped_column(String(8), default="")  # LV | HV
    customer_class: Mapped[str] = mapped_column(String(32), default="")
    # 公民身份号码 or 统一社会信用代码 as the business system has it (checked on import)
    id_number: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    aliases: Mapped[list[AccountAlias]] = relationship(back_populates="customer")


class AccountAlias(Base):
    """Every 户号 a customer has ever had, so old numbers still find the record."""

    __tablename__ = "account_alias"
    account_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    customer: Mapped[Customer] = relationship(back_populates="aliases")


class BusinessCase(Base):
    """业务工单: one business case with its work-order number and billing-critical fields."""

    __tablename__ = "business_case"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_order: Mapped[str | None] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    business_type: Mapped[str] = mapped_column(String(8), default="")
    # who said the business type: scan (read on a page) | import (the business system) |
    # reclassification (a person); '' for none yet. A reclassification never overrides an import.
    type_source: Mapped[str] = mapped_column(String(16), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(32), default="open")
    accepted_on: Mapped[date | None] = mapped_column(Date)
    stage_dates: Mapped[dict] = mapped_column(JSON, default=dict)
    billing_fields: Mapped[dict] = mapped_column(JSON, default=dict)
    facts: Mapped[dict] = mapped_column(JSON, default=dict)  # inputs of completeness predicates

    customer: Mapped[Customer | None] = relationship()


class NumberCounter(Base):
    """Next serial per fonds, category and accession year; locked while a number is assigned."""

    __tablename__ = "number_counter"
    fonds: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_serial: Mapped[int] = mapped_column(Integer, default=1)


class ArchiveRecord(Base):
    """档案 (件): the unit that carries the archive number. Its number never changes."""

    __tablename__ = "archive_record"
    __table_args__ = (UniqueConstraint("fonds", "category", "year", "serial"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    fonds: Mapped[str] = mapped_column(ForeignKey("fonds.code"))
    category: Mapped[str] = mapped_column(String(8))
    year: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | void | disposed
    void_reason: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("business_case.id"), index=True)
    title: Mapped[str] = mapped_column(String(400), default="")
    born_digital: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    customer: Mapped[Customer | None] = relationship()
    case: Mapped[BusinessCase | None] = relationship()
    documents: Mapped[list[Document]] = relationship(back_populates="record", order_by="Document.item_no")
    classifications: Mapped[list[Classification]] = relationship(back_populates="record", order_by="Classification.id")
    # its paper folder (None: not yet shelved, or born digital)
    folder: Mapped[Folder | None] = relationship(secondary="folder_record", uselist=False, viewonly=True)

    @property
    def classification(self) -> Classification | None:
        """The classification in force: the one not yet superseded."""
        current = [c for c in self.classifications if c.valid_to is None]
        return current[-1] if current else None


class Classification(Base):
    """A record's business type and customer attributes over time; never overwritten."""

    __tablename__ = "classification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), index=True)
    business_type: Mapped[str] = mapped_column(String(8), default="")
    voltage_class: Mapped[str] = mapped_column(String(8), default="")
    customer_class: Mapped[str] = mapped_column(String(32), default="")
    retention: Mapped[str] = mapped_column(String(8), default="")
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")

    record: Mapped[ArchiveRecord] = relationship(back_populates="classifications")


class Document(Base):
    """文件: one document of a record, with its type from the classification scheme."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("record_id", "item_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), index=True)
    item_no: Mapped[int] = mapped_column(Integer)  # 件内顺序号, 1-based
    doc_type: Mapped[str | None] = mapped_column(String(8))
    doc_type_score: Mapped[float] = mapped_column(Float, default=0.0)
    title: Mapped[str] = mapped_column(String(400), default="")
    # the day the document is dated (申请日期, 签订日期, 受理日期 … read on its pages); None: none read
    dated: Mapped[date | None] = mapped_column(Date)
    # paper: a scan of a sheet, kept in a folder; electronic: an electronic original (a
    # born-digital PDF or an OFD) archived as it came, with no paper to keep
    origin: Mapped[str] = mapped_column(String(16), default="paper", server_default="paper")

    record: Mapped[ArchiveRecord] = relationship(back_populates="documents")
    pages: Mapped[list[Page]] = relationship(
        back_populates="document",
        order_by="Page.seq",
        primaryjoin="and_(Page.document_id == Document.id, Page.superseded_by_id.is_(None))",
        viewonly=True,
    )


class SourceFile(Base):
    """A file as it arrived in a batch, kept byte for byte."""

    __tablename__ = "source_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(400))
    stored_path: Mapped[str] = mapped_column(String(400))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("archive_record.id"))
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Page(Base):
    """One page: its untouched master, its derived image, OCR text and quality findings."""

    __tablename__ = "page"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # image serial within the record (DA/T 31 naming)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source_file.id"))
    source_page: Mapped[int] = mapped_column(Integer, default=1)
    master_path: Mapped[str] = mapped_column(String(400))
    master_sha256: Mapped[str] = mapped_column(String(64), index=True)
    master_size: Mapped[int] = mapped_column(BigInteger)
    master_format: Mapped[str] = mapped_column(String(16))
    derived_path: Mapped[str] = mapped_column(String(400), default="")
    derived_sha256: Mapped[str] = mapped_column(String(64), default="")
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    dpi: Mapped[int] = mapped_column(Integer, default=0)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    skew: Mapped[float] = mapped_column(Float, default=0.0)
    is_blank: Mapped[bool] = mapped_column(Boolean, default=False)
    is_cover: Mapped[bool] = mapped_column(Boolean, default=False)  # a cover sheet: ours, not the customer's paper
    is_colour: Mapped[bool] = mapped_column(Boolean, default=False)
    has_seal: Mapped[bool] = mapped_column(Boolean, default=False)
    phash: Mapped[str] = mapped_column(String(16), default="")  # perceptual hash of the derived image (hex)
    text: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[list] = mapped_column(JSON, default=list)  # [[text, l, t, w, h, conf, line], …]
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    ocr_engine: Mapped[str] = mapped_column(String(64), default="")
    metrics: Mapped[dict] = mapped_column(JSON, default=dict)
    flags: Mapped[list] = mapped_column(JSON, default=list)  # [{code, severity, message}]
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    qa_status: Mapped[str] = mapped_column(String(16), default="ok")  # ok|flagged|accepted|rescan
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("page.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    record: Mapped[ArchiveRecord] = relationship(foreign_keys=[record_id], viewonly=True)
    source: Mapped[SourceFile | None] = relationship()


class PageKey(Base):
    """What identifies a page's content (a 户号, work order, ID or other long number read on
    it): pages that share a key are the only candidates for near-duplicates, so finding them
    stays an index lookup however large the archive grows."""

    __tablename__ = "page_key"
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class PageLikeness(Base):
    """A page found, when it was scanned, to be the same image as an archived page, or to look
    the same and say the same: a folder scanned twice, for a person to decide."""

    __tablename__ = "page_likeness"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id"), index=True)
    like_page_id: Mapped[int] = mapped_column(ForeignKey("page.id"), index=True)
    how: Mapped[str] = mapped_column(String(16))  # same_image | looks_same
    distance: Mapped[int] = mapped_column(Integer, default=0)  # perceptual hash bits that differ
    similarity: Mapped[float] = mapped_column(Float, default=1.0)  # of the OCR texts, 0-1
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StagedPage(Base):
    """A page OCR'd but not yet accessioned: the batch journal. Written as each page
    finishes, so a crash mid-folder redoes only the pages not yet staged, and a long
    folder never has to sit in memory."""

    __tablename__ = "staged_page"
    source_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    page_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_type: Mapped[str | None] = mapped_column(String(8))
    doc_type_score: Mapped[float] = mapped_column(Float, default=0.0)
    title: Mapped[str] = mapped_column(String(400), default="")
    is_blank: Mapped[bool] = mapped_column(Boolean, default=False)
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    origin: Mapped[str] = mapped_column(String(16), default="paper", server_default="paper")  # as Document.origin
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Batch(Base):
    """A scan batch: what the operator fed in, and how it went."""

    __tablename__ = "batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    station: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stats: Mapped[dict] = mapped_column(JSON, default=dict)


class Quarantined(Base):
    """A file the pipeline refused, kept byte for byte with a reason a person can act on."""

    __tablename__ = "quarantined"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"))
    original_name: Mapped[str] = mapped_column(String(400))
    stored_path: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)  # as written, in the language of the station that wrote it
    # the reason as English text + params (dangan.i18n.kept), shown in the reader's language; None on old rows
    reason_kept: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Event(Base):
    """Append-only, hash-chained log of everything done to the archive (PREMIS-like types)."""

    __tablename__ = "event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    type: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The event chain's head: one row, locked while an event is appended."""

    __tablename__ = "chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class IndexOutbox(Base):
    """Pages waiting for the search index, written in the same transaction as the page."""

    __tablename__ = "index_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int] = mapped_column(Integer, index=True)
    op: Mapped[str] = mapped_column(String(8), default="upsert")  # upsert | delete
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Setting(Base):
    """An archive-wide setting every station must agree on (archive.settings)."""

    __tablename__ = "archive_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --------------------------------------------------------------------------- paper and lifecycle
# Where the paper is, who has it, who handed it over, and what happened to a record's
# metadata over time. The archive number is never touched by any of these.


class Location(Base):
    """库房 → 区 → 架/柜 → 层: a place with a printed code; boxes stand on shelves."""

    __tablename__ = "location"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # room | zone | rack | cabinet | shelf
    name: Mapped[str] = mapped_column(String(200), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    parent: Mapped[Location | None] = relationship(remote_side="Location.id", back_populates="children")
    children: Mapped[list[Location]] = relationship(back_populates="parent", order_by="Location.code")
    boxes: Mapped[list[Box]] = relationship(back_populates="shelf", order_by="Box.code")


class Box(Base):
    """档案盒: holds folders; stands on a shelf (or nowhere yet)."""

    __tablename__ = "box"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    shelf_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    shelf: Mapped[Location | None] = relationship(back_populates="boxes")
    folders: Mapped[list[Folder]] = relationship(back_populates="box", order_by="Folder.code")


class Folder(Base):
    """卷/袋: the paper of one or more records; its state says where the paper really is."""

    __tablename__ = "folder"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, index=True)
    box_id: Mapped[int | None] = mapped_column(ForeignKey("box.id"), index=True)
    # in_place | in_handover | out_for_digitisation | on_loan | misplaced | missing | destroyed
    state: Mapped[str] = mapped_column(String(24), default="in_place")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    box: Mapped[Box | None] = relationship(back_populates="folders")
    records: Mapped[list[ArchiveRecord]] = relationship(
        secondary="folder_record", order_by="ArchiveRecord.id", viewonly=True
    )


class FolderRecord(Base):
    """Which paper folder holds a record: at most one per record (the primary key)."""

    __tablename__ = "folder_record"
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folder.id"), index=True)


class DocumentTypeChange(Base):
    """A document's type before and after a reclassification; the old one stays readable."""

    __tablename__ = "document_type_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    old_type: Mapped[str | None] = mapped_column(String(8))
    new_type: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")


class Handover(Base):
    """交接: a set of records offered by a department to the archive room, refused or accepted."""

    __tablename__ = "handover"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_dept: Mapped[str] = mapped_column(String(100))
    to_dept: Mapped[str] = mapped_column(String(100))
    offered_by: Mapped[str] = mapped_column(String(100))
    received_by: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default="offered")  # offered | refused | accepted
    override_reason: Mapped[str] = mapped_column(Text, default="")
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    items: Mapped[list[HandoverItem]] = relationship(back_populates="handover", order_by="HandoverItem.id")


class HandoverItem(Base):
    """One record of a handover, with what the completeness check found."""

    __tablename__ = "handover_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handover.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    problems: Mapped[list] = mapped_column(JSON, default=list)
    scheme_version: Mapped[int | None] = mapped_column(Integer)

    handover: Mapped[Handover] = relationship(back_populates="items")
    record: Mapped[ArchiveRecord] = relationship()


class Loan(Base):
    """借阅: a paper folder lent to a person; page count checked on return."""

    __tablename__ = "loan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    folder_id: Mapped[int] = mapped_column(ForeignKey("folder.id"), index=True)
    borrower: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(100), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    approver: Mapped[str] = mapped_column(String(100), default="")
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)
    pages_out: Mapped[int] = mapped_column(Integer, default=0)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_to: Mapped[str] = mapped_column(String(100), default="")
    pages_back: Mapped[int | None] = mapped_column(Integer)
    return_note: Mapped[str] = mapped_column(Text, default="")

    folder: Mapped[Folder] = relationship()


class Disposal(Base):
    """The tombstone of a disposed record: why, on whose approval, under which retention."""

    __tablename__ = "disposal"
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), primary_key=True)
    disposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(100))
    retention: Mapped[str] = mapped_column(String(8), default="")
    trigger_date: Mapped[date | None] = mapped_column(Date)


# --------------------------------------------------------------------------- following the business
# Customers and cases imported from the business system's exports (SG186 and the like),
# the earlier values of every changed row, 户号 successions, and how scanned records
# were linked to their cases.


class ImportRun(Base):
    """One import of a business-system export: which file (by SHA-256), which mapping, what happened."""

    __tablename__ = "import_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # customers | cases
    file_name: Mapped[str] = mapped_column(String(400))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    mapping: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    counts: Mapped[dict] = mapped_column(JSON, default=dict)


class CustomerVersion(Base):
    """The values a customer had before an import changed them: never overwritten."""

    __tablename__ = "customer_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    earlier: Mapped[dict] = mapped_column(JSON, default=dict)  # the earlier values, all fields
    changed: Mapped[list] = mapped_column(JSON, default=list)  # names of the fields that changed
    valid_to: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"), index=True)
    source: Mapped[str] = mapped_column(String(400), default="")  # file:line that changed it


class CaseVersion(Base):
    """The values a business case had before an import changed them: never overwritten."""

    __tablename__ = "case_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("business_case.id"), index=True)
    earlier: Mapped[dict] = mapped_column(JSON, default=dict)
    changed: Mapped[list] = mapped_column(JSON, default=list)
    valid_to: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"), index=True)
    source: Mapped[str] = mapped_column(String(400), default="")


class AccountSuccession(Base):
    """原户号 → 户号 as the business system reported it (renumbered, 分户 split, 并户 merged).
    Kept so a re-import recognises a succession it has already applied."""

    __tablename__ = "account_succession"
    __table_args__ = (UniqueConstraint("old_account", "new_account"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_account: Mapped[str] = mapped_column(String(32), index=True)
    new_account: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # renumbered | split | merged
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_run.id"))


class CaseLink(Base):
    """How a scanned record came to belong to its business case, and how sure we are."""

    __tablename__ = "case_link"
    record_id: Mapped[int] = mapped_column(ForeignKey("archive_record.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("business_case.id"), index=True)
    method: Mapped[str] = mapped_column(String(24))  # work_order | account_and_type | operator
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    status: Mapped[str] = mapped_column(String(16), default="confirmed")  # proposed | confirmed
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
