"""Where the paper is: 库房 → 区 → 架/柜 → 层 → 盒 → 卷, and the state of each paper folder.

Every box and folder has a printed code. A folder's code is by default the archive number
of the record it holds, so the label on the folder is the number people already know.
Paper moves and state changes are events ("location change", "paper state change").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.models import ArchiveRecord, Box, Folder, FolderRecord, Location
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber
from dangan.archive.records.paper_pages import paper_page_count
from dangan.errors import DanganError
from dangan.i18n import _

LOCATION_CHANGE = "location change"
PAPER_STATE_CHANGE = "paper state change"
BORN_DIGITAL = "born digital"

# What may hold what: a zone sits in a room, a rack or cabinet in a zone, a shelf on a
# rack or in a cabinet. Boxes stand on shelves; they are not locations themselves.
PARENT_KIND = {"room": None, "zone": "room", "rack": "zone", "cabinet": "zone", "shelf": ("rack", "cabinet")}
KINDS = tuple(PARENT_KIND) + ("box",)

PAPER_STATES = ("in_place", "in_handover", "out_for_digitisation", "on_loan", "misplaced", "missing", "destroyed")
# Allowed moves of a paper folder. Destroyed is final; a loan ends only by a return (or
# the folder being declared missing); a lost folder can be found again.
TRANSITIONS: dict[str, frozenset[str]] = {
    "in_handover": frozenset({"in_place", "out_for_digitisation", "missing"}),
    "out_for_digitisation": frozenset({"in_place", "misplaced", "missing"}),
    "in_place": frozenset({"in_handover", "out_for_digitisation", "on_loan", "misplaced", "missing", "destroyed"}),
    "on_loan": frozenset({"in_place", "missing"}),
    "misplaced": frozenset({"in_place", "missing", "destroyed"}),
    "missing": frozenset({"in_place", "misplaced", "destroyed"}),
    "destroyed": frozenset(),
}


class LocationError(DanganError, ValueError):
    """A location, box or folder cannot be created, found or moved; the message says why."""


class PaperStateError(LocationError):
    """A paper folder cannot go from its current state to the one asked for."""


# --------------------------------------------------------------------------- lookups


def get_location(session: Session, code: str, *, wanted: str = "") -> Location:
    """The room, zone, rack, cabinet or shelf coded CODE. WANTED says what the caller needs it
    for (e.g. "a shelf belongs in a rack or cabinet"), so a box or folder of that code is
    refused with what to do instead."""
    code = code.strip()
    loc = session.scalar(select(Location).filter_by(code=code))
    if loc is None:
        other = _other_kind(session, code)
        if other:
            raise LocationError(
                _("{code} is {what}, not a room, zone, rack, cabinet or shelf{why}").format(
                    code=code, what=other, why=f": {wanted}" if wanted else ""
                )
            )
        raise LocationError(_("no location with code {code!r}; see `dangan location list`").format(code=code))
    return loc


def _belongs(kind: str) -> str:
    if kind == "box":
        return _("a box stands on a shelf")
    wanted = PARENT_KIND.get(kind)
    if not wanted:
        return _("a room is the top of the tree")
    where = " or ".join((wanted,) if isinstance(wanted, str) else wanted)
    return _("a {kind} belongs in a {where}").format(kind=kind, where=where)


def _other_kind(session: Session, code: str) -> str:
    """What else CODE names: a box, a paper folder or a record's archive number ('' if nothing)."""
    if session.scalar(select(Box.id).filter_by(code=code)):
        return _("a box")
    if session.scalar(select(Folder.id).filter_by(code=code)):
        return _("a paper folder")
    try:
        number = str(ArchiveNumber.parse(code))
    except InvalidArchiveNumber:
        return ""
    if session.scalar(select(ArchiveRecord.id).filter_by(number=number)):
        return _("the archive number of a record")
    return ""


def get_box(session: Session, code: str, *, lock: bool = False) -> Box:
    q = select(Box).filter_by(code=code.strip())
    box = session.scalar(q.with_for_update() if lock else q)
    if box is None:
        raise LocationError(
            _("no box with code {code!r}; add it with `dangan location add {value} --kind box --parent SHELF`").format(
                code=code, value=code.strip()
            )
        )
    return box


