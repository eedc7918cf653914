"""Alembic environment: migrations run from code (archive.db.upgrade) or the alembic CLI."""

from alembic import context

import dangan.archive.login  # noqa: F401  (it and archive.users: their tables belong to Base.metadata too)
from dangan.archive.db import make_engine
from dangan.archive.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table in batch mode by copying it and dropping the old one, which it
            # refuses while rows of another table refer to it (foreign keys are on for dangan's
            # connections): an archive with data could not be upgraded (0006a with a user's
            # session, 0007e with pages). Off while migrating (outside a transaction, as SQLite
            # wants), and every reference checked once the migrations are done.
            _pragma(connection, "PRAGMA foreign_keys=OFF")
        try:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migrations left rows referring to nothing: {broken[:10]}")
        finally:
            if sqlite:
                _pragma(connection, "PRAGMA foreign_keys=ON")
    engine.dispose()


def _pragma(connection, statement: str) -> None:
    """A PRAGMA on the driver's connection itself (SQLite ignores foreign_keys inside a transaction)."""
    cur = connection.connection.driver_connection.cursor()
    cur.execute(statement)
    cur.close()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
