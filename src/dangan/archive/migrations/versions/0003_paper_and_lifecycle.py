"""paper and lifecycle: locations, boxes, folders, handovers, loans, document type history, disposals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_dept", sa.String(length=100), nullable=False),
        sa.Column("to_dept", sa.String(length=100), nullable=False),
        sa.Column("offered_by", sa.String(length=100), nullable=False),
        sa.Column("received_by", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["location.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_location_code", "location", ["code"], unique=True)
    op.create_index("ix_location_parent_id", "location", ["parent_id"], unique=False)

    op.create_table(
        "box",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("shelf_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shelf_id"],
            ["location.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_box_code", "box", ["code"], unique=True)
    op.create_index("ix_box_shelf_id", "box", ["shelf_id"], unique=False)

    op.create_table(
        "folder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("box_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["box_id"],
            ["box.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_folder_box_id", "folder", ["box_id"], unique=False)
    op.create_index("ix_folder_code", "folder", ["code"], unique=True)

    op.create_table(
        "disposal",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("retention", sa.String(length=8), nullable=False),
        sa.Column("trigger_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_table(
        "folder_record",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folder.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index("ix_folder_record_folder_id", "folder_record", ["folder_id"], unique=False)

    op.create_table(
        "handover_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("scheme_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handover.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_item_handover_id", "handover_item", ["handover_id"], unique=False)
    op.create_index("ix_handover_item_record_id", "handover_item", ["record_id"], unique=False)

    op.create_table(
        "loan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folder_id", sa.Integer(), nullable=False),
        sa.Column("borrower", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("approver", sa.String(length=100), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("pages_out", sa.Integer(), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_to", sa.String(length=100), nullable=False),
        sa.Column("pages_back", sa.Integer(), nullable=True),
        sa.Column("return_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["folder_id"],
            ["folder.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_loan_folder_id", "loan", ["folder_id"], unique=False)

    op.create_table(
        "document_type_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("old_type", sa.String(length=8), nullable=True),
        sa.Column("new_type", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_type_change_document_id", "document_type_change", ["document_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_document_type_change_document_id", table_name="document_type_change")

    op.drop_table("document_type_change")
    op.drop_index("ix_loan_folder_id", table_name="loan")

    op.drop_table("loan")
    op.drop_index("ix_handover_item_record_id", table_name="handover_item")
    op.drop_index("ix_handover_item_handover_id", table_name="handover_item")

    op.drop_table("handover_item")
    op.drop_index("ix_folder_record_folder_id", table_name="folder_record")

    op.drop_table("folder_record")
    op.drop_table("disposal")
    op.drop_index("ix_folder_code", table_name="folder")
    op.drop_index("ix_folder_box_id", table_name="folder")

    op.drop_table("folder")
    op.drop_index("ix_box_shelf_id", table_name="box")
    op.drop_index("ix_box_code", table_name="box")

    op.drop_table("box")
    op.drop_index("ix_location_parent_id", table_name="location")
    op.drop_index("ix_location_code", table_name="location")

    op.drop_table("location")
    op.drop_table("handover")
