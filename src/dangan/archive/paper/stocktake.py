"""盘点: compare the folder labels read in a box with what the archive says is in it.

    found  expected here               → in place
    found  expected in another box     → misplaced (with where it belongs)
    found  unknown to the archive      → unexpected
    absent expected here, on the shelf → missing
    either expected here, on loan      → on loan (found=True: came back without check-in)

The findings update the folders' paper states (missing, misplaced, back in place) and the
whole report is one "stock-take" event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.models import ArchiveRecord, Box, Folder, Loan
from dangan.archive.paper.locations import box_path, find_folder, get_box, location_path, set_folder_state
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber, propose_corrections
from dangan.i18n import _

STOCK_TAKE = "stock-take"


@dataclass
class StockTakeReport:
    box: str
    path: list[str]
    at: str
    in_place: list[str] = field(default_factory=list)
    misplaced: list[dict[str, Any]] = field(default_factory=list)  # {code, belongs_in, path}
    unexpected: list[dict[str, str]] = field(default_factory=list)  # {code, note}
    missing: list[str] = field(default_factory=list)
    on_loan: list[dict[str, Any]] = field(default_factory=list)  # {code, borrower, due_on, overdue, found}
    event_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self) -> list[dict[str, str]]:
        """One line per folder code: status and a note; the CSV and table form."""
        out = [{"code": c, "status": "in place", "note": ""} for c in self.in_place]
        out += [
            {
                "code": m["code"],
                "status": "misplaced",
                "note": f"belongs in box {m['belongs_in']} ({' / '.join(m['path'])})",
            }
            for m in self.misplaced
        ]
        out += [{"code": u["code"], "status": "unexpected", "note": u["note"]} for u in self.unexpected]
        out += [{"code": c, "status": "missing", "note": ""} for c in self.missing]
        out += [
            {
                "code": o["code"],
                "status": "on loan",
                "note": f"{o['borrower']}, due {o['due_on']}"
                + (" OVERDUE" if o["overdue"] else "")
                + (" — found in the box: returned without check-in" if o["found"] else ""),
            }
            for o in self.on_loan
        ]
        return out


def read_codes(lines: Iterable[str]) -> list[str]:
    """Codes as a hand scanner types them: one per line; blanks and repeats ignored."""
    return list(dict.fromkeys(line.strip() for line in lines if line.strip()))


def stocktake(
    session: Session, box_code: str, codes: Iterable[str], *, actor: str, today: date | None = None
) -> StockTakeReport:
    today = today or date.today()
    box = get_box(session, box_code, lock=True)
    expected = {f.code: f for f in session.scalars(select(Folder).filter_by(box_id=box.id).with_for_update())}
    report = StockTakeReport(box=box.code, path=box_path(box), at=today.isoformat())
    found: set[str] = set()
    for code in read_codes(codes):
        if code == box.code:
            continue  # the box's own label, scanned to start
        folder = find_folder(session, code, lock=True)
        if folder is None:
            report.unexpected.append({"code": code, "note": _unknown_note(session, code, expected)})
            continue
        found.add(folder.code)
        if folder.state == "on_loan":
            continue  # reported with the loans below
        if folder.box_id == box.id:
            report.in_place.append(folder.code)
            if folder.state in ("missing", "misplaced"):
                set_folder_state(session, folder, "in_place", actor=actor, reason=f"found in stock-take of {box.code}")
        elif folder.state == "destroyed":
            report.unexpected.append({"code": folder.code, "note": "recorded as destroyed"})
        else:
            belongs = folder.box.code if folder.box else None
            report.misplaced.append(
                {"code": folder.code, "belongs_in": belongs, "path": location_path(session, folder)}
            )
            set_folder_state(
                session,
                folder,
                "misplaced",
                actor=actor,
                reason=f"found in box {box.code} during stock-take",
                detail={"found_in": box.code},
            )
    for code, folder in sorted(expected.items()):
        if folder.state == "on_loan":
            loan = session.scalar(select(Loan).filter_by(folder_id=folder.id, returned_at=None))
            report.on_loan.append(
                {
                    "code": code,
                    "borrower": loan.borrower if loan else "?",
                    "due_on": loan.due_on.isoformat() if loan else None,
                    "overdue": bool(loan and loan.due_on < today),
                    "found": code in found,
                }
            )
        elif code not in found and folder.state in ("in_place", "misplaced", "missing"):
            report.missing.append(code)
            if folder.state == "in_place":
                set_folder_state(
                    session, folder, "missing", actor=actor, reason=f"not found in stock-take of {box.code}"
                )
    e = events.record_event(
        session, STOCK_TAKE, actor, "box", box.code, {k: v for k, v in report.as_dict().items() if k != "event_seq"}
    )
    report.event_seq = e.seq
    return report


def _unknown_note(session: Session, code: str, expected: dict[str, Folder]) -> str:
    other_box = session.scalar(select(Box).filter_by(code=code))
    if other_box is not None:
        return _("the label of box {code} ({path}): a box inside a box?").format(
            code=code, path=" / ".join(box_path(other_box))
        )
    try:
        number = str(ArchiveNumber.parse(code))
    except InvalidArchiveNumber as e:
        meant = _meant(session, code, expected)
        if meant:  # a label misread by the hand scanner, or a number typed by hand
            return _("not a valid archive number ({reason}); did you mean {numbers}?").format(
                reason=e, numbers=_(" or ").join(meant)
            )
        return _("not a folder, box or archive number known to the archive: register it")
    record = session.scalar(select(ArchiveRecord).filter_by(number=number))
    if record is None:
        return "valid archive number, but no such record"
    return f"record {number} ({record.status}) has no folder yet: shelve it here with `dangan shelve`"


def _meant(session: Session, code: str, expected: dict[str, Folder]) -> list[str]:
    """The archive numbers one typo away from CODE that the archive has, those expected in
    this box first."""
    candidates = [str(c) for c in propose_corrections(code)]
    if not candidates:
        return []
    known = set(session.scalars(select(ArchiveRecord.number).where(ArchiveRecord.number.in_(candidates))))
    known |= {c for c in candidates if c in expected}
    return sorted(known, key=lambda c: (c not in expected, c))
