"""An archive as the use cases see it: one data home, who acts, which index backend."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy.orm import Session

from dangan.archive.business.scheme import ClassificationScheme, load_scheme
from dangan.archive.db import Database, schema_is_current
from dangan.archive.home import DataHome, init_home
from dangan.archive.records.index_queue import queued_pages
from dangan.archive.settings import get_setting, set_setting
from dangan.archive.store import FileStore
from dangan.errors import DanganError
from dangan.i18n import _, archive_language
from dangan.indexing import feed
from dangan.indexing.backend import MARKER_FILE, Backend, read_marker
from dangan.indexing.backends import BACKENDS, EMBEDDED, default_backend, index_folder, open_backend
from dangan.indexing.lock import WaitCallback

# The index backend of an archive that was not told otherwise: tantivy (embedded, in the
# data home) on SQLite, postgresql (in the database itself) on PostgreSQL: backends.default_backend.
BACKEND_SETTING = "index_backend"  # archive.settings key: the backend that serves this archive
INDEX_BACKENDS = tuple(BACKENDS)

__all__ = ["INDEX_BACKENDS", "Archive", "DataHome", "IndexUpdate", "NoArchive", "init_archive"]

Progress = Callable[[int, int], None]


class NoArchive(DanganError):
    """There is no archive where we looked, or its database schema is older than this dangan."""


@dataclass(frozen=True)
class IndexUpdate:
    """How the index followed a change already saved in the database."""

    indexed: int | None  # None: the index could not be written now
    problem: str = ""
    # the index lives in the database (PostgreSQL): pages were indexed in the transaction that
    # accessioned them, so `indexed` counts only what waited in the outbox (usually 0)
    at_commit: bool = False

    def as_dict(self) -> dict:
        return {"indexed": self.indexed, "index_problem": self.problem, "indexed_at_commit": self.at_commit}


@dataclass
class Archive:
    home: DataHome
    actor: str = "operator"
    backend: str | None = None  # asked for (--backend, DANGAN_INDEX_BACKEND); None: the archive's own
    _scheme: ClassificationScheme | None = field(default=None, repr=False)
    scheme_file: str | None = None  # the classification scheme asked for (--scheme, DANGAN_SCHEME)
    # how the index followed the last change made through this archive (None: nothing to follow yet)
    last_index: IndexUpdate | None = field(default=None, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        home: str | os.PathLike | None = None,
        db: str | None = None,
        *,
        actor: str | None = None,
        backend: str | None = None,
        scheme: str | os.PathLike | None = None,
    ) -> Archive:
        """Settle the archive from arguments, then the environment (DANGAN_HOME, DANGAN_DB,
        DANGAN_USER, DANGAN_INDEX_BACKEND, DANGAN_SCHEME), then defaults. Nothing is opened yet."""
        return cls(
            DataHome.resolve(home, db),
            actor or os.environ.get("DANGAN_USER") or os.environ.get("USER") or "operator",
            backend or os.environ.get("DANGAN_INDEX_BACKEND") or None,
            scheme_file=str(scheme) if scheme else os.environ.get("DANGAN_SCHEME") or None,
        )

    @property
    def language(self) -> str:
        """The language of what the archive issues on its own behalf, such as the auditor's
        reports: DANGAN_LANGUAGE (zh_CN or en), Chinese unless set."""
        return archive_language()

    def acting_as(self, actor: str) -> Archive:
        """The same archive, with ACTOR doing what follows (a web request's user)."""
        other = Archive(self.home, actor, self.backend, self._scheme, self.scheme_file)
        other.__dict__["db"] = self.db
        other.__dict__["_readers"] = self._readers
        other.__dict__["archive_backend"] = self.archive_backend
        return other

    @cached_property
    def _readers(self) -> threading.local:
        """Per thread: the index backend kept open for searching (see searcher)."""
        return threading.local()

    @cached_property
    def db(self) -> Database:
        """The database, refused with the fix when it is missing or its schema is out of date."""
        if self.home.is_sqlite and not Path(self.home.sqlite_path).exists():
            raise NoArchive(
                f"no archive at {self.home.root}: run `dangan init` first (or pass --home / set DANGAN_HOME, "
                "and --db / DANGAN_DB for a shared PostgreSQL database)"
            )
        db = Database(self.home.db_url)
        if not schema_is_current(db.engine):
            db.dispose()
            raise NoArchive("the database schema is older than this dangan: run `dangan init` to upgrade it")
        self.__dict__["archive_backend"] = self._recorded_backend(db)
        if default_backend(self.home.db_url) not in EMBEDDED:
            # while the archive's index is in its database, pages are indexed in the transaction that
            # writes them (asked at each commit: init or a rebuild may switch it); the scheme is read
            # when a page is indexed, so a bad site scheme is refused where it is used
            feed.index_at_commit(
                db,
                open_backend(None, default_backend(self.home.db_url), database=db.engine),
                lambda: self.scheme,
                active=lambda: self.archive_backend not in EMBEDDED,
            )
        return db

    @cached_property
    def archive_backend(self) -> str:
        """The backend that serves this archive: recorded in its database (by `init`, or by
        a rebuild that switched), else the one an older dangan built in the data home, else
        the default for its database."""
        _ = self.db  # settles it
        return self.__dict__["archive_backend"]

    def _recorded_backend(self, db: Database) -> str:
        with db.session() as s:
            recorded = get_setting(s, BACKEND_SETTING)
        if recorded:
            return recorded
        legacy = read_marker(self.home.index_dir) or {}
        if legacy.get("backend") in EMBEDDED:
            return legacy["backend"]
        for name in EMBEDDED:
            if (self.home.index_dir / name).is_dir():
                return name
        return default_backend(self.home.db_url)

    @property
    def index_backend(self) -> str:
        """The backend this run uses: the one asked for, else the archive's."""
        return self.backend or self.archive_backend

    def record_backend(self, name: str) -> None:
        """Make NAME the backend that serves the archive, for every station from now on."""
        with self.session() as s:
            set_setting(s, BACKEND_SETTING, name)
        self.__dict__["archive_backend"] = name

    def check(self) -> None:
        """Raise NoArchive now, with the fix, rather than at the first use."""
        _ = self.db

    @property
    def store(self) -> FileStore:
        return FileStore(self.home.store_dir)

    @property
    def scheme(self) -> ClassificationScheme:
        """The classification scheme in force, loaded in this one place: the file asked for
        (--scheme, DANGAN_SCHEME), else the site's own in the data home (classification.yaml),
        else the shipped one. A bad file is refused (SchemeError: file, line and reason)."""
        if self._scheme is None:
            self._scheme = load_scheme(self.scheme_path)
        return self._scheme

    @property
    def scheme_path(self) -> Path | None:
        """The scheme file this archive reads (None: the shipped one)."""
        if self.scheme_file:
            return Path(self.scheme_file).expanduser().resolve()
        return self.home.site_scheme if self.home.site_scheme.is_file() else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error. When it
        changed what the search index shows (records.index_queue queued the pages), the index
        follows at once: no use case can forget it."""
        self.last_index = None
        with self.db.session() as s:
            yield s
        if queued_pages(s):
            self.follow_index()

    def follow_index(self, *, progress: Progress | None = None, on_wait: WaitCallback | None = None) -> IndexUpdate:
        """Bring the index up to what is committed (the pages waiting in the outbox). A failure
        loses nothing: the pages stay in the outbox, so it is reported (last_index), not raised."""
        try:
            with self.index(on_wait) as backend:
                pages = feed.sync(self.db, backend, progress=progress, scheme=self.scheme)
            update = IndexUpdate(pages, at_commit=self.archive_backend not in EMBEDDED)
        except Exception as e:  # noqa: BLE001 - whatever the index did, the database holds the change
            update = IndexUpdate(
                None,
                _("the search index could not be updated ({error}); run `dangan index sync` to catch up").format(
                    error=e
                ),
            )
        self.last_index = update
        return update

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads: it neither waits for nor holds up a writer."""
        with self.db.reading() as s:
            yield s

    @contextmanager
    def searcher(self) -> Iterator[Backend]:
        """The search index for reading, opened once per thread and kept: its searcher follows
        new commits by itself, and a rebuilt embedded index (a new marker file) is opened afresh."""
        local = self._readers
        name = self.index_backend
        path, signature = None, None
        if name in EMBEDDED:
            path = index_folder(self.home.index_dir, name)
            try:
                st = (path / MARKER_FILE).stat()
                signature = (st.st_ino, st.st_mtime_ns)
            except OSError:
                pass
        backend = getattr(local, "backend", None)
        if backend is not None and (local.signature != signature or local.name != name):
            backend.close()
            backend = None
        if backend is None:
            if path is not None:
                path.mkdir(parents=True, exist_ok=True)
            backend = open_backend(path, name, database=self.db.engine)
            local.backend, local.signature, local.name = backend, signature, name
        yield backend

    @contextmanager
    def index(self, on_wait: WaitCallback | None = None) -> Iterator[Backend]:
        """The search index, opened and closed again; ON_WAIT(pid) hears when a writer lock is held."""
        db = self.db
        name = self.index_backend
        path = None
        if name in EMBEDDED:
            self.home.index_dir.mkdir(parents=True, exist_ok=True)
            path = index_folder(self.home.index_dir, name)
        backend = open_backend(path, name, on_wait=on_wait, database=db.engine)
        try:
            yield backend
        finally:
            backend.close()

    def close(self) -> None:
        if "db" in self.__dict__:
            self.__dict__.pop("db").dispose()


def init_archive(archive: Archive) -> dict[str, str | int]:
    """Create (or upgrade) the data home: database schema, file store, search index. Safe to
    run again: data is left alone. Settles which backend serves the archive (the one asked
    for, else the one it has, else the default for its database) and records it for every
    station. Returns what exists."""
    created: dict[str, str | int] = dict(init_home(archive.home))
    archive.record_backend(archive.index_backend)
    with archive.index() as backend:
        created["index"], created["index_pages"] = backend.name, backend.count()
    return created
