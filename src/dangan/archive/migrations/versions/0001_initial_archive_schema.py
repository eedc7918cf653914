"""initial archive schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("station", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=400), nullable=False),
        sa.Column("voltage_class", sa.String(length=8), nullable=False),
        sa.Column("customer_class", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_account_number"), ["account_number"], unique=True)

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_object_id"), ["object_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_type"), ["type"], unique=False)

    op.create_table(
        "fonds",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "index_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("index_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_index_outbox_page_id"), ["page_id"], unique=False)

    op.create_table(
        "number_counter",
        sa.Column("fonds", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("next_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("fonds", "category", "year"),
    )
    op.create_table(
        "account_alias",
        sa.Column("account_number", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("account_number"),
    )
    with op.batch_alter_table("account_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_alias_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "business_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("business_type", sa.String(length=8), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("stage_dates", sa.JSON(), nullable=False),
        sa.Column("billing_fields", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_order"),
    )
    with op.batch_alter_table("business_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_business_case_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "quarantined",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("original_name", sa.String(length=400), nullable=False),
        sa.Column("stored_path", sa.String(length=400), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarantined", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantined_sha256"), ["sha256"], unique=False)

    op.create_table(
        "archive_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("fonds", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.Column("born_digital", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["business_case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fonds"],
            ["fonds.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fonds", "category", "year", "serial"),
    )
    with op.batch_alter_table("archive_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_record_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_archive_record_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_archive_record_number"), ["number"], unique=True)

    op.create_table(
        "classification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=8), nullable=False),
        sa.Column("voltage_class", sa.String(length=8), nullable=False),
        sa.Column("customer_class", sa.String(length=32), nullable=False),
        sa.Column("retention", sa.String(length=8), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("classification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classification_record_id"), ["record_id"], unique=False)

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=8), nullable=True),
        sa.Column("doc_type_score", sa.Float(), nullable=False),
        sa.Column("title", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "item_no"),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_record_id"), ["record_id"], unique=False)

    op.create_table(
        "source_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=400), nullable=False),
        sa.Column("stored_path", sa.String(length=400), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["batch.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("source_page", sa.Integer(), nullable=False),
        sa.Column("master_path", sa.String(length=400), nullable=False),
        sa.Column("master_sha256", sa.String(length=64), nullable=False),
        sa.Column("master_size", sa.BigInteger(), nullable=False),
        sa.Column("master_format", sa.String(length=16), nullable=False),
        sa.Column("derived_path", sa.String(length=400), nullable=False),
        sa.Column("derived_sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("rotation", sa.Integer(), nullable=False),
        sa.Column("skew", sa.Float(), nullable=False),
        sa.Column("is_blank", sa.Boolean(), nullable=False),
        sa.Column("is_colour", sa.Boolean(), nullable=False),
        sa.Column("has_seal", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("ocr_engine", sa.String(length=64), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("qa_status", sa.String(length=16), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["archive_record.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source_file.id"],
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["page.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_master_sha256"), ["master_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_record_id"))
        batch_op.drop_index(batch_op.f("ix_page_master_sha256"))
        batch_op.drop_index(batch_op.f("ix_page_document_id"))

    op.drop_table("page")
    op.drop_table("source_file")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_record_id"))

    op.drop_table("document")
    with op.batch_alter_table("classification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classification_record_id"))

    op.drop_table("classification")
    with op.batch_alter_table("archive_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_record_number"))
        batch_op.drop_index(batch_op.f("ix_archive_record_customer_id"))
        batch_op.drop_index(batch_op.f("ix_archive_record_case_id"))

    op.drop_table("archive_record")
    with op.batch_alter_table("quarantined", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantined_sha256"))

    op.drop_table("quarantined")
    with op.batch_alter_table("business_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_case_customer_id"))

    op.drop_table("business_case")
    with op.batch_alter_table("account_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_alias_customer_id"))

    op.drop_table("account_alias")
    op.drop_table("number_counter")
    with op.batch_alter_table("index_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_outbox_page_id"))

    op.drop_table("index_outbox")
    op.drop_table("fonds")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_type"))
        batch_op.drop_index(batch_op.f("ix_event_object_id"))

    op.drop_table("event")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_account_number"))

    op.drop_table("customer")
    op.drop_table("chain_head")
    op.drop_table("batch")
