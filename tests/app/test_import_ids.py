"""An import refuses a 身份证 or 统一社会信用代码 whose check character is wrong, with line,
column and reason; a good one is kept on the customer, earlier values in its history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dangan.app import business
from dangan.archive.models import Customer, CustomerVersion
from tests.app.builders import TODAY
from tests.archive.test_imports import write_csv

pytestmark = pytest.mark.database

HEADER = ["户号", "户名", "用电地址", "证件号码", "电压等级"]


def test_a_wrong_check_character_is_a_bad_row_and_good_ids_are_kept(archive, tmp_path):
    rows = [
        ["3401405288", "王建国", "中山路18号", "11010519800101123X", "交流220V"],  # wrong: should end in 8
        ["3401405289", "宏达机械厂", "工业园3号", "91110108MA01ABCD1X", "交流10kV"],  # credit code, wrong check
        ["3401405290", "李红", "中山路20号", "110105198001011238", "交流380V"],
        ["3401405291", "恒通物流有限公司", "港区1号", "91350100M000100Y43", "交流10kV"],
    ]
    problems = []
    report = business.import_export(
        archive,
        "customers",
        write_csv(tmp_path / "c.csv", HEADER, rows),
        today=TODAY,
        on_problem=problems.append,
    )
    assert (report.inserted, report.rejected) == (2, 2)
    bad = {p.line: (p.column, p.reason) for p in problems if p.severity == "error"}
    assert bad[2][0] == "证件号码" and "check character is X but should be 8" in bad[2][1]
    assert bad[3][0] == "证件号码" and "统一社会信用代码" in bad[3][1] and "check character" in bad[3][1]
    with archive.session() as s:
        ids = dict(s.execute(select(Customer.account_number, Customer.id_number)).all())
    assert ids == {"3401405290": "110105198001011238", "3401405291": "91350100M000100Y43"}


def test_a_changed_id_keeps_the_earlier_one(archive, tmp_path):
    first = [["3401405290", "李红", "中山路20号", "110105198001011238", "交流380V"]]
    business.import_export(archive, "customers", write_csv(tmp_path / "1.csv", HEADER, first), today=TODAY)
    second = [["3401405290", "李红", "中山路20号", "110105199003070025", "交流380V"]]
    report = business.import_export(archive, "customers", write_csv(tmp_path / "2.csv", HEADER, second), today=TODAY)
    assert report.updated == 1
    with archive.session() as s:
        version = s.scalars(select(CustomerVersion)).one()
        assert version.changed == ["id_number"] and version.earlier["id_number"] == "110105198001011238"
