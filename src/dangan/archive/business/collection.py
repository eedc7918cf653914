"""Collection follows the business (按期收集): which documents each case still owes the archive,
by when, and which scanned records belong to which case.

A case's stage dates (from the business system's export) and the scheme's due_working_days
give, for every stage reached, the day its documents are expected in the archive. What is
still missing comes from evaluate_completeness over the documents present in the case's
records. A missing document is *overdue* after its due day, *due* from its stage's date until
then, and merely *expected* while its stage has not been reached. A closed case (归档 in the
business system) owes everything still missing, due on its closing day.

Scanned records find their case by the work order read from the page (accession). A record
with no readable work order whose 户号 has exactly one open case of the business type read
from the page is linked to that case as a *proposal* with a confidence, recorded as an event;
anything else waits for an operator (link_record).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.business.completeness import evaluate_completeness
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.business.workdays import due_dates
from dangan.archive.models import AccountAlias, ArchiveRecord, BusinessCase, CaseLink, Customer, Document, utcnow
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber
from dangan.errors import DanganError
from dangan.i18n import _

NO_DEPARTMENT = "(no department)"
CASE_LINK = "case link"
CASE_LINK_PROPOSED = "case link proposed"
PROPOSAL_CONFIDENCE_ONLY_OPEN_CASE = 0.85  # the customer's only open case, of the type read
PROPOSAL_CONFIDENCE_ONE_OF_TYPE = 0.7  # the only open case of that type among others


class CollectionError(DanganError, ValueError):
    """A case or record cannot be found or linked; the message says why."""


@dataclass(frozen=True)
class ArrivedDocument:
    code: str
    name: str
    record: str  # archive number
    link: str  # work_order | account_and_type | operator
    proposed: bool  # linked by a proposal nobody has confirmed yet


@dataclass(frozen=True)
class OwedDocument:
    codes: tuple[str, ...]  # one code, or the members of an any-of group
    name: str
    why: str  # mandatory | conditional: predicate
    stage: str
    stage_date: date | None
    due_on: date | None
    state: str  # overdue | due | expected

    @property
    def label(self) -> str:
        return " or ".join(self.codes) + f" {self.name}"


@dataclass(frozen=True)
class CaseDocuments:
    work_order: str
    business_type: str
    business_name: str
    variant: str
    department: str
    status: str
    account_number: str
    customer_name: str
    stage_dates: dict[str, date]
    due_dates: dict[str, date]
    arrived: tuple[ArrivedDocument, ...]
    owed: tuple[OwedDocument, ...]
    assumptions: tuple[str, ...] = ()
    records: tuple[str, ...] = ()  # the archive numbers of the case's active records

    @property
    def complete(self) -> bool:
        return not self.owed

    @property
    def overdue(self) -> tuple[OwedDocument, ...]:
        return tuple(d for d in self.owed if d.state == "overdue")

    @property
    def due(self) -> tuple[OwedDocument, ...]:
        return tuple(d for d in self.owed if d.state == "due")

    @property
    def next_due(self) -> date | None:
        dates = [d.due_on for d in self.owed if d.state in ("overdue", "due") and d.due_on]
        return min(dates) if dates else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "work_order": self.work_order,
            "business_type": self.business_type,
            "business_name": self.business_name,
            "variant": self.variant,
            "department": self.department,
            "status": self.status,
            "account_number": self.account_number,
            "customer": self.customer_name,
            "stage_dates": self.stage_dates,
            "due_dates": self.due_dates,
            "complete": self.complete,
            "arrived": [d.__dict__ for d in self.arrived],
            "owed": [{**d.__dict__, "codes": list(d.codes)} for d in self.owed],
            "assumptions": list(self.assumptions),
            "records": list(self.records),
        }


@dataclass
class DepartmentCollection:
    department: str
    cases: list[CaseDocuments] = field(default_factory=list)

    @property
    def overdue_cases(self) -> int:
        return sum(1 for c in self.cases if c.overdue)


# --------------------------------------------------------------------------- what a case has and owes


def _present(session: Session, case_ids: Iterable[int]) -> dict[int, list[tuple[str, str, str, bool]]]:
    """case id → [(doc type, archive number, link method, proposed)] of its active records."""
    ids = sorted(set(case_ids))
    out: dict[int, list] = defaultdict(list)
    for i in range(0, len(ids), 500):
        q = (
            select(ArchiveRecord.case_id, Document.doc_type, ArchiveRecord.number, CaseLink.method, CaseLink.status)
            .join(Document, Document.record_id == ArchiveRecord.id)
            .outerjoin(CaseLink, CaseLink.record_id == ArchiveRecord.id)
            .where(
                ArchiveRecord.case_id.in_(ids[i : i + 500]),
                ArchiveRecord.status == "active",
                Document.doc_type.is_not(None),
            )
            .order_by(ArchiveRecord.number, Document.item_no)
        )
        for case_id, doc_type, number, method, status in session.execute(q):
            out[case_id].append((doc_type, number, method or "work_order", status == "proposed"))
    return out


def _records(session: Session, case_ids: Iterable[int]) -> dict[int, list[str]]:
    """case id → archive numbers of its active records (with or without typed documents)."""
    ids = sorted(set(case_ids))
    out: dict[int, list[str]] = defaultdict(list)
    for i in range(0, len(ids), 500):
        q = (
            select(ArchiveRecord.case_id, ArchiveRecord.number)
            .where(ArchiveRecord.case_id.in_(ids[i : i + 500]), ArchiveRecord.status == "active")
            .order_by(ArchiveRecord.number)
        )
        for case_id, number in session.execute(q):
            out[case_id].append(number)
    return out


def case_facts(case: BusinessCase, customer: Customer | None) -> dict[str, Any]:
    """What chooses a case's variant and judges its conditions: the customer's voltage and
    class, then what the case itself says (the handover gate and the reports read the same)."""
    facts = {
        k: v
        for k in ("voltage_class", "customer_class")
        if customer is not None and (v := getattr(customer, k) or None)
    }
    facts.update(case.facts or {})
    return facts


def _dates(stage_dates: dict) -> dict[str, date]:
    out = {}
    for k, v in (stage_dates or {}).items():
        try:
            out[k] = v if isinstance(v, date) else date.fromisoformat(str(v))
        except ValueError:
            continue
    return out


def evaluate_case(
    scheme: ClassificationScheme,
    case: BusinessCase,
    customer: Customer | None,
    present: list[tuple[str, str, str, bool]],
    *,
    today: date,
    holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    records: Iterable[str] = (),
) -> CaseDocuments:
    """What CASE has received and still owes, each owed document with its due day and state.
    A case with nothing scanned owes everything; a closed case owes what is missing, due on
    its closing day."""
    bt = scheme.business_type(case.business_type)
    facts = case_facts(case, customer)
    result = evaluate_completeness(
        scheme,
        bt.code,
        present_documents=[p[0] for p in present],
        facts=facts,
        billing_fields=case.billing_fields or {},
    )
    rule = bt.variant(result.variant)
    all_dates = _dates(case.stage_dates)
    stage_dates = {s.name: all_dates[s.name] for s in rule.stages if s.name in all_dates}
    due = due_dates(
        scheme,
        bt.code,
        stage_dates,
        facts=facts,
        holidays=frozenset(holidays),
        extra_workdays=frozenset(extra_workdays),
    )
    closed_on = all_dates.get("closed") if case.status == "closed" else None
    first_stage = rule.stages[0].name
    owed = []
    for m in result.missing:
        stage = m.stage or first_stage
        reached = stage_dates.get(stage)
        due_on = due.get(stage, reached)
        if reached is None and closed_on is not None:
            due_on = closed_on
        if due_on is None:
            state = "expected"
        elif due_on < today:
            state = "overdue"
        else:
            state = "due"
        owed.append(OwedDocument(m.doc_types, m.name, m.why, stage, reached, due_on, state))
    arrived = tuple(
        ArrivedDocument(
            code, scheme.document_types[code].name if code in scheme.document_types else code, number, method, proposed
        )
        for code, number, method, proposed in present
    )
    order = {"overdue": 0, "due": 1, "expected": 2}
    owed.sort(key=lambda d: (order[d.state], d.due_on or date.max, d.codes))
    return CaseDocuments(
        case.work_order or "",
        bt.code,
        bt.name,
        rule.name,
        case.department or "",
        case.status,
        customer.account_number if customer else "",
        customer.name if customer else "",
        stage_dates,
        due,
        arrived,
        tuple(owed),
        result.assumptions,
        tuple(records),
    )


def case_documents(
    session: Session,
    scheme: ClassificationScheme,
    work_order: str,
    *,
    today: date | None = None,
    holidays: Iterable[date] = (),
) -> CaseDocuments:
    """`dangan case show WORKORDER`: the case's stages, due days, documents arrived and owed."""
    case = session.scalar(select(BusinessCase).filter_by(work_order=work_order))
    if case is None:
        raise CollectionError(_("no business case with work order {work_order}").format(work_order=work_order))
    if not case.business_type:
        raise CollectionError(
            _(
                "case {work_order} has no business type yet: import it from the business system's "
                "export (dangan import cases FILE)"
            ).format(work_order=work_order)
        )
    present = _present(session, [case.id]).get(case.id, [])
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    records = _records(session, [case.id]).get(case.id, [])
    return evaluate_case(
        scheme, case, customer, present, today=today or date.today(), holidays=holidays, records=records
    )


