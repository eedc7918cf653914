"""business import: import runs, customer and case versions, 户号 successions, case links

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30

Customers and cases imported from the business system's exports keep their earlier
values in customer_version / case_version; account_succession remembers 原户号 → 户号;
case_link says how a scanned record was linked to its case and how sure that is.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=400), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_run_file_sha256"), ["file_sha256"], unique=False)

    op.create_table(
        "account_succession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_account", sa.String(length=32), nullable=False),
        sa.Column("new_account", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("old_account", "new_account"),
    )
    with op.batch_alter_table("account_succession", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_succession_new_account"), ["new_account"], unique=False)
        batch_op.create_index(batch_op.f("ix_account_succession_old_account"), ["old_account"], unique=False)

    op.create_table(
        "customer_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("earlier", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_version_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customer_version_import_run_id"), ["import_run_id"], unique=False)

    op.create_table(
        "case_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("earlier", sa.JSON(), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("import_run_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["business_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["import_run_id"],
            ["import_run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_version_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_version_import_run_id"), ["import_run_id"], unique=False)

    op.create_table(
        "case_link",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["business_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.PrimaryKeyConstraint("record_id"),
    )
    with op.batch_alter_table("case_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_link_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_link_case_id"))

    op.drop_table("case_link")
    with op.batch_alter_table("case_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_version_import_run_id"))
        batch_op.drop_index(batch_op.f("ix_case_version_case_id"))

    op.drop_table("case_version")
    with op.batch_alter_table("customer_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_version_import_run_id"))
        batch_op.drop_index(batch_op.f("ix_customer_version_customer_id"))

    op.drop_table("customer_version")
    with op.batch_alter_table("account_succession", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_succession_old_account"))
        batch_op.drop_index(batch_op.f("ix_account_succession_new_account"))

    op.drop_table("account_succession")
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_run_file_sha256"))

    op.drop_table("import_run")
