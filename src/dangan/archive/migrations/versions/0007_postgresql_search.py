"""PostgreSQL full-text search: the search index inside the archive's own database

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

On PostgreSQL only (SQLite archives use an embedded index): search_page holds one row per
page, its terms as a tsvector under a GIN index, written in the same transaction that
accessions the page; search_state the index's versions and a rebuild's checkpoint. The
table layout is dangan.indexing.pg_backend's (SEARCH_METADATA), spelled out here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "search_page",
        sa.Column("page_id", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=True),
        sa.Column("sort_account", sa.Text(), nullable=True),
        sa.Column("sort_business", sa.Text(), nullable=True),
        sa.Column("terms", postgresql.TSVECTOR(), nullable=False),
        sa.PrimaryKeyConstraint("page_id"),
    )
    op.create_index("ix_search_page_terms", "search_page", ["terms"], postgresql_using="gin")
    op.create_index("ix_search_page_day", "search_page", ["day"])
    op.create_index("ix_search_page_sort_account", "search_page", ["sort_account"])
    op.create_index("ix_search_page_sort_business", "search_page", ["sort_business"])
    op.create_table(
        "search_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("search_state")
    op.drop_table("search_page")
