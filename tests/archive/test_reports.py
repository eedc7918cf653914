"""Auditor reports over a generated archive with planted faults: each report finds exactly
its faults and nothing else; a clean archive passes them all."""

import json

import pytest

from dangan.archive.audit.reports import (
    completeness_report,
    digitisation_report,
    numbering_report,
    overdue_report,
    reconciliation_report,
)
from dangan.archive.business.scheme import load_scheme
from tests.archive.audit import TODAY, build_clean, build_faulty

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


@pytest.fixture
def faulty(db, store):
    with db.session() as s:
        return build_faulty(s, store)


def test_completeness_finds_the_missing_mandatory_and_the_conditional_document(db, faulty, scheme):
    with db.session() as s:
        r = completeness_report(s, scheme, db_url=db.url, actor="auditor")
    found = {f["work_order"]: f["missing_codes"] for f in r.findings["incomplete_cases"]}
    assert found == {"WO-MISS": ["ZB"], "WO-COND": ["CQ"], "WO-LATE": ["ZB"]}
    assert r.problems == 3
    by_type = {row["business_type"]: row for row in r.section("by business type").rows}
    assert by_type["YB"]["cases"] == 8 and by_type["YB"]["incomplete"] == 3
    assert "conditional: ownership_unclear" in r.findings["incomplete_cases"][1]["missing"][0]
    assert r.about["actor"] == "auditor" and r.about["scheme_version"] == scheme.version
    assert r.about["counts"]["records"] == 9
    json.dumps(r.as_dict(), default=str)  # the --json output must serialise


def test_completeness_filters_by_department_customer_and_dates(db, faulty, scheme):
    from datetime import date

    with db.session() as s:
        by_dept = completeness_report(s, scheme, db_url=db.url, actor="a", department="客服")
        by_customer = completeness_report(s, scheme, db_url=db.url, actor="a", customer="3401405289")
        future = completeness_report(s, scheme, db_url=db.url, actor="a", date_from=date(2999, 1, 1))
        by_type = completeness_report(s, scheme, db_url=db.url, actor="a", business_type="过户")
    assert [r["work_order"] for r in by_dept.section("cases").rows] == ["WO-OK2"]
    assert [r["work_order"] for r in by_customer.section("cases").rows] == ["WO-OK2"]
    assert future.section("cases").rows == [] and by_type.section("cases").rows == []
    assert by_dept.ok


def test_an_invalid_billing_field_and_an_unmet_precondition_are_reported(db, store, scheme):
    from tests.archive.audit import add_record, set_case

    with db.session() as s:
        add_record(s, store, tag="jr", doc_types=["SQ", "ZG", "FT"], work_order="WO-JR", business_type="JR")
        set_case(
            s,
            "WO-JR",
            facts={"bills_settled": False},
            billing_fields={
                "capacity_before_kva": 500,
                "running_capacity_after_kva": 800,
                "seal_date": "2024-03-01",
                "period_start": "2024-03-01",
                "period_end": "2024-12-01",
            },
        )
        r = completeness_report(s, scheme, db_url=db.url, actor="a")
    (f,) = r.findings["incomplete_cases"]
    assert f["missing_codes"] == ["JQ"]
    assert any("running_capacity_after_kva" in x for x in f["invalid_fields"])
    assert any("bills_settled" in x for x in f["unmet_preconditions"])


def test_overdue_lists_only_the_late_collection(db, faulty, scheme):
    with db.session() as s:
        r = overdue_report(s, scheme, db_url=db.url, actor="auditor", today=TODAY)
    (row,) = r.findings["overdue"]
    assert (row["work_order"], row["stage"], row["missing"].split()[0]) == ("WO-LATE", "装表接电", "ZB")
    assert str(row["due"]) == "2024-01-17"  # five working days after Wednesday 10 January
    assert r.problems == 1


def test_overdue_is_quiet_before_the_due_date(db, faulty, scheme):
    from datetime import date

    with db.session() as s:
        r = overdue_report(s, scheme, db_url=db.url, actor="a", today=date(2024, 1, 16))
    assert r.ok


