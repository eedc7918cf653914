"""archive settings: what every station of one archive must agree on

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

archive_setting holds archive-wide settings by key, such as the search index backend
that serves the archive (chosen by `dangan init`, changed by `dangan index rebuild`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_setting",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("archive_setting")
