"""A record's life after accession: reclassification, 户号 changes, voiding a number,
retention and disposal.

None of these touches the archive number, the stored file paths or the printed labels.
Earlier values are never overwritten in place: a Classification row is closed and a new
one appended, a document type change leaves a DocumentTypeChange row, a disposed record
keeps its metadata as a tombstone. Every change is a hash-chained event, and every change
to a search field queues the record's pages for the indexer (records.index_queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.business.workdays import add_months
from dangan.archive.identifiers import InvalidIdentifier, validate_account_number
from dangan.archive.models import (
    AccountAlias,
    ArchiveRecord,
    BusinessCase,
    Classification,
    Customer,
    Disposal,
    Document,
    DocumentTypeChange,
    utcnow,
)
from dangan.archive.paper.locations import set_folder_state
from dangan.archive.records.accession import record_title
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber
from dangan.errors import DanganError
from dangan.i18n import _

VOLTAGE_CLASSES = ("LV", "HV")
CUSTOMER_CLASSES = ("residential", "non_residential")
ACCOUNT_NUMBER_CHANGE = "account number change"
DISPOSAL = "disposal"
CASE_CLOSED = "case closed"


class LifecycleError(DanganError, ValueError):
    """A reclassification, 户号 change, void or disposal cannot be done; the message says why."""


class ReclassifyError(LifecycleError):
    pass


class DisposalRefused(LifecycleError):
    pass


def _record(session: Session, number: str, *, lock: bool = True) -> ArchiveRecord:
    try:
        text = str(ArchiveNumber.parse(number))
    except InvalidArchiveNumber as e:
        raise LifecycleError(str(e)) from None
    q = select(ArchiveRecord).filter_by(number=text)
    record = session.scalar(q.with_for_update() if lock else q)
    if record is None:
        raise LifecycleError(_("no record numbered {text}").format(text=text))
    return record


def _need_reason(reason: str, what: str) -> None:
    if not (reason or "").strip():
        raise LifecycleError(_("{what} needs a reason (--reason)").format(what=what))


# --------------------------------------------------------------------------- reclassification


def reclassify(
    session: Session,
    number: str,
    *,
    reason: str,
    actor: str,
    scheme: ClassificationScheme,
    business_type: str | None = None,
    voltage_class: str | None = None,
    customer_class: str | None = None,
    retention: str | None = None,
    doc_types: Mapping[int, str] | None = None,
) -> ArchiveRecord:
    """Change a record's business type, customer attributes, retention or document types.

    The current Classification is closed (valid_to) and a new one appended, so every earlier
    value stays readable; values the new type does not use are carried over, not dropped."""
    _need_reason(reason, "a reclassification")
    record = _record(session, number)
    if record.status != "active":
        raise ReclassifyError(
            _("record {number} is {status}; it cannot be reclassified").format(
                number=record.number, status=record.status
            )
        )
    current = record.classification
    before = _cls_values(current)
    after = dict(before)
    if business_type is not None:
        try:
            after["business_type"] = scheme.business_type(business_type).code
        except KeyError as e:
            raise ReclassifyError(e.args[0]) from None
    if voltage_class is not None:
        if voltage_class.upper() not in VOLTAGE_CLASSES:
            raise ReclassifyError(
                _("voltage class {voltage_class!r} must be one of {choices}").format(
                    voltage_class=voltage_class, choices=", ".join(VOLTAGE_CLASSES)
                )
            )
        after["voltage_class"] = voltage_class.upper()
    if customer_class is not None:
        if customer_class not in CUSTOMER_CLASSES:
            raise ReclassifyError(
                _("customer class {customer_class!r} must be one of {choices}").format(
                    customer_class=customer_class, choices=", ".join(CUSTOMER_CLASSES)
                )
            )
        after["customer_class"] = customer_class
    if retention is not None:
        if retention.upper() not in scheme.retention_codes:
            raise ReclassifyError(
                _("retention {retention!r} must be one of {choices}").format(
                    retention=retention, choices=", ".join(scheme.retention_codes)
                )
            )
        after["retention"] = retention.upper()
    doc_changes = _document_changes(record, scheme, doc_types or {})
    if after == before and not doc_changes:
        raise ReclassifyError(_("nothing to change: {number} already has these values").format(number=record.number))
    now = utcnow()
    if after != before:
        if current is not None:
            current.valid_to = now
        session.add(
            Classification(
                record_id=record.id,
                valid_from=now,
                reason=reason,
                actor=actor,
                attributes=dict(current.attributes or {}) if current else {},
                **after,
            )
        )
    for doc, new_type in doc_changes:
        session.add(
            DocumentTypeChange(
                document_id=doc.id, old_type=doc.doc_type, new_type=new_type, at=now, reason=reason, actor=actor
            )
        )
    detail = {
        "reason": reason,
        "before": before,
        "after": after,
        "documents": [{"item_no": d.item_no, "from": d.doc_type, "to": t} for d, t in doc_changes],
    }
    for doc, new_type in doc_changes:
        doc.doc_type = new_type
    if after["business_type"] != before["business_type"]:
        _follow_business_type(record, after["business_type"])
        detail["case_business_type"] = record.case.business_type if record.case else None
    session.flush()
    session.expire(record, ["classifications"])
    events.record_event(session, events.METADATA_MODIFICATION, actor, "record", record.number, detail)
    return record


def _follow_business_type(record: ArchiveRecord, new: str) -> None:
    """The record's title and its case's business type, unless the business system said it
    (an imported case keeps its type; the record's own classification differs, for a person
    to see in the completeness report)."""
    case = record.case
    if case is not None and case.type_source != "import":
        case.business_type, case.type_source = new, "reclassification"
    name = (record.customer.name if record.customer else "") or record.title.partition(" · ")[0]
    record.title = record_title("" if name == "customer not read" else name, new)


def _cls_values(c: Classification | None) -> dict[str, str]:
    keys = ("business_type", "voltage_class", "customer_class", "retention")
    return {k: (getattr(c, k) if c is not None else "") or "" for k in keys}


def _document_changes(
    record: ArchiveRecord, scheme: ClassificationScheme, doc_types: Mapping[int, str]
) -> list[tuple[Document, str]]:
    by_item = {d.item_no: d for d in record.documents}
    changes = []
    for item_no, code in sorted(doc_types.items()):
        doc = by_item.get(int(item_no))
        if doc is None:
            raise ReclassifyError(
                _("record {number} has no document 件 {item_no} (it has {value})").format(
                    number=record.number, item_no=item_no, value=", ".join(map(str, sorted(by_item))) or "none"
                )
            )
        try:
            new_type = scheme.document_type(code).code
        except KeyError as e:
            raise ReclassifyError(e.args[0]) from None
        if new_type != doc.doc_type:
            changes.append((doc, new_type))
    return changes


def classification_history(session: Session, number: str) -> list[dict[str, Any]]:
    """Every classification the record has had, oldest first, plus document type changes."""
    record = _record(session, number, lock=False)
    rows: list[dict[str, Any]] = [
        {
            "what": "classification",
            **_cls_values(c),
            "valid_from": c.valid_from,
            "valid_to": c.valid_to,
            "reason": c.reason,
            "actor": c.actor,
        }
        for c in record.classifications
    ]
    doc_ids = {d.id: d.item_no for d in record.documents}
    if doc_ids:
        for ch in session.scalars(
            select(DocumentTypeChange)
            .where(DocumentTypeChange.document_id.in_(doc_ids))
            .order_by(DocumentTypeChange.id)
        ):
            rows.append(
                {
                    "what": "document type",
                    "item_no": doc_ids[ch.document_id],
                    "from": ch.old_type,
                    "to": ch.new_type,
                    "at": ch.at,
                    "reason": ch.reason,
                    "actor": ch.actor,
                }
            )
    return rows


def update_case(
    session: Session,
    work_order: str,
    *,
    actor: str,
    reason: str,
    billing_fields: Mapping[str, Any] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> BusinessCase:
    """Record a case's billing-critical fields or facts as a clerk confirms them; the values
    replaced are kept in the event. Validation happens at handover (evaluate_completeness)."""
    _need_reason(reason, "changing a business case")
    case = session.scalar(select(BusinessCase).filter_by(work_order=work_order).with_for_update())
    if case is None:
        raise LifecycleError(_("no business case with work order {work_order}").format(work_order=work_order))
    before = {"billing_fields": dict(case.billing_fields or {}), "facts": dict(case.facts or {})}
    if billing_fields:
        case.billing_fields = {**before["billing_fields"], **billing_fields}
    if facts:
        case.facts = {**before["facts"], **facts}
    session.flush()
    events.record_event(
        session,
        events.METADATA_MODIFICATION,
        actor,
        "case",
        work_order,
        {"reason": reason, "before": before, "after": {"billing_fields": case.billing_fields, "facts": case.facts}},
    )
    return case


# --------------------------------------------------------------------------- 户号 changes


def change_account_number(session: Session, old: str, new: str, reason: str, actor: str) -> Customer:
    """户号 change (or 并户 into an existing account): the customer's records stay findable by
    the old number and the new one. If NEW already belongs to another customer, the old
    customer's records and account numbers move to it (并户)."""
    _need_reason(reason, "a 户号 change")
    try:
        old, new = validate_account_number(old), validate_account_number(new)
    except InvalidIdentifier as e:
        raise LifecycleError(str(e)) from None
    if old == new:
        raise LifecycleError(_("old and new 户号 are the same"))
    old_alias = session.get(AccountAlias, old)
    if old_alias is None:
        raise LifecycleError(_("no customer has ever had 户号 {old}").format(old=old))
    source = session.execute(select(Customer).filter_by(id=old_alias.customer_id).with_for_update()).scalar_one()
    today = date.today()
    new_alias = session.get(AccountAlias, new)
    if new_alias is not None and new_alias.customer_id == source.id:
        raise LifecycleError(_("户号 {new} already belongs to this customer").format(new=new))
    if new_alias is None:  # a plain 户号 change: same customer, a new current number
        target = source
        session.add(AccountAlias(account_number=new, customer_id=target.id, valid_from=today, reason=reason))
        source.account_number = new
        merged = False
    else:  # 并户: the old account is absorbed by the one that already has NEW
        target = session.get(Customer, new_alias.customer_id)
        for alias in list(source.aliases):
            alias.customer_id = target.id
        for rec in session.scalars(select(ArchiveRecord).filter_by(customer_id=source.id)):
            rec.customer_id = target.id
        for case in session.scalars(select(BusinessCase).filter_by(customer_id=source.id)):
            case.customer_id = target.id
        # keep the absorbed customer row (its history); free its unique 户号 for nothing else
        source.account_number = f"merged:{old}"[:32]
        merged = True
    old_alias.valid_to = today
    if reason not in (old_alias.reason or ""):
        old_alias.reason = f"{old_alias.reason}; {reason}".strip("; ")[:200]
    session.flush()
    events.record_event(
        session,
        ACCOUNT_NUMBER_CHANGE,
        actor,
        "customer",
        new,
        {"old": old, "new": new, "merged": merged, "reason": reason},
    )
    session.expire(target, ["aliases"])
    return target