def test_digitisation_counts_folders_and_pages(db, faulty):
    with db.session() as s:
        r = digitisation_report(s, db_url=db.url, actor="auditor", today=TODAY)
    assert r.findings["not_scanned"] == ["F-PAPER-ONLY"]
    assert len(r.findings["qa_failed"]) == 1
    summary = r.findings["summary"]
    assert (summary["folders"], summary["scanned"], summary["verified"]) == (7, 6, 5)
    assert summary["pages"] == sum(d["pages"] for d in r.section("pages per day").rows) == 23
    assert r.problems == 2


def test_reconciliation_finds_each_paper_fault_once(db, faulty):
    with db.session() as s:
        r = reconciliation_report(s, db_url=db.url, actor="auditor", today=TODAY)
    assert r.findings == {
        "paper_without_scan": ["F-PAPER-ONLY"],
        "scan_without_paper": [faulty["noshelf"]],
        "electronic_where_paper_is_wanted": [],
        "page_count_differs": [faulty["ok2"]],
        "without_location": [],
        "overdue_loans": [faulty["cond"]],
    }
    (m,) = r.section("page count differs").rows
    assert (m["paper_pages"], m["scanned_pages"]) == (2, 3)


def test_numbering_lists_the_void_and_finds_no_gap(db, faulty):
    with db.session() as s:
        r = numbering_report(s, db_url=db.url, actor="auditor")
    assert r.findings["voided"] == [faulty["void"]] and r.findings["gaps"] == []
    assert r.section("voided").rows[0]["reason"] == "label misprinted"
    assert r.ok


def test_numbering_finds_a_gap_a_bad_check_character_and_a_void_without_reason(db, store):
    from sqlalchemy import select, text

    from dangan.archive.models import ArchiveRecord, NumberCounter
    from tests.archive.audit import add_record

    with db.session() as s:
        numbers = [add_record(s, store, tag=f"n{i}", doc_types=["SQ"], work_order=None).number for i in range(3)]
        s.scalar(select(NumberCounter)).next_serial += 1  # serial 4 consumed, no record: a gap
        bad = numbers[1][:-1] + ("0" if numbers[1][-1] != "0" else "1")
        s.execute(text("UPDATE archive_record SET number = :bad WHERE number = :n"), {"bad": bad, "n": numbers[1]})
        rec = s.scalar(select(ArchiveRecord).filter_by(number=numbers[2]))
        rec.status = "void"  # bypassing void_number: no reason recorded
        s.flush()
        r = numbering_report(s, db_url=db.url, actor="auditor")
    assert r.findings["gaps"] == ["GD01-KH·2024-000004" + r.findings["gaps"][0][-1]]
    assert r.findings["check_character_fails"] == [bad]
    assert r.findings["voids_without_reason"] == [numbers[2]]
    assert r.findings["duplicates"] == []
    assert r.problems == 3


def test_a_clean_archive_passes_every_report(db, store, scheme):
    with db.session() as s:
        build_clean(s, store)
        reports = [
            completeness_report(s, scheme, db_url=db.url, actor="a"),
            overdue_report(s, scheme, db_url=db.url, actor="a", today=TODAY),
            digitisation_report(s, db_url=db.url, actor="a", today=TODAY),
            reconciliation_report(s, db_url=db.url, actor="a", today=TODAY),
            numbering_report(s, db_url=db.url, actor="a"),
        ]
    assert [(r.kind, r.problems) for r in reports] == [(r.kind, 0) for r in reports]


def test_html_is_self_contained_with_charts_and_print_rules(db, faulty, scheme):
    from dangan.archive.audit.report_html import render_html

    with db.session() as s:
        r = completeness_report(s, scheme, db_url=db.url, actor="auditor")
        d = digitisation_report(s, db_url=db.url, actor="auditor", today=TODAY)
    page = render_html([r, d])
    assert page.count("<svg") >= 2 and "@media print" in page and "@page" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "WO-COND" in page and "auditor" in page
    assert "password" not in page


def test_csv_has_every_section(db, faulty, scheme):
    import csv
    import io

    with db.session() as s:
        r = reconciliation_report(s, db_url=db.url, actor="auditor", today=TODAY)
    rows = list(csv.reader(io.StringIO(r.to_csv())))
    assert ["## paper without scan"] in rows and ["## folders on overdue loan"] in rows
    assert any(row and row[0] == "F-PAPER-ONLY" for row in rows)
