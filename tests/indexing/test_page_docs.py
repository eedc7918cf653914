"""What the index sees of a page comes from the database as it is now: the classification
in force, every 户号 the customer has had, the case's date and work order, the shelf; not
blank, superseded or voided pages."""

import datetime as dt

import pytest
from sqlalchemy import select, update

from dangan.archive.business.scheme import load_scheme
from dangan.archive.models import Page
from dangan.archive.paper.locations import shelve
from dangan.archive.records.lifecycle import change_account_number, reclassify, void_number
from dangan.indexing.page_docs import page_docs
from tests.archive.paper import build_room
from tests.archive.records import make_record

pytestmark = pytest.mark.database


def test_a_page_as_the_index_sees_it(db):
    with db.session() as s:
        build_room(s)
        kept = make_record(s, tag="kept", doc_types=["SQ", "HT", "CB"], account="3401400001", work_order="WO2024000001")
        voided = make_record(s, tag="void", doc_types=["SQ"], account="3401400002", work_order="WO2024000002")
        shelve(s, kept.number, "B001", actor="keeper")
        reclassify(s, kept.number, reason="申请表为暂停", actor="keeper", scheme=load_scheme(), business_type="ZT")
        change_account_number(s, "3401400001", "3401400009", reason="户号变更", actor="clerk")
        void_number(s, voided.number, reason="duplicate scan", actor="keeper")
        ids = sorted(s.scalars(select(Page.id).where(Page.record_id == kept.id)))
        s.execute(update(Page).where(Page.id == ids[2]).values(is_blank=True))
        kept.case.accepted_on = dt.date(2024, 3, 15)
        all_ids = list(s.scalars(select(Page.id)))
    with db.session() as s:
        docs = page_docs(s, sorted(all_ids, reverse=True))
    assert [d.page_id for d in docs] == [str(i) for i in ids[:2]]  # page order; no blank page, no void record
    first = docs[0]
    assert (first.record_number, first.page_no, first.text) == (kept.number, 1, "户号 3401400001 第1页")
    assert first.account_numbers == ["3401400001", "3401400009"]  # old and new 户号 both find it
    assert (first.business_type, first.business_name) == ("ZT", "暂停")  # the classification in force
    assert (first.doc_type, docs[1].doc_type) == ("SQ", "HT") and first.doc_type_name
    assert (first.customer_name, first.address, first.work_orders) == ("王建国", "中山路18号", ["WO2024000001"])
    assert first.date == dt.date(2024, 3, 15)
    assert first.location.endswith("/B001") and first.location.count("/") == 4
    assert first.qa_status == "ok"
