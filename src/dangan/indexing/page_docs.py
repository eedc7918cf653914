"""What the index sees of a page, read from the database: `page_docs(session, ids)`.

Plain rows, not ORM objects: a rebuild reads every page of the archive, and building
objects (page, document, record, customer, case, classifications) for each one made the
reading alone slower than the index could write. Blank and superseded pages, and pages
of records that are no longer active, are not indexed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.business.scheme import ClassificationScheme, load_scheme
from dangan.archive.models import (
    AccountAlias,
    ArchiveRecord,
    Box,
    BusinessCase,
    Classification,
    Customer,
    Document,
    Folder,
    FolderRecord,
    Page,
)
from dangan.archive.paper.locations import box_path
from dangan.archive.personal import PersonalData
from dangan.indexing.schema import IndexDoc

# document type and business type code → name, and the scheme's personal-data rules
Names = tuple[dict[str, str], dict[str, str], PersonalData]
_NAMES: dict[str, Names] = {}  # by the scheme file's SHA-256


def _names(scheme: ClassificationScheme | None = None) -> Names:
    """The names the index shows beside the codes, from the archive's scheme (default: shipped)."""
    scheme = scheme or load_scheme()
    if scheme.sha256 not in _NAMES:
        docs = {code: t.name for code, t in scheme.document_types.items()}
        business = {t.code: t.name for t in scheme.business_types.values()}
        _NAMES[scheme.sha256] = (docs, business, scheme.personal)
    return _NAMES[scheme.sha256]


def page_docs(session: Session, page_ids: list[int], scheme: ClassificationScheme | None = None) -> list[IndexDoc]:
    """The index documents of PAGE_IDS that should be in the index, in page id order; SCHEME
    names the codes (default: the shipped scheme)."""
    if not page_ids:
        return []
    rows = session.execute(
        select(
            Page.id,
            Page.seq,
            Page.text,
            Page.fields,
            Page.qa_status,
            Page.record_id,
            Document.id.label("document_id"),
            Document.doc_type,
            Document.dated,
            ArchiveRecord.number,
            ArchiveRecord.created_at,
            ArchiveRecord.customer_id,
            Customer.name,
            Customer.address,
            BusinessCase.business_type.label("case_business_type"),
            BusinessCase.accepted_on,
            BusinessCase.work_order,
        )
        .join(Document, Document.id == Page.document_id)
        .join(ArchiveRecord, ArchiveRecord.id == Page.record_id)
        .outerjoin(Customer, Customer.id == ArchiveRecord.customer_id)
        .outerjoin(BusinessCase, BusinessCase.id == ArchiveRecord.case_id)
        .where(
            Page.id.in_(page_ids),
            Page.superseded_by_id.is_(None),
            Page.is_blank.is_(False),
            ArchiveRecord.status == "active",
        )
        .order_by(Page.id)
    ).all()
    record_ids = {r.record_id for r in rows}
    customer_ids = {r.customer_id for r in rows if r.customer_id is not None}
    current = _classifications(session, record_ids)
    accounts = _accounts(session, customer_ids)
    locations = _locations(session, record_ids)
    doc_names, business_names, personal = _names(scheme)
    docs = []
    for r in rows:
        cls_business, retention = current.get(r.record_id, ("", ""))
        business = cls_business or r.case_business_type or ""
        docs.append(
            IndexDoc(
                page_id=str(r.id),
                record_number=r.number,
                document_id=str(r.document_id),
                page_no=r.seq,
                text=r.text,
                account_numbers=accounts.get(r.customer_id, []),
                customer_name=r.name or "",
                address=r.address or "",
                business_type=business,
                business_name=business_names.get(business, ""),
                doc_type=r.doc_type or "",
                doc_type_name=doc_names.get(r.doc_type or "", ""),
                work_orders=[r.work_order] if r.work_order else [],
                # the document's own date; else the day its case was accepted; else accessioned
                date=r.dated or r.accepted_on or r.created_at.date(),
                location=locations.get(r.record_id, ""),
                qa_status=r.qa_status,
                retention=retention,
                personal_numbers=personal.numbers_in(r.text or "", personal.field_values(r.fields)),
            )
        )
    return docs


def _classifications(session: Session, record_ids: set[int]) -> dict[int, tuple[str, str]]:
    """record id -> (business type, retention) of the classification in force (the last not superseded)."""
    rows = session.execute(
        select(Classification.record_id, Classification.business_type, Classification.retention)
        .where(Classification.record_id.in_(record_ids), Classification.valid_to.is_(None))
        .order_by(Classification.id)
    )
    return {r.record_id: (r.business_type or "", r.retention or "") for r in rows}


def _accounts(session: Session, customer_ids: set[int]) -> dict[int, list[str]]:
    """customer id -> every 户号 it has had, sorted."""
    found: dict[int, set[str]] = {}
    for customer_id, account in session.execute(
        select(AccountAlias.customer_id, AccountAlias.account_number).where(AccountAlias.customer_id.in_(customer_ids))
    ):
        found.setdefault(customer_id, set()).add(account)
    return {customer_id: sorted(accounts) for customer_id, accounts in found.items()}


def _locations(session: Session, record_ids: set[int]) -> dict[int, str]:
    """record id -> where its paper is, as the room-to-box code path staff walk (e.g.
    K01/K01-C/K01-C-01/K01-C-01-1/B001); records without a shelved folder are left out."""
    boxes = dict(
        session.execute(
            select(FolderRecord.record_id, Folder.box_id)
            .join(Folder, Folder.id == FolderRecord.folder_id)
            .where(FolderRecord.record_id.in_(record_ids), Folder.box_id.is_not(None))
        ).all()
    )
    paths = {box_id: "/".join(box_path(session.get(Box, box_id))) for box_id in set(boxes.values())}
    return {record_id: paths[box_id] for record_id, box_id in boxes.items()}
