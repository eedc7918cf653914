"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import dangan.archive.login  # noqa: F401  (its tables and archive.users' are in Base.metadata too)
from dangan.archive.db import schema_is_current
from dangan.archive.models import Base

pytestmark = pytest.mark.database


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ: write a migration for {diff}"
    assert schema_is_current(db.engine)
