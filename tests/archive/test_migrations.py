"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import dangan.archive.login  # noqa: F401  (its tables and archive.users' are in Base.metadata too)
from dangan.archive.db import schema_is_current
from dangan.archive.models import Base
from dangan.indexing.pg_backend import SEARCH_METADATA

pytestmark = pytest.mark.database


def test_migrations_match_the_models(db):
    # on PostgreSQL the database also holds the search index's tables (indexing.pg_backend)
    postgres = db.engine.dialect.name == "postgresql"
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn), [Base.metadata, SEARCH_METADATA] if postgres else Base.metadata
        )
    assert diff == [], f"models and migrations differ: write a migration for {diff}"
    assert schema_is_current(db.engine)
