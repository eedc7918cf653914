"""The small interface every index backend implements, and what they share.

Both backends index the same terms (indexing.analyzer) into the same fields
(indexing.schema) and execute the same compiled queries (indexing.query), so they
return the same pages; they differ in speed and size (bench/search.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

from dangan.errors import DanganError
from dangan.indexing.analyzer import ANALYZER_VERSION
from dangan.indexing.lock import LOCK_FILE
from dangan.indexing.schema import SCHEMA_VERSION, SORT_FIELDS, IndexDoc

MARKER_FILE = "dangan-index.json"
CHECKPOINT_FILE = "rebuild-checkpoint.json"
FINGERPRINT_BATCH = 10_000  # pages a backend's fingerprints() hands over at a time
# relevance; date, newest first; then by 户号 or business type code, ascending
SORTS = ("relevance", "date", *SORT_FIELDS)


class IndexNeedsRebuild(DanganError, RuntimeError):
    pass


@dataclass(frozen=True)
class HitPlace:
    """Where a page found belongs: enough to group and order the hits of a query without
    decoding the stored pages (a broad query hands over a thousand; a result page shows twenty)."""

    record_number: str
    document_id: str
    page_no: int
    date: dt.date | None

    @classmethod
    def of(cls, doc: IndexDoc) -> HitPlace:
        return cls(doc.record_number, doc.document_id, doc.page_no, doc.date)

    def to_stored(self) -> str:
        day = self.date.isoformat() if self.date else None
        return json.dumps([self.record_number, self.document_id, self.page_no, day], ensure_ascii=False)

    @classmethod
    def from_stored(cls, raw: str) -> HitPlace:
        record_number, document_id, page_no, day = json.loads(raw)
        return cls(record_number, document_id, page_no, dt.date.fromisoformat(day) if day else None)


class BackendHit:
    """A page found: its id, score and place, and the page as stored, decoded when first
    asked for (LOAD)."""

    def __init__(self, page_id: str, score: float, place: HitPlace, load: Callable[[], IndexDoc]):
        self.page_id, self.score, self.place, self._load = page_id, score, place, load

    @classmethod
    def of(cls, page_id: str, score: float, doc: IndexDoc) -> BackendHit:
        """A hit whose page is decoded already."""
        return cls(page_id, score, HitPlace.of(doc), lambda: doc)

    @cached_property
    def doc(self) -> IndexDoc:
        return self._load()

    def __repr__(self) -> str:
        return f"BackendHit({self.page_id!r}, {self.score!r}, {self.place!r})"


@dataclass(frozen=True)
class BackendPage:
    total: int  # all matching pages; when not total_exact, more than this many match
    hits: list[BackendHit]  # the requested window
    total_exact: bool = True  # False: a backend that bounds its work stopped counting (pg_backend)


class Backend(Protocol):
    name: str
    path: Path

    def add(
        self, docs: Iterable[IndexDoc], *, batch_size: int = 1000, on_commit: Callable[[IndexDoc], None] | None = None
    ) -> int:
        """Upsert by page_id; commits every `batch_size` pages and then calls `on_commit`
        with the last page committed; returns pages written. Searches meanwhile see every
        page, in its old or its new version."""

    def delete(self, page_ids: Iterable[str]) -> int: ...

    def search(self, query, *, limit: int = 20, offset: int = 0, sort: str = "relevance") -> BackendPage:
        """`query`: a query string (indexing.query syntax) or a compiled query."""

    def fingerprints(self) -> Iterator[list[tuple[str, str]]]:
        """Every page in the index as (page_id, stored content fingerprint: indexing.schema.
        doc_fingerprint), a batch at a time: memory does not grow with the index."""

    def count(self) -> int: ...

    def clear(self) -> None:
        """Drop everything and recreate an empty index with the current versions."""

    def needs_rebuild(self) -> bool: ...

    def read_checkpoint(self) -> int | None:
        """The page id an interrupted rebuild had committed up to, or None."""

    def write_checkpoint(self, after_page_id: int | None) -> None:
        """Remember how far a rebuild got (None: it finished)."""

    def close(self) -> None: ...


class FolderCheckpoint:
    """The rebuild checkpoint of an index that lives in a folder (self.path)."""

    path: Path

    def read_checkpoint(self) -> int | None:
        try:
            return json.loads((self.path / CHECKPOINT_FILE).read_text())["after_page_id"]
        except (OSError, ValueError, KeyError):
            return None

    def write_checkpoint(self, after_page_id: int | None) -> None:
        target = self.path / CHECKPOINT_FILE
        if after_page_id is None:
            target.unlink(missing_ok=True)
            return
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps({"after_page_id": after_page_id}))
        os.replace(tmp, target)


def current_marker(backend: str, layout: int | None = None) -> dict:
    """What an index was built with. LAYOUT: the backend's own field layout version, if it has one."""
    marker = {"backend": backend, "analyzer_version": ANALYZER_VERSION, "schema_version": SCHEMA_VERSION}
    if layout is not None:
        marker["layout"] = layout
    return marker


def read_marker(path: Path) -> dict | None:
    try:
        return json.loads((path / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_marker(path: Path, backend: str, layout: int | None = None) -> None:
    tmp = path / (MARKER_FILE + ".tmp")
    tmp.write_text(json.dumps(current_marker(backend, layout)), encoding="utf-8")
    os.replace(tmp, path / MARKER_FILE)


def marker_is_current(path: Path, backend: str, layout: int | None = None) -> bool:
    return read_marker(path) == current_marker(backend, layout)


def current_index(ix, path: Path, backend: str, layout: int | None = None):
    """IX, if it was built by this version's analyzer and schema; else a rebuild is due."""
    if ix is None or not marker_is_current(path, backend, layout):
        raise IndexNeedsRebuild(
            f"the search index at {path} was built by another version of dangan: rebuild it (dangan index rebuild)"
        )
    return ix


def wipe_index_dir(path: Path) -> None:
    """Remove every index file but the writer lock (held by the caller)."""
    for entry in path.iterdir():
        if entry.name == LOCK_FILE:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def is_empty_dir(path: Path) -> bool:
    return not any(p.name != LOCK_FILE for p in path.iterdir())


def check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise ValueError(f'unknown sort "{sort}": use one of {", ".join(SORTS)}')
