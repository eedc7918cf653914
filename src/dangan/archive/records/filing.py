"""Filing a scanned file: its customer folders become records, or the file is quarantined.

The scanner hands over what it read and how it split the file (FileParts: one per customer
folder, at cover sheets or by the batch manifest); this module settles what each folder's
cover or manifest row names (a work order, a 户号, or an existing record the pages
supplement), accessions every folder of the file in the caller's transaction, writes the
split events and the confirmed case links, and proposes links for folders with no work
order. A file that cannot be taken is kept in the quarantine area with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.business.collection import CASE_LINK, propose_links
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import ArchiveRecord, BusinessCase, CaseLink, Page, Quarantined, SourceFile, utcnow
from dangan.archive.paper.labels import CoverCode
from dangan.archive.paper.locations import mark_born_digital
from dangan.archive.records.accession import FolderIntake, IntakePage, accession_folder, find_customer, join_record
from dangan.archive.store import FileStore

SPLIT = "folder split"  # event: a record made from part of a scanned file


@dataclass(frozen=True)
class FilePart:
    """One customer folder within a scanned file, as the scanner split it."""

    intake: FolderIntake
    pages: tuple[int, ...]  # source page numbers, in order
    how: str = ""  # "" (the whole file, or pages before the first cover) | cover | manifest
    link: CoverCode | None = None  # what the cover or manifest row names
    problem: str = ""  # a cover whose code cannot be used
    page_flags: dict[int, list[dict]] = field(default_factory=dict)  # source page → flags from folder checks

    @property
    def span(self) -> tuple[int, int]:
        return self.pages[0], self.pages[-1]


@dataclass(frozen=True)
class Filed:
    """A record made from one part of a file, and a problem for a person, if any."""

    record: ArchiveRecord
    part: FilePart
    problem: str


def file_parts(
    session: Session,
    parts: list[FilePart],
    pages: Iterator[IntakePage],
    *,
    fonds: str,
    actor: str,
    batch_id: int | None,
    scheme: ClassificationScheme,
) -> list[Filed]:
    """Accession every part of one file in the caller's transaction. PAGES yields the file's
    pages in source order; each part takes its own. The first part registers the source file;
    the later ones reuse its row."""
    filed: list[Filed] = []
    source: SourceFile | None = None
    split = len(parts) > 1
    for part in parts:
        settled, problem = _settle(session, part)
        intake = replace(part.intake, **settled)
        part_pages = _checked(islice(pages, len(part.pages)), part, problem)
        electronic = bool(intake.documents) and all(d.origin == "electronic" for d in intake.documents)
        joined = _record_to_join(session, part, intake) if electronic and not problem else None
        if joined is not None:
            record, how = joined
            record = join_record(
                session, record, intake, part_pages, actor=actor, batch_id=batch_id, source=source, how=how
            )
        else:
            record = accession_folder(
                session, intake, part_pages, fonds=fonds, actor=actor, batch_id=batch_id, source=source
            )
            if electronic:
                _mark_born_digital(session, record, scheme, actor)
        if source is None:
            source = session.scalar(select(SourceFile).filter_by(sha256=intake.source_sha256))
        if split or part.how:
            _record_split(session, record, part, actor)
        if record.case_id is None and record.customer_id is not None:
            # No work order on the pages: the customer's one open case of this business, if any.
            propose_links(session, scheme, customer_ids=[record.customer_id], actor=actor)
        filed.append(Filed(record, part, problem))
    if split and source is not None:
        source.page_count = sum(len(p.pages) for p in parts)
    return filed


def _record_to_join(session: Session, part: FilePart, intake: FolderIntake) -> tuple[ArchiveRecord, str] | None:
    """The existing record an electronic original belongs in, and what says so: the record a
    cover or manifest names, else the record of the case its work order names, else the one
    active record of the customer its 户号 names. None: it starts a record of its own."""
    if part.link is not None and part.link.kind == "record":
        record = session.scalar(select(ArchiveRecord).filter_by(number=part.link.value, status="active"))
        return (record, f"{part.how} {part.link.payload}") if record is not None else None
    if intake.work_order:
        record = session.scalar(
            select(ArchiveRecord)
            .join(BusinessCase, BusinessCase.id == ArchiveRecord.case_id)
            .where(BusinessCase.work_order == intake.work_order, ArchiveRecord.status == "active")
            .order_by(ArchiveRecord.id)
            .limit(1)
        )
        if record is not None:
            return record, f"work order {intake.work_order}"
    if intake.account_number:
        customer = find_customer(session, intake.account_number)
        records = (
            session.scalars(select(ArchiveRecord).filter_by(customer_id=customer.id, status="active").limit(2)).all()
            if customer is not None
            else []
        )
        if len(records) == 1:
            return records[0], f"户号 {intake.account_number}"
    return None


def _mark_born_digital(session: Session, record: ArchiveRecord, scheme: ClassificationScheme, actor: str) -> None:
    """A record made only of electronic originals has no paper to keep when the scheme says
    each of its document types may be born digital; otherwise reconciliation asks for paper."""
    types = [d.doc_type for d in record.documents]
    allowed = [t for t in types if t in scheme.document_types and scheme.document_types[t].born_digital]
    if types and len(allowed) == len(types):
        names = "、".join(scheme.document_types[t].name for t in dict.fromkeys(allowed))
        mark_born_digital(
            session, record.number, actor=actor, reason=f"electronic originals only ({names}): the scheme allows them"
        )


def _settle(session: Session, part: FilePart) -> tuple[dict, str]:
    """What a cover or manifest row settles about the folder, over what OCR read on its pages;
    and a problem for a person when the link cannot be followed.

    A cover naming an existing record marks a *supplement*: the pages become a new record
    (an archive number and the pages under it never change) with the same case, customer and
    business type as the record named."""
    link = part.link
    if link is None:
        return {}, part.problem
    if link.kind == "account":
        return {"account_number": link.value}, ""
    if link.kind == "work_order":
        case = session.scalar(select(BusinessCase).filter_by(work_order=link.value))
        settled = {"work_order": link.value}
    else:
        record = session.scalar(select(ArchiveRecord).filter_by(number=link.value))
        if record is None:
            return {}, f"the {part.how} names {link.value}, which is not in the archive; link this record by hand"
        case = record.case
        settled = {
            "work_order": case.work_order if case else None,
            "account_number": record.customer.account_number if record.customer else None,
            "business_type": record.classification.business_type if record.classification else None,
        }
    if case is not None:  # the case knows its customer better than a page's OCR
        if not settled.get("account_number") and case.customer is not None:
            settled["account_number"] = case.customer.account_number
        settled["business_type"] = settled.get("business_type") or case.business_type
    return {k: v for k, v in settled.items() if v}, ""


def _checked(pages: Iterable[IntakePage], part: FilePart, problem: str) -> Iterator[IntakePage]:
    """The part's pages, checked against its page numbers; a cover whose link cannot be
    followed sends the folder's first page to the QA queue."""
    expected = iter(part.pages)
    for page in pages:
        if page.source_page != next(expected, None):
            raise RuntimeError(f"staged pages out of order at page {page.source_page}; rerun the batch")
        if problem and page.source_page == part.pages[0]:
            page = replace(page, flags=[*page.flags, {"code": "folder_link", "severity": "fail", "message": problem}])
        if part.page_flags.get(page.source_page):
            page = replace(page, flags=[*page.flags, *part.page_flags[page.source_page]])
        yield page


