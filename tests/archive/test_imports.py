"""Importing customers and cases from business-system exports: CSV (UTF-8, GBK) and .xlsx,
bad rows of each kind reported with line and reason, re-import changes nothing, a changed
row keeps its earlier values, 原户号 keeps old numbers working."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlalchemy import func, select

from dangan.archive.business.imports import (
    ImportFileError,
    ImportOptions,
    MappingError,
    case_history,
    customer_history,
    detect_encoding,
    import_cases,
    import_customers,
    load_mapping,
    parse_date,
)
from dangan.archive.business.scheme import load_scheme
from dangan.archive.models import (
    AccountSuccession,
    BusinessCase,
    CaseVersion,
    Customer,
    CustomerVersion,
    Event,
    ImportRun,
)
from dangan.archive.records.accession import find_customer

pytestmark = pytest.mark.database

TODAY = date(2025, 6, 16)  # a Monday
CUSTOMER_HEADER = ["户号", "户名", "用电地址", "电压等级", "用电类别", "原户号"]
CASE_HEADER = [
    "工单编号",
    "户号",
    "户名",
    "业务类型",
    "受理部门",
    "受理日期",
    "勘查日期",
    "方案答复日期",
    "封停日期",
    "计划恢复日期",
    "申请运行容量",
    "原运行容量",
    "减容起始日期",
    "减容截止日期",
    "归档日期",
]

GOOD_CUSTOMERS = [
    ["3401405288", "王建国", "中山路18号", "交流220V", "居民生活用电", ""],
    ["3401405289", "宏达机械厂", "工业园3号", "交流10kV", "大工业用电", ""],
    ["3401405290", "李红", "中山路20号", "交流380V", "一般工商业", ""],
]
BAD_CUSTOMERS = {  # row → what the report must say
    ("340140529", "短号", "", "交流220V", "", ""): "must have 10 digits",
    ("34014O5291", "字母", "", "交流220V", "", ""): "digits only",
    ("", "无户号", "", "", "", ""): "account number is empty",
    ("3.40141E+09", "科学计数", "", "", "", ""): "scientific notation",
    ("3401405292", "怪电压", "", "交流很高", "", ""): "voltage class",
}


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


def opts(**kw) -> ImportOptions:
    return ImportOptions(today=TODAY, actor="tester", **kw)


def write_csv(path, header, rows, encoding="utf-8", title: str | None = None):
    with open(path, "w", encoding=encoding, newline="") as fh:
        if title:
            fh.write(title + "\n")
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path, header, rows, title: str | None = None):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def case_row(**kw):
    row = dict.fromkeys(CASE_HEADER, "")
    row.update(kw)
    return [row[h] for h in CASE_HEADER]


def count(db, model) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def problems_by_line(report) -> dict[int, str]:
    return {p.line: p.reason for p in report.problems if p.severity == "error"}


def test_customers_gbk_csv_with_bad_rows_reimport_change_and_renumber(db, tmp_path, scheme):
    bad = [list(r) for r in BAD_CUSTOMERS]
    path = write_csv(
        tmp_path / "用户档案.csv", CUSTOMER_HEADER, GOOD_CUSTOMERS + bad, encoding="gbk", title="用户档案查询导出"
    )
    assert detect_encoding(path) == "gb18030"
    report = import_customers(db, path, scheme, opts())
    assert (report.inserted, report.rejected, report.updated) == (3, len(BAD_CUSTOMERS), 0)
    lines = problems_by_line(report)
    for i, expected in enumerate(BAD_CUSTOMERS.values()):
        assert expected in lines[3 + len(GOOD_CUSTOMERS) + i], lines  # title, header, good rows
    assert all(p.file == "用户档案.csv" for p in report.problems)
    with db.session() as s:
        assert s.scalar(select(Customer).filter_by(account_number="3401405289")).voltage_class == "HV"
        assert s.scalar(select(Customer).filter_by(account_number="3401405288")).customer_class == "residential"
    events_before = count(db, Event)
    assert events_before == 1  # one event for the run

    again = import_customers(db, path, scheme, opts())
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert count(db, Event) == events_before and count(db, CustomerVersion) == 0

    changed = [list(r) for r in GOOD_CUSTOMERS]
    changed[0][2] = "人民路1号"  # moved address
    changed[2][0], changed[2][5] = "3401405300", "3401405290"  # 户号 change via 原户号
    path2 = write_xlsx(tmp_path / "用户档案-0617.xlsx", CUSTOMER_HEADER, changed)
    report2 = import_customers(db, path2, scheme, opts())
    assert (report2.updated, report2.successions, report2.rejected) == (1, 1, 0)
    assert count(db, Event) == events_before + 2  # the run + the 户号 change
    with db.session() as s:
        history = customer_history(s, "3401405288")
        assert history[0]["earlier"]["address"] == "中山路18号" and history[0]["changed"] == ["address"]
        assert history[0]["source"] == "用户档案-0617.xlsx:2"
        renumbered = find_customer(s, "3401405290")
        assert renumbered.account_number == "3401405300" and renumbered.name == "李红"
        assert s.scalar(select(AccountSuccession)).kind == "renumbered"
    third = import_customers(db, path2, scheme, opts())
    assert (third.updated, third.successions, third.unchanged) == (0, 0, 3)
    assert count(db, Event) == events_before + 2
    with db.session() as s:
        runs = s.scalars(select(ImportRun).order_by(ImportRun.id)).all()
        assert [r.status for r in runs] == ["done"] * 4
        assert runs[0].file_sha256 == runs[1].file_sha256


def test_split_and_merge_keep_old_numbers(db, tmp_path, scheme):
    write_csv(tmp_path / "a.csv", CUSTOMER_HEADER, GOOD_CUSTOMERS)
    import_customers(db, tmp_path / "a.csv", scheme, opts())
    rows = [
        ["3401405401", "王建国", "中山路18号", "交流220V", "居民生活用电", "3401405288"],  # 分户: first
        ["3401405402", "王建民", "中山路18号之一", "交流220V", "居民生活用电", "3401405288"],  # second
        ["3401405289", "宏达机械厂", "工业园3号", "交流10kV", "大工业用电", "3401405290"],
    ]  # 并户
    path = write_csv(tmp_path / "b.csv", CUSTOMER_HEADER, rows)
    report = import_customers(db, path, scheme, opts())
    assert report.successions == 3 and report.rejected == 0, report.problems
    with db.session() as s:
        kinds = {(a.old_account, a.new_account): a.kind for a in s.scalars(select(AccountSuccession))}
        assert kinds == {
            ("3401405288", "3401405401"): "renumbered",
            ("3401405288", "3401405402"): "split",
            ("3401405290", "3401405289"): "merged",
        }
        assert find_customer(s, "3401405288").account_number == "3401405401"
        assert find_customer(s, "3401405402").name == "王建民"
        assert find_customer(s, "3401405290").account_number == "3401405289"  # merged away
    events_before = count(db, Event)
    again = import_customers(db, path, scheme, opts())
    assert (again.successions, again.updated, again.inserted) == (0, 0, 0)
    assert count(db, Event) == events_before


CASES = [  # (row, expected error fragment or None)
    (
        case_row(
            工单编号="2025060200000001",
            户号="3401405288",
            户名="王建国",
            业务类型="低压居民新装",
            受理部门="城东营业厅",
            受理日期="2025-06-02",
            勘查日期="2025/6/4",
        ),
        None,
    ),
    (
        case_row(
            工单编号="2025060300000002",
            户号="3401405289",
            业务类型="暂停",
            受理部门="城西营业厅",
            受理日期="2025年6月3日",
            封停日期="20250605",
            计划恢复日期="2025-09-01",
        ),
        None,
    ),
    (
        case_row(
            工单编号="2025050600000003",
            户号="3401405289",
            业务类型="JR",
            受理部门="城西营业厅",
            受理日期="2025-05-06",
            封停日期="2025-05-08",
            申请运行容量="400kVA",
            原运行容量="800",
            减容起始日期="2025-05-08",
            减容截止日期="2025-12-31",
            归档日期="2025-05-09",
        ),
        None,
    ),
    (
        case_row(
            工单编号="2025060400000004",
            户号="3401405290",
            业务类型="低压非居民新装",
            受理部门="城东营业厅",
            受理日期="2025-06-04",
        ),
        None,
    ),  # customer unknown: created
    (
        case_row(工单编号="2025061300000005", 户号="3401405288", 业务类型="外星业务", 受理日期="2025-06-13"),
        "unknown business type '外星业务'",
    ),
    (
        case_row(工单编号="2025061300000006", 户号="3401405288", 业务类型="更名", 受理日期="2025-13-01"),
        "is not a real date",
    ),
    (case_row(工单编号="2025061300000007", 户号="3401405288", 业务类型="更名", 受理日期="2025-07-01"), "in the future"),
    (
        case_row(
            工单编号="2025061300000008",
            户号="3401405289",
            业务类型="JR",
            受理日期="2025-06-13",
            申请运行容量="很多",
            原运行容量="800",
        ),
        "is not a number of kVA",
    ),
    (
        case_row(
            工单编号="2025061300000009",
            户号="3401405289",
            业务类型="JR",
            受理日期="2025-06-13",
            申请运行容量="900",
            原运行容量="800",
            减容起始日期="2025-06-14",
            减容截止日期="2025-12-31",
            封停日期="2025-06-14",
        ),
        "exceeds",
    ),
    (
        case_row(
            工单编号="2025061300000010",
            户号="3401405288",
            业务类型="新装",
            受理日期="2025-06-10",
            勘查日期="2025-06-02",
        ),
        "date order broken",
    ),
    (
        case_row(
            工单编号="2025061300000011",
            户号="3401405289",
            业务类型="暂停",
            受理日期="2025-06-02",
            归档日期="2025-06-12",
        ),
        "seal_date): missing required field",
    ),  # closed without 封停日期
    (
        case_row(工单编号="20250613000012", 户号="3401405288", 业务类型="更名", 受理日期="2025-06-13"),
        "must have 16 digits",
    ),
    (
        case_row(工单编号="2025061300000013", 户号="34014052", 业务类型="更名", 受理日期="2025-06-13"),
        "must have 10 digits",
    ),
]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_cases_export_with_bad_rows_stages_and_reimport(db, tmp_path, scheme, fmt):
    write_csv(tmp_path / "c.csv", CUSTOMER_HEADER, GOOD_CUSTOMERS[:2])
    import_customers(db, tmp_path / "c.csv", scheme, opts())
    rows = [r for r, _ in CASES]
    path = (
        write_xlsx(tmp_path / "工单.xlsx", CASE_HEADER, rows, title="业扩及变更工单")
        if fmt == "xlsx"
        else write_csv(tmp_path / "工单.csv", CASE_HEADER, rows, encoding="gb18030", title="业扩及变更工单")
    )
    report = import_cases(db, path, scheme, opts(batch_size=3))
    expected_bad = {3 + i: why for i, (_, why) in enumerate(CASES) if why}
    lines = problems_by_line(report)
    assert set(lines) == set(expected_bad), report.problems
    for line, why in expected_bad.items():
        assert why in lines[line], (line, lines[line])
    assert (report.inserted, report.rejected, report.customers_created) == (4, len(expected_bad), 1)
    with db.session() as s:
        xz = s.scalar(select(BusinessCase).filter_by(work_order="2025060200000001"))
        assert xz.business_type == "XZ" and xz.department == "城东营业厅"
        assert xz.stage_dates == {"受理": "2025-06-02", "勘查": "2025-06-04"} and xz.accepted_on == date(2025, 6, 2)
        zt = s.scalar(select(BusinessCase).filter_by(work_order="2025060300000002"))
        assert zt.stage_dates == {"受理": "2025-06-03", "加封": "2025-06-05"}
        assert zt.billing_fields == {"seal_date": "2025-06-05", "planned_end_date": "2025-09-01"}
        jr = s.scalar(select(BusinessCase).filter_by(work_order="2025050600000003"))
        assert jr.status == "closed" and jr.stage_dates["closed"] == "2025-05-09"
        assert jr.billing_fields["running_capacity_after_kva"] == 400.0
    events_before, versions_before = count(db, Event), count(db, CaseVersion)
    again = import_cases(db, path, scheme, opts())
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    assert (count(db, Event), count(db, CaseVersion)) == (events_before, versions_before)

    # the case moves on: 方案答复 reached, department corrected; the earlier values are kept
    moved = [
        case_row(
            工单编号="2025060200000001",
            户号="3401405288",
            业务类型="低压居民新装",
            受理部门="城南营业厅",
            受理日期="2025-06-02",
            方案答复日期="2025-06-12",
        )
    ]
    report3 = import_cases(db, write_csv(tmp_path / "更新.csv", CASE_HEADER, moved), scheme, opts())
    assert report3.updated == 1
    with db.session() as s:
        (version,) = case_history(s, "2025060200000001")
        assert version["earlier"]["department"] == "城东营业厅"
        assert version["earlier"]["stage_dates"] == {"受理": "2025-06-02", "勘查": "2025-06-04"}
        assert set(version["changed"]) == {"department", "stage_dates"}
        xz = s.scalar(select(BusinessCase).filter_by(work_order="2025060200000001"))
        assert xz.stage_dates == {"受理": "2025-06-02", "勘查": "2025-06-04", "方案答复": "2025-06-12"}


def test_open_case_without_required_billing_field_is_a_warning(db, tmp_path, scheme):
    rows = [case_row(工单编号="2025060300000002", 户号="3401405289", 业务类型="暂停", 受理日期="2025-06-03")]
    report = import_cases(db, write_csv(tmp_path / "k.csv", CASE_HEADER, rows), scheme, opts())
    assert report.inserted == 1 and report.rejected == 0
    assert any("封停日期" in p.reason and p.severity == "warning" for p in report.problems)


def test_whole_file_errors_are_plain(db, tmp_path, scheme):
    write_csv(tmp_path / "x.csv", ["名称", "地址"], [["a", "b"]])
    with pytest.raises(ImportFileError, match="no header row with the required columns"):
        import_customers(db, tmp_path / "x.csv", scheme, opts())
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81\x30\x81" * 50 + b"\x80\x80\xff")
    with pytest.raises(ImportFileError, match="neither UTF-8 nor GBK"):
        import_customers(db, tmp_path / "bin.csv", scheme, opts())
    with pytest.raises(MappingError, match="no mapping flavour 'nosuch'"):
        import_customers(db, tmp_path / "x.csv", scheme, opts(mapping="nosuch"))


def test_a_site_mapping_file(db, tmp_path, scheme):
    site = tmp_path / "site.yaml"
    site.write_text(
        """schema_version: 1
