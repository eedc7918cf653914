"""The index backends by name, how to open one, where an embedded one lives in the data
home, and up to what size each was measured to hold the search targets."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import Engine

from dangan.errors import DanganError
from dangan.i18n import _
from dangan.indexing.backend import MARKER_FILE, Backend, read_marker
from dangan.indexing.lock import LOCK_FILE, WaitCallback, WriterLock
from dangan.indexing.pg_backend import PostgresBackend
from dangan.indexing.tantivy_backend import TantivyBackend
from dangan.indexing.whoosh_backend import WhooshBackend

BACKENDS: dict[str, type] = {"tantivy": TantivyBackend, "whoosh": WhooshBackend, "postgresql": PostgresBackend}
EMBEDDED = ("tantivy", "whoosh")  # an index folder in the data home; the others live in the database
DEFAULT_EMBEDDED = "tantivy"
DEFAULT_SHARED = "postgresql"

# Pages up to which bench/search.py measured the backend holding the search targets (p95
# ≤ 50 ms plain, ≤ 100 ms tolerant, recall 1.0) on this project's 2-core machine; None: at
# no size measured. README "when to switch"; `dangan index check` warns past them. Tantivy held
# them at 100k, 300k and 1M (plain p95 17.6 ms at 1M, broad phrases ranked in a sample, on a
# machine loaded 4-7.5); PostgreSQL missed plain p95 at 100k (362 ms) and, narrowly, at 1M (61.5 ms
# with broad queries ranked among their first 2,000 matches).
MEASURED_PAGES: dict[str, int | None] = {"tantivy": 1_000_000, "whoosh": None, "postgresql": None}


class UnknownBackend(DanganError, ValueError):
    pass


def default_backend(db_url: str) -> str:
    """The backend an archive gets unless told otherwise: its own database when that is
    PostgreSQL (shared mode), else the embedded default."""
    return DEFAULT_SHARED if db_url.startswith("postgresql") else DEFAULT_EMBEDDED


def open_backend(
    path: str | os.PathLike | None,
    name: str = DEFAULT_EMBEDDED,
    *,
    on_wait: WaitCallback | None = None,
    lock_timeout: float | None = None,
    database: str | Engine | None = None,
) -> Backend:
    """Open (creating if absent) the index: an embedded one in folder PATH, PostgreSQL's in
    DATABASE (a URL or an engine). An index built with other analyzer/schema versions opens
    with needs_rebuild() true: call clear() and re-add every page. ON_WAIT(pid) is called
    when a write must wait for another process's writer."""
    try:
        backend = BACKENDS[name]
    except KeyError:
        raise UnknownBackend(
            _('unknown index backend "{name}": use one of {names}').format(name=name, names=", ".join(BACKENDS))
        ) from None
    if name in EMBEDDED:
        return backend(Path(path), on_wait=on_wait, lock_timeout=lock_timeout)
    if database is None:
        raise UnknownBackend(_("the {name} backend needs the archive's database").format(name=name))
    return backend(database, path=Path(path) if path else None)


def index_folder(index_dir: Path, name: str) -> Path:
    """Where the embedded backend NAME keeps its index: a folder of its own under the data
    home's index/, so switching backends builds beside the index in use. An index made by an
    older dangan directly in index/ is moved into its backend's folder first."""
    marker = read_marker(index_dir)
    if marker is not None and marker.get("backend") in EMBEDDED:
        with WriterLock(index_dir):
            if (index_dir / MARKER_FILE).exists():
                target = index_dir / marker["backend"]
                target.mkdir(exist_ok=True)
                entries = [e for e in index_dir.iterdir() if e.name not in (LOCK_FILE, *BACKENDS)]
                for entry in sorted(entries, key=lambda e: e.name == MARKER_FILE):  # the marker last
                    entry.rename(target / entry.name)
    return index_dir / name
