"""The paper: rooms and shelves, shelving folders and boxes, stock-take, handover, loans.

Each use case runs in one transaction with the archive's actor and returns plain data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from dangan.app.archive import Archive
from dangan.archive.models import Box
from dangan.archive.paper import handover as ho
from dangan.archive.paper import loans, locations
from dangan.archive.paper.stocktake import StockTakeReport
from dangan.archive.paper.stocktake import stocktake as take_stock

LOCATION_KINDS = ("room", "zone", "rack", "cabinet", "shelf", "box")


def add_location(archive: Archive, code: str, kind: str, *, parent: str | None = None, name: str = "") -> dict:
    """A room, zone, rack, cabinet, shelf or box, with the code printed on its label."""
    with archive.session() as s:
        locations.add_location(s, code, kind, parent=parent, name=name, actor=archive.actor)
    return {"code": code, "kind": kind, "parent": parent, "name": name}


def location_tree(archive: Archive) -> list[dict[str, Any]]:
    """The rooms down to folders, with each folder's paper state."""
    with archive.session() as s:
        return locations.location_tree(s)


def where_is(archive: Archive, number: str) -> dict[str, Any]:
    """A record's paper: folder, box, shelf path and state (or born digital)."""
    with archive.session() as s:
        return locations.where_is(s, number)


def shelve(archive: Archive, item: str, target: str) -> dict[str, Any]:
    """A folder (its code or its record's number) into a box, or a box onto a shelf."""
    with archive.session() as s:
        moved = locations.shelve(s, item, target, actor=archive.actor)
        path = locations.box_path(moved) if isinstance(moved, Box) else locations.location_path(s, moved)
        return {"code": moved.code, "kind": "box" if isinstance(moved, Box) else "folder", "path": path}


def mark_born_digital(archive: Archive, number: str, *, reason: str) -> str:
    """A record with no paper at all, so no folder is expected; returns its number."""
    with archive.session() as s:
        return locations.mark_born_digital(s, number, actor=archive.actor, reason=reason).number


def stocktake(archive: Archive, box: str, codes: Iterable[str]) -> StockTakeReport:
    """盘点 one box against the codes read in it; recorded as an event."""
    with archive.session() as s:
        return take_stock(s, box, codes, actor=archive.actor)


def handover(
    archive: Archive,
    numbers: Iterable[str],
    *,
    from_dept: str,
    to_dept: str,
    offered_by: str | None = None,
    override_reason: str | None = None,
) -> dict[str, Any]:
    """交接: every record's case checked against the completeness rules; one problem refuses
    the whole handover unless overridden with a reason."""
    with archive.session() as s:
        h = ho.offer_handover(
            s,
            numbers,
            from_dept=from_dept,
            to_dept=to_dept,
            actor=archive.actor,
            scheme=archive.scheme,
            offered_by=offered_by,
            override_reason=override_reason,
        )
        return ho.handover_view(h)


def lend(
    archive: Archive,
    folder: str,
    *,
    borrower: str,
    department: str = "",
    purpose: str = "",
    approver: str = "",
    due_on: date | None = None,
) -> dict[str, Any]:
    with archive.session() as s:
        loan = loans.lend(
            s,
            folder,
            borrower=borrower,
            actor=archive.actor,
            department=department,
            purpose=purpose,
            approver=approver,
            due_on=due_on,
        )
        return loans.loan_view(loan)


def return_loan(archive: Archive, folder: str, *, pages_counted: int, note: str = "") -> dict[str, Any]:
    """The folder back; the pages counted are checked against the scanned pages."""
    with archive.session() as s:
        return loans.loan_view(
            loans.return_loan(s, folder, pages_counted=pages_counted, actor=archive.actor, note=note)
        )


def open_loans(archive: Archive, *, overdue: bool = False) -> list[dict[str, Any]]:
    with archive.session() as s:
        return [loans.loan_view(x) for x in (loans.overdue_loans(s) if overdue else loans.open_loans(s))]
