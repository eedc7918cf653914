"""交接: a business department hands a set of records over to the archive room.

The completeness rules of the scheme are the gate: a record whose case misses a mandatory
document, has an invalid billing-critical field or an unmet precondition is refused, and
the refusal lists every problem of every record. Nothing is accepted silently; an
override needs a reason and is itself an event.

A refusal is a recorded outcome, not a failure of the call: offer_handover returns the
refused Handover so the caller commits its events; `require_accepted` turns it into a
HandoverRefused for callers that prefer an exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.business.completeness import CompletenessResult, evaluate_completeness
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import ArchiveRecord, Handover, HandoverItem, utcnow
from dangan.archive.paper.locations import set_folder_state
from dangan.archive.records.views import find_records
from dangan.errors import DanganError, ExitStatus
from dangan.i18n import _

ARCHIVE_ROOM = "档案室"
OFFERED, REFUSED, ACCEPTED, OVERRIDE = (
    "handover offered",
    "handover refused",
    "handover accepted",
    "handover override",
)


class HandoverError(DanganError, ValueError):
    """The handover cannot even be evaluated (unknown number, no records, override without reason)."""


class HandoverRefused(DanganError):
    """A handover was refused; ``problems`` maps each archive number to what is wrong with it."""

    exit_status = ExitStatus.PROBLEMS_FOUND
    http_status = 409

    def __init__(self, handover_id: int, problems: dict[str, list[str]]):
        self.handover_id = handover_id
        self.problems = problems
        lines = [f"{number}: {p}" for number, ps in problems.items() for p in ps]
        refused = _("handover #{id} refused: the records below cannot be handed over until this is put right")
        super().__init__(refused.format(id=handover_id) + "\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class RecordCheck:
    number: str
    problems: tuple[str, ...]
    result: CompletenessResult | None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_record(session: Session, record: ArchiveRecord, scheme: ClassificationScheme) -> RecordCheck:
    """Evaluate one record for handover. The documents counted are those of every active
    record of the same business case, so a supplement accessioned later completes the case."""
    if record.status != "active":
        return RecordCheck(record.number, (_("record is {status}").format(status=record.status),), None)
    accepted = session.scalar(
        select(Handover.id)
        .join(HandoverItem, HandoverItem.handover_id == Handover.id)
        .where(HandoverItem.record_id == record.id, Handover.status == "accepted")
    )
    if accepted:
        return RecordCheck(record.number, (_("already accepted in handover #{id}").format(id=accepted),), None)
    case, cls = record.case, record.classification
    business_type = (cls.business_type if cls else "") or (case.business_type if case else "")
    if not business_type:
        return RecordCheck(record.number, ("no business type: reclassify the record first",), None)
    if case is None:
        return RecordCheck(record.number, ("no business case (work order) linked to the record",), None)
    siblings = session.scalars(select(ArchiveRecord).filter_by(case_id=case.id, status="active")).all()
    present = [d.doc_type for r in siblings for d in r.documents if d.doc_type]
    facts = dict(case.facts or {})
    if cls is not None:  # attributes at the time, unless the case states them itself
        for key in ("voltage_class", "customer_class"):
            if getattr(cls, key) and facts.get(key) is None:
                facts[key] = getattr(cls, key)
    try:
        result = evaluate_completeness(
            scheme, business_type, present_documents=present, facts=facts, billing_fields=case.billing_fields or {}
        )
    except (KeyError, ValueError) as e:
        return RecordCheck(record.number, (str(e.args[0] if e.args else e),), None)
    return RecordCheck(record.number, tuple(result.problems()), result)


def offer_handover(
    session: Session,
    numbers: Iterable[str],
    *,
    from_dept: str,
    actor: str,
    scheme: ClassificationScheme,
    to_dept: str = ARCHIVE_ROOM,
    offered_by: str | None = None,
    override_reason: str | None = None,
) -> Handover:
    """Offer NUMBERS from FROM_DEPT to TO_DEPT; ACTOR receives them. Returns the handover,
    accepted when every record passes (or an override reason is given), refused otherwise."""
    if override_reason is not None and not override_reason.strip():
        raise HandoverError(_("an override needs a reason (--reason)"))
    records = _records(session, numbers)
    offered_by = offered_by or actor
    handover = Handover(from_dept=from_dept, to_dept=to_dept, offered_by=offered_by, status="offered")
    session.add(handover)
    session.flush()
    checks = [check_record(session, r, scheme) for r in records]
    for record, check in zip(records, checks):
        handover.items.append(
            HandoverItem(record=record, ok=check.ok, problems=list(check.problems), scheme_version=scheme.version)
        )
    session.flush()
    hid = str(handover.id)
    events.record_event(
        session,
        OFFERED,
        offered_by,
        "handover",
        hid,
        {"from": from_dept, "to": to_dept, "records": [r.number for r in records]},
    )
    problems = {c.number: list(c.problems) for c in checks if not c.ok}
    handover.decided_at = utcnow()
    if problems and not override_reason:
        handover.status = "refused"
        handover.received_by = actor
        session.flush()
        events.record_event(
            session,
            REFUSED,
            actor,
            "handover",
            hid,
            {"from": from_dept, "to": to_dept, "problems": problems, "scheme_version": scheme.version},
        )
        return handover
    if problems:
        handover.override_reason = override_reason
        events.record_event(
            session, OVERRIDE, actor, "handover", hid, {"reason": override_reason, "problems_overridden": problems}
        )
    handover.status, handover.received_by = "accepted", actor
    session.flush()
    for record in records:  # paper that came with the handover is now the archive room's
        if record.folder is not None and record.folder.state == "in_handover":
            set_folder_state(session, record.folder, "in_place", actor=actor, reason=f"handover #{hid}")
    events.record_event(
        session,
        ACCEPTED,
        actor,
        "handover",
        hid,
        {
            "from": from_dept,
            "to": to_dept,
            "offered_by": offered_by,
            "received_by": actor,
            "records": [r.number for r in records],
            "override": bool(problems),
            "scheme_version": scheme.version,
        },
    )
    return handover


def require_accepted(handover: Handover) -> Handover:
    """Raise HandoverRefused (with every record's problems) unless HANDOVER was accepted."""
    if handover.status != "accepted":
        raise HandoverRefused(handover.id, {i.record.number: list(i.problems) for i in handover.items if not i.ok})
    return handover


def handover_view(handover: Handover) -> dict:
    return {
        "id": handover.id,
        "status": handover.status,
        "from": handover.from_dept,
        "to": handover.to_dept,
        "offered_by": handover.offered_by,
        "received_by": handover.received_by,
        "offered_at": handover.offered_at,
        "decided_at": handover.decided_at,
        "override_reason": handover.override_reason,
        "items": [{"number": i.record.number, "ok": i.ok, "problems": list(i.problems)} for i in handover.items],
    }


def _records(session: Session, numbers: Iterable[str]) -> list[ArchiveRecord]:
    records, unknown = find_records(session, numbers)
    if unknown:
        raise HandoverError(_("cannot offer the handover: {problems}").format(problems="; ".join(unknown)))
    if not records:
        raise HandoverError(_("a handover needs at least one archive number"))
    return records
