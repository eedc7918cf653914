"""Search shows what the archive holds, the moment a change is committed: no `index sync`.
Every change goes through records.index_queue (queued in the change's own transaction) and
Archive.session (the index follows after the commit)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from dangan.app import business, lifecycle, paper, records
from dangan.archive.models import BusinessCase, IndexOutbox
from tests.app.builders import TODAY, add_record, field, found, index_agrees
from tests.archive.paper import build_room
from tests.archive.test_imports import CASE_HEADER, case_row, write_csv

pytestmark = pytest.mark.database


def outbox(archive) -> int:
    with archive.session() as s:
        return s.scalar(select(func.count(IndexOutbox.id)))


def test_a_disposed_record_leaves_search_at_once(archive):
    number = add_record(archive, tag="ls", doc_types=["SQ", "SF"], business_type="LS", work_order="2013050200000001")
    assert found(archive, "户号:3401405288") == [number]
    lifecycle.close_case(archive, "2013050200000001", date(2013, 6, 30))
    lifecycle.dispose(archive, number, reason="保管期满，经鉴定销毁", approved_by="鉴定小组")
    assert found(archive, "户号:3401405288") == []  # without `dangan index sync`
    assert outbox(archive) == 0 and index_agrees(archive)


def test_a_voided_number_leaves_search_and_comes_back_never(archive):
    number = add_record(archive, tag="v", doc_types=["SQ"], work_order="2024031500001234")
    lifecycle.void_number(archive, number, reason="label misprinted")
    assert found(archive, "工单:2024031500001234") == [] and index_agrees(archive)


def test_reclassify_reaches_search_the_case_and_the_title(archive):
    number = add_record(archive, tag="x", doc_types=["SQ", "SF"], work_order="2024031500001234")
    assert found(archive, "业务:XH") == []
    lifecycle.reclassify(archive, number, business_type="销户", reason="申请表为销户申请")
    assert found(archive, "业务:XH") == found(archive, "业务:销户") == [number]
    view = records.record_view(archive, number, with_text=False)
    assert view["case"]["business_type"] == "XH"  # the case had no type: the scan's reading is corrected
    assert view["title"] == "王建国 · XH"  # no longer "· business type not read"
    assert index_agrees(archive)


def test_reclassify_leaves_an_imported_case_type_alone(archive, tmp_path):
    number = add_record(archive, tag="x", doc_types=["SQ"], work_order="2025060200000001", business_type="ZT")
    rows = [case_row(工单编号="2025060200000001", 户号="3401405288", 业务类型="暂停", 受理日期="2025-06-02")]
    business.import_export(archive, "cases", write_csv(tmp_path / "k.csv", CASE_HEADER, rows), today=TODAY)
    lifecycle.reclassify(archive, number, business_type="减容", reason="first page misread")
    with archive.session() as s:
        assert s.scalar(select(BusinessCase.business_type)) == "ZT"  # the business system says 暂停


def test_a_business_type_set_by_an_import_reaches_search(archive, tmp_path):
    number = add_record(archive, tag="x", doc_types=["SQ"], work_order="2025060200000001")
    assert found(archive, "业务:ZT") == []
    rows = [case_row(工单编号="2025060200000001", 户号="3401405288", 业务类型="暂停", 受理日期="2025-06-02")]
    business.import_export(archive, "cases", write_csv(tmp_path / "k.csv", CASE_HEADER, rows), today=TODAY)
    assert found(archive, "业务:暂停") == [number] and index_agrees(archive)


def test_paper_account_numbers_and_links_follow(archive):
    with archive.session() as s:
        build_room(s)
    number = add_record(archive, tag="p", doc_types=["SQ"], work_order=None)
    paper.shelve(archive, number, "B001")
    assert found(archive, "位置:K01*") == [number]
    paper.add_location(archive, "K01-C-01-2", "shelf", parent="K01-C-01")
    paper.shelve(archive, "B001", "K01-C-01-2")  # the box moves: the record's location with it
    assert found(archive, "位置:K01/K01-C/K01-C-01/K01-C-01-2/B001") == [number]
    lifecycle.change_account_number(archive, "3401405288", "3401405299", reason="户号变更")
    assert found(archive, "户号:3401405299") == found(archive, "户号:3401405288") == [number]
    other = add_record(archive, tag="q", doc_types=["SQ"], work_order="2024031500001234", account="3401405299")
    business.link_record(archive, number, "2024031500001234", reason="same case")
    assert found(archive, "工单:2024031500001234") == sorted([number, other])
    assert outbox(archive) == 0 and index_agrees(archive)


def test_document_dates_are_what_hits_show_and_filters_use(archive):
    """The form says 2023-07-29; the record was accessioned years later: 日期:2023 finds it."""
    number = add_record(
        archive,
        tag="jr",
        doc_types=["SQ", None, "HT"],
        work_order="2023072900000001",
        texts=["减容申请 户号 3401405288", "申请减容后运行容量 400 千伏安", "供用电合同"],
        fields=[
            {"application_date": field("2023-07-29")},
            {"date": field("1980-01-01")},  # an unlabelled date (a birth date) does not date a document
            {"signing_date": field("2023-08-10")},
        ],
    )
    assert found(archive, "减容 日期:2023") == [number]
    assert found(archive, "减容 日期:2024..") == []
    hits = {h["page_no"]: h["date"] for g in records.search(archive, "户号:3401405288")["groups"] for h in g["hits"]}
    assert {n: str(d) for n, d in hits.items()} == {
        1: "2023-07-29",
        2: "2023-07-29",
        3: "2023-08-10",
    }  # page 2 continues
