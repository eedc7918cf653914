"""staged pages: the per-page batch journal

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staged_page",
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("page_no", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=8), nullable=True),
        sa.Column("doc_type_score", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("is_blank", sa.Boolean(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_sha256", "page_no"),
    )


def downgrade() -> None:
    op.drop_table("staged_page")