# --------------------------------------------------------------------------- void


def void_number(session: Session, number: str, *, reason: str, actor: str) -> ArchiveRecord:
    """Abandon a number (e.g. label printed, record withdrawn). It is never reused, so the
    gap report lists it with its reason."""
    _need_reason(reason, "voiding a number")
    record = _record(session, number)
    if record.status != "active":
        raise LifecycleError(
            _("record {number} is already {status}").format(number=record.number, status=record.status)
        )
    record.status, record.void_reason = "void", reason
    session.flush()
    events.record_event(session, events.NUMBER_VOIDED, actor, "record", record.number, {"reason": reason})
    return record


# --------------------------------------------------------------------------- retention


def close_case(session: Session, work_order: str, closed_on: date, *, actor: str) -> BusinessCase:
    """Mark a business case closed: the day its retention period can start counting from."""
    case = session.scalar(select(BusinessCase).filter_by(work_order=work_order).with_for_update())
    if case is None:
        raise LifecycleError(_("no business case with work order {work_order}").format(work_order=work_order))
    case.status = "closed"
    case.stage_dates = {**(case.stage_dates or {}), "closed": closed_on.isoformat()}
    session.flush()
    events.record_event(session, CASE_CLOSED, actor, "case", work_order, {"closed_on": closed_on})
    return case


