"""views follow the archive: document dates, cover sheets, perceptual hashes and content keys
of pages, near-duplicates found at scan time, customers' ID numbers

Revision ID: 0013
Revises: 0005
Create Date: 2026-12-02

document.dated is the document's own date (申请日期, 签订日期 …) read on its pages, so search
hits and date filters use it, not the accession date; page.is_cover marks our cover sheets,
which are not pages of the customer's paper; page.phash, page_key and page_likeness find a
folder scanned twice; customer.id_number keeps the 身份证 / 统一社会信用代码 an import checked.
Existing rows are filled in from what the pages already hold.
"""

import datetime as dt
import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0005"
branch_labels = None
depends_on = None

# the same fields, in the same order, as archive.records.accession.DOCUMENT_DATE_FIELDS
DATE_FIELDS = ("application_date", "signing_date", "connection_date", "seal_date", "unseal_date", "meter_removal_date")
KEY_FIELDS = ("account_number", "work_order", "id_number", "uscc")


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_number", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("business_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("type_source", sa.String(length=16), nullable=False, server_default=""))
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dated", sa.Date(), nullable=True))
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_cover", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("phash", sa.String(length=16), nullable=False, server_default=""))
    op.create_table(
        "page_key",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"]),
        sa.PrimaryKeyConstraint("page_id", "key"),
    )
    with op.batch_alter_table("page_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_key_key"), ["key"], unique=False)
    op.create_table(
        "page_likeness",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("like_page_id", sa.Integer(), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["like_page_id"], ["page.id"]),
        sa.ForeignKeyConstraint(["page_id"], ["page.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("page_likeness", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_likeness_like_page_id"), ["like_page_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_likeness_page_id"), ["page_id"], unique=False)
    _fill_in()


def _fill_in() -> None:
    """Covers, content keys and document dates of the pages already archived; where cases'
    business types came from (a case with a department or stage dates came from an import)."""
    conn = op.get_bind()
    case = sa.table(
        "business_case",
        sa.column("id", sa.Integer),
        sa.column("business_type", sa.String),
        sa.column("department", sa.String),
        sa.column("stage_dates", sa.JSON),
        sa.column("type_source", sa.String),
    )
    for case_id, business_type, department, stage_dates in conn.execute(
        sa.select(case.c.id, case.c.business_type, case.c.department, case.c.stage_dates)
    ).all():
        stages = json.loads(stage_dates) if isinstance(stage_dates, str) else (stage_dates or {})
        if business_type:
            source = "import" if (department or stages) else "scan"
            conn.execute(case.update().where(case.c.id == case_id).values(type_source=source))
    page = sa.table(
        "page",
        sa.column("id", sa.Integer),
        sa.column("document_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("fields", sa.JSON),
        sa.column("text", sa.Text),
        sa.column("is_cover", sa.Boolean),
    )
    document = sa.table("document", sa.column("id", sa.Integer), sa.column("dated", sa.Date))
    page_key = sa.table("page_key", sa.column("page_id", sa.Integer), sa.column("key", sa.String))
    dates: dict[int, str] = {}
    after = 0
    while True:
        rows = conn.execute(
            sa.select(page.c.id, page.c.document_id, page.c.fields, page.c.text)
            .where(page.c.id > after)
            .order_by(page.c.id)
            .limit(500)
        ).all()
        if not rows:
            break
        keys = []
        for page_id, document_id, fields, text in rows:
            fields = json.loads(fields) if isinstance(fields, str) else (fields or {})
            if "cover" in fields:
                conn.execute(page.update().where(page.c.id == page_id).values(is_cover=True))
            found = {str(f["value"]) for n, f in fields.items() if n in KEY_FIELDS and f.get("valid") and f["value"]}
            found |= set(re.findall(r"(?<!\d)\d{8,20}(?!\d)", text or ""))
            keys += [{"page_id": page_id, "key": k[:64]} for k in sorted(found)[:12]]
            if document_id not in dates:
                for name in DATE_FIELDS:
                    f = fields.get(name)
                    if f and f.get("valid") and f.get("value"):
                        dates[document_id] = f["value"]
                        break
        if keys:
            conn.execute(page_key.insert(), keys)
        after = rows[-1][0]
    for document_id, value in dates.items():
        conn.execute(document.update().where(document.c.id == document_id).values(dated=dt.date.fromisoformat(value)))


def downgrade() -> None:
    with op.batch_alter_table("page_likeness", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_likeness_page_id"))
        batch_op.drop_index(batch_op.f("ix_page_likeness_like_page_id"))
    op.drop_table("page_likeness")
    with op.batch_alter_table("page_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_key_key"))
    op.drop_table("page_key")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_column("phash")
        batch_op.drop_column("is_cover")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("dated")
    with op.batch_alter_table("business_case", schema=None) as batch_op:
        batch_op.drop_column("type_source")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_column("id_number")
