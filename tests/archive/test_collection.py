"""Collection follows the business: cases at different stages, documents scanned for some of
them; the overdue list and each case's completeness agree with what was planted. Scanned
records without a work order are linked by 户号 + business type only when unambiguous."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dangan.archive.business.collection import (
    CollectionError,
    case_documents,
    collection_list,
    link_record,
    propose_links,
)
from dangan.archive.business.imports import ImportOptions, import_cases, import_customers
from dangan.archive.business.scheme import load_scheme
from dangan.archive.models import ArchiveRecord, CaseLink, Event
from tests.archive.records import make_record
from tests.archive.test_imports import CASE_HEADER, CUSTOMER_HEADER, GOOD_CUSTOMERS, TODAY, case_row, write_csv

pytestmark = pytest.mark.database

# TODAY is Monday 2025-06-16. 受理 documents are due 3 working days after 受理, 勘查 3, 方案答复 15.
PLANTED = [
    # 新装·低压居民 accepted 06-02 (due 06-05), surveyed 06-04 (due 06-09): SQ, SF, CQ, KC owed
    # — SQ and SF scanned, so CQ (受理) and KC (勘查) are overdue; FA… expected later.
    case_row(
        工单编号="2025060200000001",
        户号="3401405288",
        业务类型="低压居民新装",
        受理部门="城东营业厅",
        受理日期="2025-06-02",
        勘查日期="2025-06-04",
    ),
    # 暂停 (HV customer) accepted 06-13 (due 06-18): everything owed, all merely due, not overdue.
    case_row(
        工单编号="2025061300000002",
        户号="3401405289",
        业务类型="暂停",
        受理部门="城西营业厅",
        受理日期="2025-06-13",
        封停日期="2025-06-13",
        计划恢复日期="2025-09-01",
    ),
    # 减容, closed: all documents scanned: complete, not listed.
    case_row(
        工单编号="2025050600000003",
        户号="3401405289",
        业务类型="减容",
        受理部门="城西营业厅",
        受理日期="2025-05-06",
        封停日期="2025-05-08",
        申请运行容量="400",
        原运行容量="800",
        减容起始日期="2025-05-08",
        减容截止日期="2025-12-31",
        归档日期="2025-05-09",
    ),
]


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


@pytest.fixture
def planted(db, tmp_path, scheme):
    opts = ImportOptions(today=TODAY, actor="tester")
    import_customers(db, write_csv(tmp_path / "c.csv", CUSTOMER_HEADER, GOOD_CUSTOMERS), scheme, opts)
    report = import_cases(db, write_csv(tmp_path / "k.csv", CASE_HEADER, PLANTED), scheme, opts)
    assert report.inserted == 3 and report.rejected == 0, report.problems
    with db.session() as s:
        make_record(
            s, tag="xz", doc_types=["SQ", "SF"], account="3401405288", work_order="2025060200000001", business_type="XZ"
        )
        make_record(
            s,
            tag="jr",
            doc_types=["SQ", "ZG", "JQ", "FT"],
            account="3401405289",
            work_order="2025050600000003",
            business_type="JR",
        )
    return tmp_path


def test_overdue_list_and_case_completeness_agree_with_what_was_planted(db, scheme, planted):
    with db.session() as s:
        departments = collection_list(s, scheme, today=TODAY)
        assert [d.department for d in departments] == ["城东营业厅", "城西营业厅"]
        east, west = departments
        (xz,) = east.cases
        assert xz.work_order == "2025060200000001" and xz.variant == "新装·低压居民"
        assert {o.codes for o in xz.overdue} == {("CQ",), ("KC",)}
        assert {(o.stage, o.due_on) for o in xz.overdue} == {("受理", date(2025, 6, 5)), ("勘查", date(2025, 6, 9))}
        assert {o.codes[0] for o in xz.owed if o.state == "expected"} == {"FA", "HT", "ZB"}
        assert {a.code for a in xz.arrived} == {"SQ", "SF"}
        (zt,) = west.cases  # the closed, complete 减容 is not listed
        assert zt.work_order == "2025061300000002" and not zt.overdue
        assert {o.codes[0] for o in zt.due} == {"SQ", "ZG", "JQ", "FT"}
        assert {o.due_on for o in zt.due} == {date(2025, 6, 18)}
        assert collection_list(s, scheme, today=TODAY, overdue_only=True)[0].department == "城东营业厅"
        assert len(collection_list(s, scheme, today=TODAY, overdue_only=True)) == 1
        later = collection_list(s, scheme, today=date(2025, 6, 19), department="城西营业厅")
        assert {o.codes[0] for o in later[0].cases[0].overdue} == {"SQ", "ZG", "JQ", "FT"}
        jr = case_documents(s, scheme, "2025050600000003", today=TODAY)
        assert jr.complete and jr.status == "closed" and len(jr.arrived) == 4
        with pytest.raises(CollectionError, match="no business case with work order 2025999900000000"):
            case_documents(s, scheme, "2025999900000000")


def test_records_without_work_order_are_linked_only_when_unambiguous(db, scheme, planted, tmp_path):
    with db.session() as s:
        one = make_record(
            s, tag="zt-no-wo", doc_types=["SQ", "ZG"], account="3401405289", work_order=None, business_type="ZT"
        )
        other = make_record(
            s, tag="gm-no-wo", doc_types=["SQ"], account="3401405288", work_order=None, business_type="GM"
        )
        one_number, other_number = one.number, other.number
        (link,) = propose_links(s, scheme, actor="tester")
        assert link.status == "proposed" and link.method == "account_and_type"
        assert link.confidence == pytest.approx(0.85)  # the customer's only open case
        assert s.scalar(select(func.count()).select_from(Event).filter_by(type="case link proposed")) == 1
        assert s.scalar(select(ArchiveRecord).filter_by(number=other_number)).case_id is None
        assert propose_links(s, scheme, actor="tester") == []  # nothing new on a second pass
        zt = case_documents(s, scheme, "2025061300000002", today=TODAY)
        assert {(a.code, a.proposed) for a in zt.arrived} == {("SQ", True), ("ZG", True)}
        assert {o.codes[0] for o in zt.owed} == {"JQ", "FT"}
    # the operator links the 更名 record by hand once its case is imported, and confirms the proposal
    more = [
        case_row(工单编号="2025061000000004", 户号="3401405288", 业务类型="更名", 受理日期="2025-06-10"),
        case_row(工单编号="2025061100000005", 户号="3401405288", 业务类型="更名", 受理日期="2025-06-11"),
    ]
    report = import_cases(
        db, write_csv(tmp_path / "m.csv", CASE_HEADER, more), scheme, ImportOptions(today=TODAY, actor="tester")
    )
    assert report.links_proposed == 0  # two open 更名 cases: ambiguous
    with db.session() as s:
        link_record(s, other_number, "2025061100000005", actor="clerk", reason="read from the stamp")
        link_record(s, one_number, "2025061300000002", actor="clerk")
        assert s.get(CaseLink, s.scalar(select(ArchiveRecord.id).filter_by(number=one_number))).status == "confirmed"
        with pytest.raises(CollectionError, match="belongs to 户号 3401405289 but case 2025061000000004"):
            link_record(s, one_number, "2025061000000004", actor="clerk")


def _cli():
    from dangan.cli import main

    return main


def test_cli_import_collect_show(home, db, tmp_path, scheme):
    main = _cli()
    runner = CliRunner()
    base = ["--home", str(home.root), "--db", home.db_url, "--as", "clerk"]
    customers = write_csv(
        tmp_path / "c.csv", CUSTOMER_HEADER, GOOD_CUSTOMERS + [["123", "坏", "", "", "", ""]], encoding="gbk"
    )
    out = runner.invoke(
        main,
        base + ["import", "customers", str(customers), "--today", "2025-06-16", "--report", str(tmp_path / "bad.csv")],
    )
    assert out.exit_code == 3, out.output  # a bad row: scripts notice
    assert "c.csv:5" in out.output and "must have 10 digits" in out.output
    assert "3401405288" not in (tmp_path / "bad.csv").read_text(encoding="utf-8-sig")
    cases = write_csv(tmp_path / "k.csv", CASE_HEADER, PLANTED)
    out = runner.invoke(main, base + ["import", "cases", str(cases), "--today", "2025-06-16", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output[out.output.index("{") :])["inserted"] == 3
    out = runner.invoke(main, base + ["collect", "--today", "2025-06-16"])
    assert out.exit_code == 4 and "城东营业厅" in out.output and "overdue" in out.output, out.output
    out = runner.invoke(main, base + ["case", "show", "2025061300000002", "--today", "2025-06-16"])
    assert out.exit_code == 0 and "暂停" in out.output and "FT" in out.output, out.output
    out = runner.invoke(main, base + ["case", "link", "GD01-KH·2025-0000010", "2025061300000002"])
    assert out.exit_code == 1 and "no record numbered" in out.output
