"""Electronic originals beside the paper: an e-original of a case joins the record of its paper
as a document of its own; completeness counts it; reconciliation asks no paper for it when the
scheme allows its type to be born digital, and does when it does not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dangan.archive.audit.reports.reconciliation import reconciliation_report
from dangan.archive.business.scheme import load_scheme
from dangan.archive.models import ArchiveRecord
from dangan.scanning.batch import ScanOptions, scan
from dangan.scanning.pipeline import options_from_scheme
from dangan.testing.born_digital import write_born_digital_pdf

pytestmark = pytest.mark.database

ORDER = "2024031500001234"
PAPER_APPLICATION = [
    "暂停（减容）用电申请表",
    f"工单编号 {ORDER}",
    "户号 3301082231 户名 欧阳修远",
    "申请减容 200 千伏安",
]
E_SETTLEMENT = ["电费结清证明", f"工单编号 {ORDER}", "户号 3301082231 户名 欧阳修远", "该户电费已全部结清。"]
E_SCHEME_REPLY = ["供电方案答复单", "工单编号 2024041000005678", "户号 3301099901 户名 司马光明", "供电电压 10 千伏"]
E_METER_ORDER = ["装表接电工作单", "工单编号 2024042000009999", "户号 3301077702 户名 诸葛亮平", "电能表 已装接"]


@pytest.fixture
def archive(tmp_path, db, store, make_folder_pdf):
    scheme = load_scheme()
    options = ScanOptions(jobs=1, scheme=scheme, pipeline=options_from_scheme(scheme))
    files = tmp_path / "in"
    files.mkdir()

    def ingest(*paths):
        return scan(paths, db, store, options).folders

    return {"ingest": ingest, "files": files, "paper": make_folder_pdf, "scheme": scheme}


def _record(db, number):
    with db.session() as s:
        r = s.scalar(select(ArchiveRecord).filter_by(number=number))
        return {
            "born_digital": r.born_digital,
            "documents": [(d.item_no, d.doc_type, d.origin, len(d.pages)) for d in r.documents],
            "case": r.case.work_order if r.case else None,
        }


def test_an_electronic_original_joins_the_record_of_its_paper_and_completes_the_case(db, archive):
    from dangan.app.records import _completeness  # the record view's completeness, as people see it

    (paper,) = archive["ingest"](archive["paper"]("application.pdf", [PAPER_APPLICATION]))
    assert paper.status == "accessioned"
    with db.session() as s:
        record = s.scalar(select(ArchiveRecord).filter_by(number=paper.number))
        before = _completeness(s, record, archive["scheme"])
    assert any("电费结清证明" in m for m in before["missing"])

    write_born_digital_pdf(archive["files"] / "settlement.pdf", [E_SETTLEMENT])
    (joined,) = archive["ingest"](archive["files"] / "settlement.pdf")
    # the same record, the same number: a document of its own, an electronic original
    assert joined.status == "accessioned" and joined.number == paper.number
    assert _record(db, paper.number) == {
        "born_digital": False,
        "documents": [(1, "SQ", "paper", 1), (2, "JQ", "electronic", 1)],
        "case": ORDER,
    }
    with db.session() as s:
        record = s.scalar(select(ArchiveRecord).filter_by(number=paper.number))
        after = _completeness(s, record, archive["scheme"])
    assert not any("电费结清证明" in m for m in after["missing"])
    assert len(after["missing"]) == len(before["missing"]) - 1


def test_reconciliation_asks_paper_only_where_the_scheme_wants_it(db, archive):
    (paper,) = archive["ingest"](archive["paper"]("application.pdf", [PAPER_APPLICATION]))
    write_born_digital_pdf(archive["files"] / "settlement.pdf", [E_SETTLEMENT])
    write_born_digital_pdf(archive["files"] / "reply.pdf", [E_SCHEME_REPLY])
    write_born_digital_pdf(archive["files"] / "meter.pdf", [E_METER_ORDER])
    folders = {f.source.rsplit("/", 1)[-1]: f for f in archive["ingest"](archive["files"])}
    reply, meter = folders["reply.pdf"], folders["meter.pdf"]
    # an electronic original of a case with no record yet starts one of its own
    assert len({paper.number, reply.number, meter.number}) == 3
    assert folders["settlement.pdf"].number == paper.number
    assert _record(db, reply.number)["born_digital"]  # 供电方案答复单 may be born digital
    assert not _record(db, meter.number)["born_digital"]  # 装表接电工作单 may not
    with db.session() as s:
        report = reconciliation_report(s, db_url=db.url, actor="auditor")
    # the paper application still wants its folder; the born-digital reply wants none
    assert report.findings["scan_without_paper"] == sorted([paper.number, meter.number])
    assert report.findings["electronic_where_paper_is_wanted"] == [f"{meter.number}/1"]


def test_without_a_work_order_the_customers_one_record_is_joined_by_its_account_number(db, archive):
    (paper,) = archive["ingest"](archive["paper"]("application.pdf", [PAPER_APPLICATION]))
    no_order = [line for line in E_SETTLEMENT if not line.startswith("工单编号")]
    write_born_digital_pdf(archive["files"] / "settlement.pdf", [no_order])
    (joined,) = archive["ingest"](archive["files"] / "settlement.pdf")
    assert joined.number == paper.number
    assert [d[2] for d in _record(db, paper.number)["documents"]] == ["paper", "electronic"]