@dataclass(frozen=True)
class RetentionStatus:
    number: str
    business_type: str
    retention: str
    years: int | None
    trigger: str
    trigger_date: date | None
    due_on: date | None
    state: str  # due | running | not started | permanent | unknown

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _closed_on(case: BusinessCase | None) -> date | None:
    if case is None or case.status != "closed":
        return None
    value = (case.stage_dates or {}).get("closed")
    return date.fromisoformat(value) if value else None


def retention_of(
    session: Session, record: ArchiveRecord, scheme: ClassificationScheme, today: date | None = None
) -> RetentionStatus:
    """When the record may be appraised for disposal. The retention code is the record's
    own (appraisal may have changed it) or its business type's; the period starts on
    1 January after the trigger (case closed, or the account closed by a 销户 case)."""
    today = today or date.today()
    cls = record.classification
    code = (cls.business_type if cls else "") or (record.case.business_type if record.case else "")
    try:
        bt = scheme.business_type(code) if code else None
    except KeyError:
        bt = None
    retention = (cls.retention if cls and cls.retention else "") or (bt.retention.code if bt else "")
    if bt is None or retention not in scheme.retention_codes:
        return RetentionStatus(record.number, code, retention, None, "", None, None, "unknown")
    years = scheme.retention_codes[retention].years
    trigger = bt.retention.trigger
    if trigger == "case_closed":
        start = _closed_on(record.case)
    else:  # account_closed: a closed 销户 case of the same customer
        cases = session.scalars(
            select(BusinessCase).filter_by(customer_id=record.customer_id, business_type="XH", status="closed")
        ).all()
        dates = [d for d in (_closed_on(c) for c in cases) if d]
        start = max(dates) if dates and record.customer_id else None
    if years is None:
        return RetentionStatus(record.number, bt.code, retention, None, trigger, start, None, "permanent")
    if start is None:
        return RetentionStatus(record.number, bt.code, retention, years, trigger, None, None, "not started")
    due = add_months(date(start.year + 1, 1, 1), 12 * years)
    return RetentionStatus(
        record.number, bt.code, retention, years, trigger, start, due, "due" if due <= today else "running"
    )