def _record_split(session: Session, record: ArchiveRecord, part: FilePart, actor: str) -> None:
    """The event saying which pages of which file made RECORD and what they were linked to; and
    the case link, confirmed, when a cover or manifest row named the case."""
    first, last = part.span
    detail = {
        "source": part.intake.source_name,
        "source_sha256": part.intake.source_sha256,
        "first_page": first,
        "last_page": last,
        "how": part.how or "pages before the first cover",
        "link": part.link.payload if part.link else None,
    }
    if part.link and part.link.kind == "record":
        detail["supplements"] = part.link.value
    events.record_event(session, SPLIT, actor, "record", record.number, detail)
    if part.link and part.link.kind != "account" and record.case_id and session.get(CaseLink, record.id) is None:
        case = session.get(BusinessCase, record.case_id)
        reason = f"{part.how} {part.link.payload}" + (
            f" (supplement to {part.link.value})" if part.link.kind == "record" else ""
        )
        session.add(
            CaseLink(
                record_id=record.id,
                case_id=case.id,
                method=part.how,
                confidence=1.0,
                status="confirmed",
                reason=reason,
                actor=actor,
                at=utcnow(),
            )
        )
        session.flush()
        events.record_event(
            session,
            CASE_LINK,
            actor,
            "record",
            record.number,
            {"work_order": case.work_order, "method": part.how, "reason": reason},
        )


def records_of_source(session: Session, sha256: str) -> list[str]:
    """The numbers of the records made from the file SHA256, in the order they were made."""
    source = session.scalar(select(SourceFile).filter_by(sha256=sha256))
    if source is None:
        return []
    numbers = list(
        session.scalars(
            select(ArchiveRecord.number)
            .join(Page, Page.record_id == ArchiveRecord.id)
            .where(Page.source_id == source.id)
            .group_by(ArchiveRecord.id, ArchiveRecord.number)
            .order_by(ArchiveRecord.id)
        )
    )
    if not numbers and source.record_id:
        numbers = [session.get(ArchiveRecord, source.record_id).number]
    return numbers


def quarantine_file(
    session: Session,
    store: FileStore,
    path: Path,
    reason: str,
    *,
    actor: str,
    batch_id: int | None,
    reason_kept: dict | None = None,
) -> Quarantined:
    """Keep a refused file's bytes, under its own name, with the reason a person can act on
    (REASON as written; REASON_KEPT, when given, the same as text + params for other readers)."""
    stored = store.put_named("quarantine", path.name, path)
    row = Quarantined(
        batch_id=batch_id,
        original_name=str(path),
        stored_path=stored.relpath,
        sha256=stored.sha256,
        reason=reason,
        reason_kept=reason_kept,
    )
    session.add(row)
    events.record_event(
        session,
        events.QUARANTINE,
        actor,
        "file",
        stored.sha256,
        {"name": str(path), "reason": reason, "stored_path": stored.relpath},
    )
    return row