@dataclass(frozen=True)
class Unjudged:
    """A case whose dues cannot be worked out, and why (a person must fix the data)."""

    work_order: str
    problem: str


def _cases(
    session: Session,
    department: str | None,
    business_type: str | None,
    customer_id: int | None,
    chunk: int,
) -> Iterator[list[BusinessCase]]:
    last = 0
    while True:
        q = select(BusinessCase).where(BusinessCase.id > last, BusinessCase.business_type != "")
        if department is not None:
            q = q.where(BusinessCase.department == department)
        if business_type is not None:
            q = q.where(BusinessCase.business_type == business_type)
        if customer_id is not None:
            q = q.where(BusinessCase.customer_id == customer_id)
        rows = session.scalars(q.order_by(BusinessCase.id).limit(chunk)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def cases_owing(
    session: Session,
    scheme: ClassificationScheme,
    *,
    today: date,
    department: str | None = None,
    business_type: str | None = None,
    customer: str | None = None,
    holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    unjudged: list[Unjudged] | None = None,
    chunk: int = 500,
) -> Iterator[CaseDocuments]:
    """Every case with a business type, with what it has received and still owes, by when: the
    ONE computation behind `dangan collect`, the overdue report and the web's collection page.
    Cases with nothing scanned are included (they owe everything); cases that cannot be judged
    (a business type the scheme no longer has, stage dates that do not fit it) are added to
    UNJUDGED. CUSTOMER is a 户号 (any the customer has had). Walks the cases in chunks."""
    code = scheme.business_type(business_type).code if business_type else None
    customer_id = None
    if customer:
        alias = session.get(AccountAlias, customer.strip())
        customer_id = alias.customer_id if alias else -1
    holidays, extra = frozenset(holidays), frozenset(extra_workdays)
    for cases in _cases(session, department, code, customer_id, chunk):
        ids = [c.id for c in cases]
        present, records = _present(session, ids), _records(session, ids)
        customer_ids = {c.customer_id for c in cases if c.customer_id}
        customers = (
            {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))}
            if customer_ids
            else {}
        )
        for case in cases:
            try:
                yield evaluate_case(
                    scheme,
                    case,
                    customers.get(case.customer_id),
                    present.get(case.id, []),
                    today=today,
                    holidays=holidays,
                    extra_workdays=extra,
                    records=records.get(case.id, []),
                )
            except (KeyError, ValueError) as e:
                if unjudged is not None:
                    unjudged.append(Unjudged(case.work_order or f"case #{case.id}", str(e.args[0] if e.args else e)))
        session.expunge_all()


