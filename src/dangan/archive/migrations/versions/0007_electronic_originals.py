"""electronic originals beside the paper: where each document came from

Revision ID: 0007e
Revises: 0013
Create Date: 2026-12-02

A document is a paper scan or an electronic original
(a born-digital PDF or an OFD, archived as it came). Existing documents are paper scans.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007e"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: batch mode would copy and drop `document`, which SQLite refuses while
    # pages refer to it (foreign keys are on), so an existing archive could not be upgraded
    op.add_column("document", sa.Column("origin", sa.String(length=16), nullable=False, server_default="paper"))
    op.add_column("staged_page", sa.Column("origin", sa.String(length=16), nullable=False, server_default="paper"))


def downgrade() -> None:
    with op.batch_alter_table("staged_page", schema=None) as batch_op:
        batch_op.drop_column("origin")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("origin")