def retention_due(session: Session, scheme: ClassificationScheme, today: date | None = None) -> list[RetentionStatus]:
    """Active records whose retention period has run out: candidates for appraisal."""
    due = []
    for record in session.scalars(select(ArchiveRecord).filter_by(status="active").order_by(ArchiveRecord.number)):
        status = retention_of(session, record, scheme, today)
        if status.state == "due":
            due.append(status)
    return due


def dispose(
    session: Session,
    number: str,
    *,
    reason: str,
    approved_by: str,
    actor: str,
    scheme: ClassificationScheme,
    today: date | None = None,
) -> ArchiveRecord:
    """Dispose of a record whose retention has run out. Its metadata stays as a tombstone
    (status 'disposed' plus a Disposal row); its paper folder becomes 'destroyed' once every
    record in it is disposed; its pages leave the search index."""
    _need_reason(reason, "a disposal")
    if not approved_by.strip():
        raise DisposalRefused(_("a disposal needs the appraisal approver (--approved-by)"))
    record = _record(session, number)
    if record.status != "active":
        raise DisposalRefused(_("record {number} is {status}").format(number=record.number, status=record.status))
    status = retention_of(session, record, scheme, today)
    if status.state != "due":
        when = f" (due on {status.due_on})" if status.due_on else ""
        raise DisposalRefused(
            _("record {number} is not due for disposal: retention {value} is {state}{when}").format(
                number=record.number, value=status.retention or "?", state=status.state, when=when
            )
        )
    folder = record.folder
    if folder is not None and folder.state == "on_loan":
        raise DisposalRefused(_("the paper of {number} is on loan; get it back first").format(number=record.number))
    record.status = "disposed"
    session.add(
        Disposal(
            record_id=record.id,
            reason=reason,
            approved_by=approved_by,
            actor=actor,
            retention=status.retention,
            trigger_date=status.trigger_date,
        )
    )
    session.flush()
    events.record_event(
        session,
        DISPOSAL,
        actor,
        "record",
        record.number,
        {
            "reason": reason,
            "approved_by": approved_by,
            "retention": status.retention,
            "trigger": status.trigger,
            "trigger_date": status.trigger_date,
            "due_on": status.due_on,
        },
    )
    if folder is not None and all(r.status == "disposed" for r in folder.records):
        set_folder_state(session, folder, "destroyed", actor=actor, reason=f"disposal of {record.number}")
    return record