def record_by_number(session: Session, text: str) -> ArchiveRecord:
    try:
        number = ArchiveNumber.parse(text)
    except InvalidArchiveNumber as e:
        raise LocationError(str(e)) from None
    record = session.scalar(select(ArchiveRecord).filter_by(number=str(number)))
    if record is None:
        raise LocationError(_("no record numbered {number}").format(number=number))
    return record


def find_folder(session: Session, key: str, *, lock: bool = False) -> Folder | None:
    """A folder by its code, or the folder holding the record numbered KEY."""
    q = select(Folder).filter_by(code=key.strip())
    folder = session.scalar(q.with_for_update() if lock else q)
    if folder is not None:
        return folder
    try:
        number = str(ArchiveNumber.parse(key))
    except InvalidArchiveNumber:
        return None
    q = (
        select(Folder)
        .join(FolderRecord, FolderRecord.folder_id == Folder.id)
        .join(ArchiveRecord, ArchiveRecord.id == FolderRecord.record_id)
        .where(ArchiveRecord.number == number)
    )
    return session.scalar(q.with_for_update() if lock else q)


def get_folder(session: Session, key: str, *, lock: bool = False) -> Folder:
    folder = find_folder(session, key, lock=lock)
    if folder is None:
        raise LocationError(
            _("no paper folder {key!r}: shelve it first with `dangan shelve {key} BOX`").format(key=key)
        )
    return folder


# --------------------------------------------------------------------------- the tree


def add_location(
    session: Session, code: str, kind: str, *, actor: str, parent: str | None = None, name: str = ""
) -> Location | Box:
    """Add a room, zone, rack, cabinet, shelf — or a box on a shelf."""
    code = code.strip()
    if not code or any(c.isspace() for c in code):
        raise LocationError(_("location code {code!r} must be non-empty and without spaces").format(code=code))
    if kind not in KINDS:
        raise LocationError(_("unknown kind {kind!r}; kinds: {choices}").format(kind=kind, choices=", ".join(KINDS)))
    taken = (
        session.scalar(select(Location.id).filter_by(code=code))
        or session.scalar(select(Box.id).filter_by(code=code))
        or session.scalar(select(Folder.id).filter_by(code=code))
    )
    if taken:
        raise LocationError(_("code {code!r} is already used by another location, box or folder").format(code=code))
    parent_loc = get_location(session, parent, wanted=_belongs(kind)) if parent else None
    if kind == "box":
        if parent_loc is not None and parent_loc.kind != "shelf":
            raise LocationError(
                _("a box stands on a shelf, not on {kind} {code}").format(kind=parent_loc.kind, code=parent_loc.code)
            )
        box = Box(code=code, shelf_id=parent_loc.id if parent_loc else None)
        session.add(box)
        session.flush()
        events.record_event(
            session,
            LOCATION_CHANGE,
            actor,
            "box",
            code,
            {"action": "box added", "shelf": parent_loc.code if parent_loc else None},
        )
        return box
    wanted = PARENT_KIND[kind]
    allowed = (wanted,) if isinstance(wanted, str) else (wanted or ())
    if wanted is None and parent_loc is not None:
        raise LocationError(
            _("a room is the top of the tree; it has no parent (got {code})").format(code=parent_loc.code)
        )
    if wanted is not None and (parent_loc is None or parent_loc.kind not in allowed):
        got = f"{parent_loc.kind} {parent_loc.code}" if parent_loc else "no parent"
        raise LocationError(
            _("a {kind} belongs in a {choices}; got {got}").format(kind=kind, choices=" or ".join(allowed), got=got)
        )
    loc = Location(code=code, kind=kind, name=name, parent_id=parent_loc.id if parent_loc else None)
    session.add(loc)
    session.flush()
    events.record_event(
        session,
        LOCATION_CHANGE,
        actor,
        "location",
        code,
        {"action": "location added", "kind": kind, "name": name, "parent": parent_loc.code if parent_loc else None},
    )
    return loc