flavours:
  county:
    customers:
      columns: {account_number: [用户号], name: [用户名]}
      required: [account_number]
    cases:
      columns: {work_order: [申请号], account_number: [用户号], business_type: [业务]}
      required: [work_order, account_number, business_type]
      stages: {受理: [登记日期]}
""",
        encoding="utf-8",
    )
    assert load_mapping(str(site), scheme).name == "county"
    write_csv(tmp_path / "u.csv", ["用户号", "用户名"], [["3401405288", "王建国"]])
    report = import_customers(db, tmp_path / "u.csv", scheme, opts(mapping=str(site)))
    assert report.inserted == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(site.read_text(encoding="utf-8").replace("受理: [登记日期]", "签约: [登记日期]"), encoding="utf-8")
    with pytest.raises(MappingError, match="stage '签约' is not a stage of any business type"):
        load_mapping(str(bad), scheme)


def test_dates():
    assert parse_date("2024年3月5日") == date(2024, 3, 5) == parse_date("2024-03-05 10:22:00")
    assert parse_date("20240305") == date(2024, 3, 5) == parse_date("2024.3.5")
    for bad, why in (("2024-02-30", "not a real date"), ("1979-01-01", "before 1980"), ("下周", "not a date")):
        with pytest.raises(ValueError, match=why):
            parse_date(bad, TODAY)
