"""who read what, and throttling a stranger cannot turn against a user

Revision ID: 0006a
Revises: 0004
Create Date: 2026-12-01

On the "users" branch: known devices (browsers a user logged in from), failed log-ins
remember the device, the pages a session has been shown (one access event per page and
session), and per user the last log-in and whether an admin's password must be replaced.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006a"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.alter_column("must_change_password", server_default=None)

    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=64), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_login_failure_client"), ["client"], unique=False)
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.alter_column("device", server_default=None)

    op.create_table(
        "known_device",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_sha256", "user_id"),
    )
    op.create_table(
        "page_read",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["token_sha256"], ["user_session.token_sha256"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_sha256", "page_id"),
    )


def downgrade() -> None:
    op.drop_table("page_read")
    op.drop_table("known_device")
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failure_client"))
        batch_op.drop_column("device")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("must_change_password")