def location_tree(session: Session) -> list[dict[str, Any]]:
    """Rooms down to folders as nested plain data (code, kind, name, children)."""
    locs = session.scalars(select(Location).order_by(Location.code)).all()
    boxes = session.scalars(select(Box).order_by(Box.code)).all()
    folders = session.scalars(select(Folder).order_by(Folder.code)).all()
    node: dict[tuple[str, int], dict] = {}
    for loc in locs:
        node[("loc", loc.id)] = {"code": loc.code, "kind": loc.kind, "name": loc.name, "children": []}
    for box in boxes:
        node[("box", box.id)] = {"code": box.code, "kind": "box", "name": "", "children": []}
    roots: list[dict] = []
    for loc in locs:
        parent = node.get(("loc", loc.parent_id)) if loc.parent_id else None
        (parent["children"] if parent else roots).append(node[("loc", loc.id)])
    for box in boxes:
        parent = node.get(("loc", box.shelf_id)) if box.shelf_id else None
        (parent["children"] if parent else roots).append(node[("box", box.id)])
    for f in folders:
        leaf = {
            "code": f.code,
            "kind": "folder",
            "name": f.state,
            "state": f.state,
            "records": [r.number for r in f.records],
            "children": [],
        }
        parent = node.get(("box", f.box_id)) if f.box_id else None
        (parent["children"] if parent else roots).append(leaf)
    return roots


def box_path(box: Box | None) -> list[str]:
    """Codes from the room down to BOX: where to walk to find it."""
    if box is None:
        return []
    path = [box.code]
    loc = box.shelf
    while loc is not None:
        path.append(loc.code)
        loc = loc.parent
    return list(reversed(path))


def location_path(session: Session, folder: Folder) -> list[str]:
    """Codes from the room down to the folder's box."""
    return box_path(folder.box)


def where_is(session: Session, number: str) -> dict[str, Any]:
    """A record's paper: folder, box, shelf path and state (or born digital)."""
    record = record_by_number(session, number)
    folder = record.folder
    if folder is None:
        return {"number": record.number, "born_digital": record.born_digital, "folder": None, "state": None, "path": []}
    return {
        "number": record.number,
        "born_digital": record.born_digital,
        "folder": folder.code,
        "state": folder.state,
        "box": folder.box.code if folder.box else None,
        "path": location_path(session, folder),
    }


# --------------------------------------------------------------------------- paper states


def set_folder_state(
    session: Session, folder: Folder, state: str, *, actor: str, reason: str = "", detail: dict | None = None
) -> Folder:
    """Move a folder to STATE if the paper's life allows it; record the change."""
    if state not in PAPER_STATES:
        raise PaperStateError(
            _("unknown paper state {state!r}; states: {choices}").format(state=state, choices=", ".join(PAPER_STATES))
        )
    if state == folder.state:
        return folder
    if state not in TRANSITIONS[folder.state]:
        allowed = ", ".join(sorted(TRANSITIONS[folder.state])) or "none (final)"
        raise PaperStateError(
            _("folder {code} is {state}; it cannot become {state2} (allowed next: {allowed})").format(
                code=folder.code, state=folder.state, state2=state, allowed=allowed
            )
        )
    old = folder.state
    folder.state = state
    session.flush()
    events.record_event(
        session,
        PAPER_STATE_CHANGE,
        actor,
        "folder",
        folder.code,
        {"from": old, "to": state, "reason": reason, **(detail or {})},
    )
    return folder


# --------------------------------------------------------------------------- shelving


def shelve(session: Session, item: str, target: str, *, actor: str) -> Folder | Box:
    """Put a folder (code or archive number) in a box, or a box on a shelf."""
    target, item = target.strip(), item.strip()
    if session.scalar(select(Location.id).filter_by(code=target)):
        if session.scalar(select(Box.id).filter_by(code=item)) is None and _other_kind(session, item):
            raise LocationError(
                _(
                    "{item} is {what}: a folder goes into a box, and {target} is a shelf; "
                    "`dangan shelve {item} BOX`, and the box onto the shelf with `dangan shelve BOX {target}`"
                ).format(item=item, what=_other_kind(session, item), target=target)
            )
        return shelve_box(session, item, target, actor=actor)
    return shelve_folder(session, item, target, actor=actor)


def shelve_box(session: Session, box_code: str, shelf_code: str, *, actor: str) -> Box:
    box = get_box(session, box_code, lock=True)
    shelf = get_location(session, shelf_code)
    if shelf.kind != "shelf":
        raise LocationError(_("{code} is a {kind}; boxes go on shelves").format(code=shelf.code, kind=shelf.kind))
    old = box.shelf.code if box.shelf else None
    box.shelf = shelf
    session.flush()
    events.record_event(
        session, LOCATION_CHANGE, actor, "box", box.code, {"action": "box shelved", "from": old, "to": shelf.code}
    )
    return box


