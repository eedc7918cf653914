"""Keep the search index in step with the database (the truth): sync, rebuild, check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dangan.app.archive import Archive
from dangan.indexing import feed
from dangan.indexing.lock import WaitCallback

Progress = Callable[[int, int], None]


def sync_index(archive: Archive, *, progress: Progress | None = None, on_wait: WaitCallback | None = None) -> int:
    """Index the pages waiting in the outbox; returns how many."""
    with archive.index(on_wait) as backend:
        return feed.sync(archive.db, backend, progress=progress)


@dataclass(frozen=True)
class IndexUpdate:
    """How the index followed a change already saved in the database."""

    indexed: int | None  # None: the index could not be written now
    problem: str = ""

    def as_dict(self) -> dict:
        return {"indexed": self.indexed, "index_problem": self.problem}


def index_after_change(
    archive: Archive, *, progress: Progress | None = None, on_wait: WaitCallback | None = None
) -> IndexUpdate:
    """Sync the index after a change that is already committed (a scan, a QA decision). A
    failure here loses nothing: the pages wait in the outbox, so it is reported, not raised."""
    try:
        return IndexUpdate(sync_index(archive, progress=progress, on_wait=on_wait))
    except Exception as e:  # noqa: BLE001 - whatever the index did, the database holds the change
        return IndexUpdate(None, f"the search index could not be updated ({e}); run `dangan index sync` to catch up")


def rebuild_index(
    archive: Archive, *, fresh: bool = False, progress: Progress | None = None, on_wait: WaitCallback | None = None
) -> int:
    """Re-index every page in chunks, resuming an interrupted rebuild unless FRESH."""
    with archive.index(on_wait) as backend:
        return feed.rebuild(archive.db, backend, progress=progress, resume=not fresh)


def check_index(archive: Archive) -> feed.IndexCheck:
    """Pages missing from the index, stale in it, or in it but not in the database."""
    with archive.index() as backend:
        return feed.check(archive.db, backend)