def collection_list(
    session: Session,
    scheme: ClassificationScheme,
    *,
    today: date | None = None,
    department: str | None = None,
    overdue_only: bool = False,
    holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    chunk: int = 500,
) -> list[DepartmentCollection]:
    """`dangan collect`: per department, the cases whose documents are due or overdue, and which."""
    today = today or date.today()
    by_department: dict[str, DepartmentCollection] = {}
    for docs in cases_owing(
        session,
        scheme,
        today=today,
        department=department,
        holidays=tuple(holidays),
        extra_workdays=tuple(extra_workdays),
        chunk=chunk,
    ):
        if docs.overdue or (docs.due and not overdue_only):
            dept = docs.department or NO_DEPARTMENT
            by_department.setdefault(dept, DepartmentCollection(dept)).cases.append(docs)
    for dept in by_department.values():
        dept.cases.sort(key=lambda c: (c.next_due or date.max, c.work_order))
    return [by_department[k] for k in sorted(by_department)]


# --------------------------------------------------------------------------- linking records to cases


def _business_type_read(record: ArchiveRecord) -> str:
    current = [c for c in record.classifications if c.valid_to is None]
    return current[-1].business_type if current else ""


def propose_links(
    session: Session, scheme: ClassificationScheme, *, customer_ids: Iterable[int] | None = None, actor: str
) -> list[CaseLink]:
    """Link unlinked scanned records to a case when there is exactly one candidate: an open case
    of the customer with the business type read from the pages. Each link is a proposal with a
    confidence, recorded as an event; ambiguous records are left for an operator."""
    q = select(ArchiveRecord).where(
        ArchiveRecord.case_id.is_(None), ArchiveRecord.status == "active", ArchiveRecord.customer_id.is_not(None)
    )
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        if not ids:
            return []
        q = q.where(ArchiveRecord.customer_id.in_(ids))
    links = []
    for record in session.scalars(q.order_by(ArchiveRecord.id)).all():
        read = _business_type_read(record)
        if not read:
            continue
        try:
            code = scheme.business_type(read).code
        except KeyError:
            continue
        open_cases = session.scalars(
            select(BusinessCase).where(BusinessCase.customer_id == record.customer_id, BusinessCase.status != "closed")
        ).all()
        of_type = [c for c in open_cases if c.business_type == code]
        if len(of_type) != 1:
            continue
        case = of_type[0]
        confidence = PROPOSAL_CONFIDENCE_ONLY_OPEN_CASE if len(open_cases) == 1 else PROPOSAL_CONFIDENCE_ONE_OF_TYPE
        reason = f"no work order read; 户号 has exactly one open {code} case" + (
            "" if len(open_cases) == 1 else f" among {len(open_cases)} open cases"
        )
        link = CaseLink(
            record_id=record.id,
            case_id=case.id,
            method="account_and_type",
            confidence=confidence,
            status="proposed",
            reason=reason,
            actor=actor,
            at=utcnow(),
        )
        session.merge(link)
        record.case_id = case.id
        session.flush()
        events.record_event(
            session,
            CASE_LINK_PROPOSED,
            actor,
            "record",
            record.number,
            {"work_order": case.work_order, "method": "account_and_type", "confidence": confidence, "reason": reason},
        )
        links.append(link)
    return links