def shelve_folder(session: Session, folder_key: str, box_code: str, *, actor: str) -> Folder:
    """Put the folder in BOX. An archive number with no folder yet gets one, coded with the
    number (one folder per record is the usual case)."""
    box = get_box(session, box_code)
    folder = find_folder(session, folder_key, lock=True)
    created = False
    if folder is None:
        record = _record_for_new_folder(session, folder_key)
        folder = Folder(code=record.number, state="in_place")
        session.add(folder)
        session.flush()
        session.add(FolderRecord(record_id=record.id, folder_id=folder.id))
        session.flush()
        session.refresh(folder)
        created = True
    if folder.state in ("on_loan", "destroyed"):
        raise PaperStateError(
            f"folder {folder.code} is {folder.state}; "
            + ("return the loan first" if folder.state == "on_loan" else "it no longer exists")
        )
    old_box = folder.box.code if folder.box else None
    folder.box = box
    session.flush()
    if folder.state != "in_place":  # found again, or back from scanning or handover
        set_folder_state(session, folder, "in_place", actor=actor, reason=f"shelved in box {box.code}")
    events.record_event(
        session,
        LOCATION_CHANGE,
        actor,
        "folder",
        folder.code,
        {
            "action": "folder created and shelved" if created else "folder shelved",
            "from": old_box,
            "to": box.code,
            "records": [r.number for r in folder.records],
        },
    )
    return folder


def _record_for_new_folder(session: Session, key: str) -> ArchiveRecord:
    try:
        record = record_by_number(session, key)
    except LocationError:
        raise LocationError(_("{key!r} is neither a folder code nor the number of a record").format(key=key)) from None
    if record.status != "active":
        raise LocationError(
            _("record {number} is {status}; its paper cannot be shelved").format(
                number=record.number, status=record.status
            )
        )
    if record.born_digital:
        raise LocationError(
            _("record {number} is born digital: it has no paper to shelve").format(number=record.number)
        )
    return record


def add_record_to_folder(session: Session, number: str, folder_code: str, *, actor: str) -> Folder:
    """File another record (e.g. a supplement) into an existing folder."""
    record = record_by_number(session, number)
    if record.born_digital:
        raise LocationError(_("record {number} is born digital: it has no paper").format(number=record.number))
    folder = get_folder(session, folder_code, lock=True)
    link = session.get(FolderRecord, record.id)
    if link is not None:
        current = session.get(Folder, link.folder_id)
        raise LocationError(
            _("record {number} is already in folder {code}").format(number=record.number, code=current.code)
        )
    session.add(FolderRecord(record_id=record.id, folder_id=folder.id))
    session.flush()
    session.refresh(folder)
    events.record_event(
        session, LOCATION_CHANGE, actor, "folder", folder.code, {"action": "record filed", "record": record.number}
    )
    return folder


def mark_born_digital(session: Session, number: str, *, actor: str, reason: str) -> ArchiveRecord:
    """Say explicitly that a record has no paper, so its missing folder is not a gap."""
    if not reason.strip():
        raise LocationError(_("say why the record has no paper (--reason)"))
    record = record_by_number(session, number)
    if session.get(FolderRecord, record.id) is not None:
        raise LocationError(
            _("record {number} has a paper folder; it is not born digital").format(number=record.number)
        )
    record.born_digital = True
    session.flush()
    events.record_event(session, BORN_DIGITAL, actor, "record", record.number, {"reason": reason})
    return record


def unshelved_records(session: Session) -> list[str]:
    """Active records with neither a paper folder nor a born-digital mark: paper to find."""
    q = (
        select(ArchiveRecord.number)
        .outerjoin(FolderRecord, FolderRecord.record_id == ArchiveRecord.id)
        .where(
            FolderRecord.folder_id.is_(None), ArchiveRecord.born_digital.is_(False), ArchiveRecord.status == "active"
        )
        .order_by(ArchiveRecord.number)
    )
    return list(session.scalars(q))


def scanned_page_count(session: Session, folder: Folder) -> int:
    """Pages of the customer's paper scanned for the folder's records (records.paper_pages:
    not cover sheets, not blank pages, not pages replaced by a rescan)."""
    return paper_page_count(session, [r.id for r in folder.records])
