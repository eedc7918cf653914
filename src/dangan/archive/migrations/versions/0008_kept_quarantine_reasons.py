"""quarantine reasons kept as text + params, rendered in the reader's language

Revision ID: 0008q
Revises: 0007e
Create Date: 2026-12-02

quarantined.reason_kept: the reason as its English message and parameters (JSON, see
dangan.i18n.kept), so the web, the CLI and the API show it in the reader's language. NULL on
rows written before: those show their reason as it was written (quarantined.reason, kept too).
A plain ADD COLUMN (SQLite cannot batch-alter a table others refer to).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008q"
down_revision = "0007e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("quarantined", sa.Column("reason_kept", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantined", schema=None) as batch_op:
        batch_op.drop_column("reason_kept")
