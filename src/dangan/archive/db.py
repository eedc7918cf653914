"""Database engine and sessions. Any SQLAlchemy URL works; SQLite is the embedded default.

SQLite runs in WAL mode so readers never block the writer, and every transaction that may
write starts with BEGIN IMMEDIATE so two processes assigning archive numbers are serialised
by the database itself rather than failing half-way with "database is locked". Read-only
units of work (`Database.reading`) start a plain deferred transaction: many web requests
read at once without queueing for the writer's lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import dangan.archive.records.index_queue  # noqa: F401  (every session queues the pages its changes touch)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
READ_ONLY = "dangan_read_only"  # execution option of the engine behind Database.reading()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    # a server that vanished without a word (power, network) must not hold a connect for minutes
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> str:
    """Create or upgrade the schema to the newest migrations; return the revision(s).

    Parts of the domain may add migrations on branches of their own; "heads" applies all."""
    from alembic import command

    command.upgrade(alembic_config(url), "heads")
    engine = make_engine(url)
    try:
        return ",".join(sorted(_current_heads(engine)))
    finally:
        engine.dispose()


def _current_heads(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def schema_is_current(engine: Engine) -> bool:
    from alembic.script import ScriptDirectory

    heads = set(
        ScriptDirectory.from_config(alembic_config(str(engine.url.render_as_string(hide_password=False)))).get_heads()
    )
    return _current_heads(engine) == heads


class Database:
    """An engine plus a session factory; the one way code in dangan reaches the database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error."""
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit of work that only reads (nothing is committed). On SQLite it does not take
        the writer's lock, so it neither waits for a writer nor makes one wait."""
        with self._readers() as s:  # closing returns the connection, its transaction rolled back
            yield s

    def listen(self, name: str, fn) -> None:
        """Run FN on the SQLAlchemy session event NAME of every session of this database
        (how a part that archive/ knows nothing of follows its transactions)."""
        event.listen(self._sessions, name, fn)

    def dispose(self) -> None:
        self.engine.dispose()