def link_record(session: Session, number: str, work_order: str, *, actor: str, reason: str = "") -> CaseLink:
    """An operator links record NUMBER to case WORK_ORDER, or confirms a proposed link."""

    try:
        number = str(ArchiveNumber.parse(number))
    except InvalidArchiveNumber as exc:
        raise CollectionError(str(exc)) from None
    record = session.scalar(select(ArchiveRecord).filter_by(number=number).with_for_update())
    if record is None:
        raise CollectionError(_("no record numbered {number}").format(number=number))
    if record.status != "active":
        raise CollectionError(
            _("record {number} is {status}; it cannot be linked").format(number=number, status=record.status)
        )
    case = session.scalar(select(BusinessCase).filter_by(work_order=work_order))
    if case is None:
        raise CollectionError(
            _("no business case with work order {work_order}: import the cases export first").format(
                work_order=work_order
            )
        )
    if record.customer_id and case.customer_id and record.customer_id != case.customer_id:
        rec_c, case_c = session.get(Customer, record.customer_id), session.get(Customer, case.customer_id)
        raise CollectionError(
            _(
                "record {number} belongs to 户号 {account_number} but case {work_order} to 户号 "
                "{account_number2}; correct the record's 户号 first"
            ).format(
                number=number,
                account_number=rec_c.account_number,
                work_order=work_order,
                account_number2=case_c.account_number,
            )
        )
    existing = session.get(CaseLink, record.id)
    before = {"work_order": None, "status": None}
    if record.case_id:
        prior = session.get(BusinessCase, record.case_id)
        before = {
            "work_order": prior.work_order if prior else None,
            "status": existing.status if existing else "confirmed",
            "method": existing.method if existing else "work_order",
        }
    if record.case_id == case.id and existing is not None and existing.status == "confirmed":
        raise CollectionError(
            _("record {number} is already linked to case {work_order}").format(number=number, work_order=work_order)
        )
    link = existing or CaseLink(record_id=record.id)
    link.case_id, link.method, link.confidence, link.status = case.id, "operator", 1.0, "confirmed"
    link.reason, link.actor, link.at = reason or "linked by an operator", actor, utcnow()
    session.add(link)
    record.case_id = case.id
    if record.customer_id is None:
        record.customer_id = case.customer_id
    session.flush()
    events.record_event(
        session,
        CASE_LINK,
        actor,
        "record",
        number,
        {"before": before, "after": {"work_order": work_order, "status": "confirmed"}, "reason": link.reason},
    )
    return link


__all__ = [
    "ArrivedDocument",
    "CaseDocuments",
    "CollectionError",
    "DepartmentCollection",
    "OwedDocument",
    "Unjudged",
    "case_documents",
    "case_facts",
    "cases_owing",
    "collection_list",
    "evaluate_case",
    "link_record",
    "propose_links",
]
