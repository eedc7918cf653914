"""each user's language for the web app

Revision ID: 0007l
Revises: 0006a
Create Date: 2026-12-02

app_user.language: zh_CN or en, chosen by the user; empty means "as my browser asks"
(Accept-Language, then Chinese).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007l"
down_revision = "0006a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("language")
