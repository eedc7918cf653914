"""The index backends by name, and how to open one."""

from __future__ import annotations

import os
from pathlib import Path

from dangan.errors import DanganError
from dangan.indexing.backend import Backend
from dangan.indexing.lock import WaitCallback
from dangan.indexing.tantivy_backend import TantivyBackend
from dangan.indexing.whoosh_backend import WhooshBackend

BACKENDS: dict[str, type] = {"whoosh": WhooshBackend, "tantivy": TantivyBackend}


class UnknownBackend(DanganError, ValueError):
    pass


def open_backend(
    path: str | os.PathLike,
    name: str = "whoosh",
    *,
    on_wait: WaitCallback | None = None,
    lock_timeout: float | None = None,
) -> Backend:
    """Open (creating if absent) the index at PATH. An index built with other analyzer/schema
    versions opens with needs_rebuild() true: call clear() and re-add every page. ON_WAIT(pid)
    is called when a write must wait for another process's writer."""
    try:
        backend = BACKENDS[name]
    except KeyError:
        raise UnknownBackend(f'unknown index backend "{name}": use one of {", ".join(BACKENDS)}') from None
    return backend(Path(path), on_wait=on_wait, lock_timeout=lock_timeout)
