"""Keep the search index in step with the database (the truth): sync, rebuild, check;
which backend serves the archive, and whether it is still the right one for its size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dangan.app.archive import Archive, IndexUpdate
from dangan.i18n import _
from dangan.indexing import feed
from dangan.indexing.backends import DEFAULT_EMBEDDED, MEASURED_PAGES
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


@dataclass(frozen=True)
class Rebuilt:
    pages: int
    backend: str
    switched_from: str | None  # the backend that served the archive until now, if it changed


def rebuild_index(
    archive: Archive, *, fresh: bool = False, progress: Progress | None = None, on_wait: WaitCallback | None = None
) -> Rebuilt:
    """Re-index every page, resuming an interrupted rebuild unless FRESH. Searches meanwhile
    answer from the index in use; a rebuild into another backend (--backend) makes it the
    archive's backend once it is complete."""
    before = archive.archive_backend
    with archive.index(on_wait) as backend:
        pages = feed.rebuild(archive.db, backend, progress=progress, resume=not fresh, scheme=archive.scheme)
        name = backend.name
    if name != before:
        archive.record_backend(name)
    return Rebuilt(pages, name, before if name != before else None)


@dataclass(frozen=True)
class Checked:
    backend: str
    indexed: int  # pages in the index
    result: feed.IndexCheck
    warning: str = ""  # the index is past the size its backend was measured at

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return {"ok": self.result.ok, "backend": self.backend, "indexed": self.indexed, "warning": self.warning} | (
            asdict(self.result)
        )


def check_index(archive: Archive, *, progress: Progress | None = None) -> Checked:
    """Pages missing from the index, stale in it, or in it but not in the database; and a
    warning when the index has grown past what its backend was measured to hold."""
    with archive.index() as backend:
        result = feed.check(archive.db, backend, progress, scheme=archive.scheme)
        indexed = backend.count()
        name = backend.name
    return Checked(name, indexed, result, size_warning(name, indexed, archive.home.db_url))


def size_warning(backend: str, pages: int, db_url: str) -> str:
    """What to say when BACKEND holds more PAGES than it was measured to answer within the
    search targets at (README "when to switch"), and what to switch to."""
    if backend not in MEASURED_PAGES or not pages:
        return ""
    limit = MEASURED_PAGES[backend]
    if limit is not None and pages <= limit:
        return ""
    if limit is None:
        message = _(
            "the {backend} index holds {pages:,} pages; {backend} missed the search targets at every size "
            'measured (README, "when to switch")'
        ).format(backend=backend, pages=pages)
    else:
        message = _(
            "the {backend} index holds {pages:,} pages, more than the {limit:,} up to which {backend} was "
            'measured to answer within the search targets (README, "when to switch")'
        ).format(backend=backend, pages=pages, limit=limit)
    holds = {name: n for name, n in MEASURED_PAGES.items() if n is not None and n > (limit or 0)}
    if DEFAULT_EMBEDDED in holds and backend != DEFAULT_EMBEDDED:
        return message + _(": switch with `dangan --backend {better} index rebuild`").format(better=DEFAULT_EMBEDDED)
    return message + _(": measure this archive with bench/search.py before it grows further")
