"""`report overdue` and `collect` are one computation (business.collection.cases_owing): cases
with nothing scanned owe everything, a closed case owes what is missing by its closing day."""

from __future__ import annotations

from datetime import date

import pytest

from dangan.app import business, lifecycle
from dangan.app.reports import make_report
from tests.app.builders import TODAY, add_record
from tests.archive.test_collection import PLANTED
from tests.archive.test_imports import CASE_HEADER, CUSTOMER_HEADER, GOOD_CUSTOMERS, case_row, write_csv

pytestmark = pytest.mark.database

NOT_SCANNED = [
    # four cases whose papers nobody scanned yet: each owes everything its stages reached
    case_row(
        工单编号="2025050500000011", 户号="3401405288", 业务类型="更名", 受理部门="城东营业厅", 受理日期="2025-05-05"
    ),
    case_row(
        工单编号="2025050600000012",
        户号="3401405290",
        业务类型="暂停",
        受理部门="城北营业厅",
        受理日期="2025-05-06",
        封停日期="2025-05-06",
        计划恢复日期="2025-09-01",
    ),
    case_row(
        工单编号="2025061200000013", 户号="3401405290", 业务类型="更名", 受理部门="城北营业厅", 受理日期="2025-06-12"
    ),
    case_row(
        工单编号="2025060300000014", 户号="3401405289", 业务类型="更名", 受理部门="城西营业厅", 受理日期="2025-06-03"
    ),
]


def overdue_in_collect(archive, today):
    return sorted(
        c.work_order for d in business.collection_list(archive, today=today, overdue_only=True) for c in d.cases
    )


@pytest.fixture
def imported(archive, tmp_path):
    business.import_export(
        archive, "customers", write_csv(tmp_path / "c.csv", CUSTOMER_HEADER, GOOD_CUSTOMERS), today=TODAY
    )
    report = business.import_export(
        archive, "cases", write_csv(tmp_path / "k.csv", CASE_HEADER, PLANTED + NOT_SCANNED), today=TODAY
    )
    assert report.rejected == 0, report.problems
    add_record(archive, tag="xz", doc_types=["SQ", "SF"], work_order="2025060200000001", business_type="XZ")
    add_record(  # the closed 减容: complete
        archive,
        tag="jr",
        doc_types=["SQ", "ZG", "JQ", "FT"],
        account="3401405289",
        work_order="2025050600000003",
        business_type="JR",
    )
    return archive


def test_overdue_report_and_collect_list_the_same_cases_scanned_or_not(imported):
    report = make_report(imported, "overdue", as_of=TODAY)
    listed = report.findings["overdue_cases"]
    assert listed == overdue_in_collect(imported, TODAY)
    # the scanned 新装 owes CQ and KC; three cases with nothing scanned are past their 受理 dues
    assert listed == ["2025050500000011", "2025050600000012", "2025060200000001", "2025060300000014"]
    assert report.problems == 4 and report.findings["unjudged"] == []
    rows = [r for r in report.findings["overdue"] if r["work_order"] == "2025050500000011"]
    # 更名 at 受理: the application, proof of the new name (ZG or SF), the bills settled
    assert sorted(r["missing"].partition(" ")[0] for r in rows) == ["JQ", "SQ", "ZG"]
    assert any(r["missing"].startswith("ZG or SF") for r in rows)
    assert {r["records"] == [] for r in rows} == {True}


def test_a_closed_case_owes_what_is_missing_by_its_closing_day_not_an_error(imported):
    lifecycle.close_case(imported, "2025061200000013", date(2025, 6, 13))  # closed, nothing scanned
    report = make_report(imported, "overdue", as_of=TODAY)
    assert report.findings["unjudged"] == []  # was: "更名 has no stage 'closed'"
    closed = [r for r in report.findings["overdue"] if r["work_order"] == "2025061200000013"]
    assert closed and {(r["case_status"], r["due"]) for r in closed} == {("closed", date(2025, 6, 13))}
    assert report.findings["overdue_cases"] == overdue_in_collect(imported, TODAY)


def test_they_still_agree_on_other_days_and_filters(imported):
    for day in (date(2025, 6, 4), TODAY, date(2025, 6, 19), date(2026, 1, 5)):
        assert make_report(imported, "overdue", as_of=day).findings["overdue_cases"] == overdue_in_collect(
            imported, day
        )
    west = make_report(imported, "overdue", as_of=date(2025, 6, 19), department="城西营业厅")
    assert west.findings["overdue_cases"] == ["2025060300000014", "2025061300000002"]


def test_the_commands_agree_as_a_person_runs_them(imported):
    """`dangan report overdue --json` and `dangan collect --overdue --json`, closed case included."""
    import json

    from click.testing import CliRunner

    from dangan.cli import main

    lifecycle.close_case(imported, "2025061200000013", date(2025, 6, 13))
    home = imported.home
    runner = CliRunner()
    base = ["--home", str(home.root), "--db", home.db_url, "--as", "稽查"]

    def both(day: str, *days_off: str) -> list[str]:
        off = [a for d in days_off for a in ("--holiday", d)]
        report = runner.invoke(main, [*base, "report", "overdue", "--as-of", day, *off, "--json"])
        collect = runner.invoke(main, [*base, "collect", "--overdue", "--today", day, *off, "--json"])
        assert report.exit_code == collect.exit_code == 4, (report.output, collect.output)  # overdue found
        listed = json.loads(report.stdout)["findings"]["overdue_cases"]
        assert listed == sorted(c["work_order"] for d in json.loads(collect.stdout) for c in d["cases"])
        return listed

    for day in ("2025-06-19", "2026-01-05"):
        listed = both(day)
        assert "2025061200000013" in listed and "2025050500000011" in listed  # closed; nothing scanned
    # the 更名 accepted on 2025-06-03 is late on Monday the 9th, unless three holidays pushed its due day
    assert "2025060300000014" in both("2025-06-09")
    assert "2025060300000014" not in both("2025-06-09", "2025-06-04", "2025-06-05", "2025-06-06")
