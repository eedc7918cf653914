"""The tamper-evident event log: every event carries the hash of the one before it.

hash = SHA-256(prev_hash + canonical JSON of (seq, at, type, actor, object, detail)).
Editing, deleting or reordering any row breaks the chain from that row on, and
verify_chain names the first row where it breaks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.models import ChainHead, Event, utcnow

GENESIS = "0" * 64

# PREMIS event types (id.loc.gov/vocabulary/preservation/eventType) plus our domain's own.
INGESTION = "ingestion"
MESSAGE_DIGEST = "message digest calculation"
FORMAT_IDENTIFICATION = "format identification"
CAPTURE = "capture"
REGISTRATION = "registration"  # an archive number assigned
QUARANTINE = "quarantine"
FIXITY_CHECK = "fixity check"
METADATA_MODIFICATION = "metadata modification"
NUMBER_VOIDED = "number voided"
ACCESS = "access"  # a record, page or page image looked at
EXPORT = "export"
# who read what and when (issue 14): every read of the archive is on the record
SEARCH = "search"
SEARCH_REFUSED = "search refused"  # e.g. a personal number searched without the grant
LABEL_PRINT = "label print"
LOG_IN = "log-in"
LOG_IN_FAILED = "log-in failed"
LOG_OUT = "log-out"


def _canonical(
    seq: int, at: datetime, type_: str, actor: str, object_type: str, object_id: str, detail: dict[str, Any]
) -> bytes:
    if at.tzinfo is None:  # SQLite hands datetimes back naive; they were stored as UTC
        at = at.replace(tzinfo=UTC)
    body = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(),
        "type": type_,
        "actor": actor,
        "object_type": object_type,
        "object_id": object_id,
        "detail": detail,
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def event_hash(prev_hash: str, e: Event) -> str:
    payload = _canonical(e.seq, e.at, e.type, e.actor, e.object_type, e.object_id, e.detail or {})
    return hashlib.sha256(prev_hash.encode() + payload).hexdigest()


def record_event(
    session: Session, type_: str, actor: str, object_type: str, object_id: Any, detail: dict[str, Any] | None = None
) -> Event:
    """Append one event inside the caller's transaction, extending the chain."""
    head = session.execute(select(ChainHead).filter_by(id=1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = ChainHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    # Round-trip detail through JSON so what we hash is exactly what the database returns.
    detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    e = Event(
        seq=head.seq + 1,
        at=utcnow(),
        type=type_,
        actor=actor,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail,
        prev_hash=head.hash,
    )
    e.hash = event_hash(head.hash, e)
    session.add(e)
    head.seq, head.hash = e.seq, e.hash
    session.flush()
    return e


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def verify_chain(session: Session, batch_size: int = 5000) -> tuple[int, list[ChainProblem]]:
    """Walk the log in order; return (events checked, problems found)."""
    problems: list[ChainProblem] = []
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_id = 0
    while True:
        rows = session.scalars(select(Event).where(Event.id > last_id).order_by(Event.id).limit(batch_size)).all()
        if not rows:
            break
        for e in rows:
            checked += 1
            if e.seq != expected_seq:
                problems.append(
                    ChainProblem(
                        e.seq, f"expected event #{expected_seq} here, found #{e.seq}: events were deleted or reordered"
                    )
                )
            if e.prev_hash != prev_hash:
                problems.append(
                    ChainProblem(
                        e.seq, "link to the previous event is broken: an earlier event was edited, deleted or reordered"
                    )
                )
            if event_hash(e.prev_hash, e) != e.hash:
                problems.append(
                    ChainProblem(e.seq, f"content of event #{e.seq} ({e.type}) was altered after it was written")
                )
            prev_hash, expected_seq, last_id = e.hash, e.seq + 1, e.id
        session.expunge_all()
    head = session.get(ChainHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        problems.append(
            ChainProblem(
                head.seq,
                f"the log ends at #{expected_seq - 1} but its head says #{head.seq}: the newest events were removed",
            )
        )
    return checked, problems
