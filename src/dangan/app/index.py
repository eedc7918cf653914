"""Keep the search index in step with the database (the truth): sync, rebuild, check."""

from __future__ import annotations

from collections.abc import Callable

from dangan.app.archive import Archive, IndexUpdate
from dangan.indexing import feed
from dangan.indexing.lock import WaitCallback

Progress = Callable[[int, int], None]


def sync_index(archive: Archive, *, progress: Progress | None = None, on_wait: WaitCallback | None = None) -> int:
    """Index the pages waiting in the outbox; returns how many."""
    with archive.index(on_wait) as backend:
        return feed.sync(archive.db, backend, progress=progress, scheme=archive.scheme)


def index_after_change(
    archive: Archive, *, progress: Progress | None = None, on_wait: WaitCallback | None = None
) -> IndexUpdate:
    """Sync the index after a change committed outside `Archive.session` (a scan batch, an
    import). A failure here loses nothing: the pages wait in the outbox, so it is reported."""
    return archive.follow_index(progress=progress, on_wait=on_wait)


def rebuild_index(
    archive: Archive, *, fresh: bool = False, progress: Progress | None = None, on_wait: WaitCallback | None = None
) -> int:
    """Re-index every page in chunks, resuming an interrupted rebuild unless FRESH."""
    with archive.index(on_wait) as backend:
        return feed.rebuild(archive.db, backend, progress=progress, resume=not fresh, scheme=archive.scheme)


def check_index(archive: Archive) -> feed.IndexCheck:
    """Pages missing from the index, stale in it, or in it but not in the database."""
    with archive.index() as backend:
        return feed.check(archive.db, backend, scheme=archive.scheme)
