"""An export/import round trip, as the consistency tests check it: every record shows the same
(`show --json`) in the archive restored from its BagIt export."""

from __future__ import annotations

from pathlib import Path

from dangan.app import audit, records
from dangan.app.archive import Archive, DataHome
from dangan.archive.models import ArchiveRecord

IMPORTED_ROOT_NAME = "restored"


def shown(archive: Archive, upto_seq: int) -> dict[str, dict]:
    """Every record as `show --json` prints it, without what only says where and when it was
    looked at: the store's folder, and events after the export (a `show` is itself an event)."""
    from sqlalchemy import select

    with archive.session() as s:
        numbers = list(s.scalars(select(ArchiveRecord.number).order_by(ArchiveRecord.id)))
    out = {}
    for n in numbers:
        view = records.record_view(archive, n)
        view.pop("store_root")
        view["events"] = [e for e in view["events"] if e["seq"] <= upto_seq]
        out[n] = view
    return out


def round_trip(archive: Archive, tmp: Path) -> tuple[Archive, dict, dict]:
    """Export the whole archive, import it into a new data home; (the restored archive, what
    the original shows, what the restored one shows)."""
    bag = tmp / "bag"
    exported = audit.export_bag(archive, bag)
    head = exported.events  # the bag holds the log up to the export
    url = archive.home.db_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp / IMPORTED_ROOT_NAME / 'dangan.sqlite3'}"
    else:  # one PostgreSQL test database: the restored archive takes over its schema
        raise NotImplementedError("round trips run on SQLite")
    restored = Archive(DataHome(tmp / IMPORTED_ROOT_NAME, url), actor=archive.actor, backend=archive.backend)
    before = shown(archive, head)
    audit.import_bag(restored, bag)
    return restored, before, shown(restored, head)
