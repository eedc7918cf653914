"""Cover sheets: an operator prints a cover per customer folder, puts it in front of the
folder's pages and scans a whole stack as one file; each cover starts a new record, linked to
the case, customer or record its QR names."""

import subprocess

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from dangan.archive.events import verify_chain
from dangan.archive.models import (
    ArchiveRecord,
    BusinessCase,
    CaseLink,
    Customer,
    Document,
    IndexOutbox,
    Page,
    SourceFile,
)
from dangan.archive.paper.labels import CoverCodeError, cover_code, write_covers
from dangan.scanning.batch import ScanOptions, scan
from dangan.scanning.covers import detect_cover, read_cover_code
from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.split import split_at_covers, split_documents
from tests.archive.records import make_record
from tests.conftest import render_page

pytestmark = pytest.mark.database

WO = "2024031500001234"
ACCT = "3401409999"


def cover_images(db, keys, tmp_path, dpi=300) -> list[Image.Image]:
    """The cover sheets as `dangan labels cover` prints them, as a scanner sees them."""
    pdf = tmp_path / "covers.pdf"
    with db.session() as s:
        write_covers(s, keys, pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(tmp_path / "cover")], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(tmp_path.glob("cover-*.png"))]


def test_cover_codes_carry_nothing_personal():
    assert cover_code(WO).payload == f"DANGAN:WO:{WO}"
    assert cover_code(ACCT).payload == f"DANGAN:ACCT:{ACCT}"
    assert cover_code("GD01-KH·2026-0000014").payload == "DANGAN:GD01-KH·2026-0000014"
    with pytest.raises(CoverCodeError, match="check character"):
        cover_code("GD01-KH·2026-0000015")
    with pytest.raises(CoverCodeError, match="10 digits"):
        cover_code("12345")


def test_the_step_finds_a_cover_and_ignores_ordinary_pages(db, tmp_path):
    [cover] = cover_images(db, [WO], tmp_path)
    page = PageState(source="x.pdf", page_no=1, image=np.asarray(cover), dpi=300)
    found = detect_cover(page, PipelineOptions())
    assert found.fields["cover"]["value"] == f"DANGAN:WO:{WO}" and found.is_blank and found.metrics["cover"] == 1.0
    text_page = np.asarray(render_page(["用电申请书", f"户号：{ACCT}"]))
    assert read_cover_code(np.asarray(Image.fromarray(text_page).convert("L"))) is None
    # pages before the first cover are a folder of their own; a cover is a document of its own
    pages = [_P(None), _P("SQ"), _P(None, cover=True), _P(None), _P("HT"), _P(None, cover=True)]
    assert [len(r) for r in split_at_covers(pages)] == [2, 3, 1]
    assert [len(d) for d in split_documents(pages[2:5])] == [1, 1, 1]


class _P:
    def __init__(self, doc_type, cover=False):
        self.doc_type, self.is_blank = doc_type, cover
        self.fields = {"cover": {"value": "DANGAN:ACCT:3401409999"}} if cover else {}


def test_a_stack_with_three_covers_becomes_three_linked_records(db, store, tmp_path):
    with db.session() as s:  # a known case, and an earlier record that gets a supplement
        customer = Customer(account_number="3401405288", name="王建国", address="中山路18号")
        s.add(customer)
        s.flush()
        s.add(
            BusinessCase(
                work_order=WO, customer_id=customer.id, business_type="JR", stage_dates={}, billing_fields={}, facts={}
            )
        )
        earlier = make_record(
            s, tag="earlier", doc_types=["SQ"], account="3401401111", work_order="2023010200000077", year=2026
        )
        earlier_number, earlier_case = earlier.number, earlier.case_id
    covers = cover_images(db, [WO, ACCT, earlier_number], tmp_path)
    pages = [
        covers[0],
        render_page(["用电申请书", "户号：3401405288", "申请减容"]),
        render_page(["供用电合同", "第一条 供电方式"]),
        covers[1],
        render_page(["居民身份证复印件", "户名：李秀英"]),
        covers[2],
        render_page(["竣工检验报告", "检验合格"]),
    ]
    path = tmp_path / "scans" / "stack.pdf"
    path.parent.mkdir()
    pages[0].save(path, format="PDF", resolution=300, save_all=True, append_images=pages[1:])

    report = scan([path], db, store, ScanOptions(jobs=2))

    assert [(f.status, f.first_page, f.last_page, f.pages, f.images) for f in report.folders] == [
        ("accessioned", 1, 3, 2, 3),  # a cover sheet is an image, not a page of the customer's paper
        ("accessioned", 4, 5, 1, 2),
        ("accessioned", 6, 7, 1, 2),
    ]
    numbers = [f.number for f in report.folders]
    assert len(set(numbers)) == 3 and earlier_number not in numbers
    with db.session() as s:
        records = [s.scalar(select(ArchiveRecord).filter_by(number=n)) for n in numbers]
        # 1: the case its cover named, and that case's customer
        assert records[0].case.work_order == WO and records[0].customer.account_number == "3401405288"
        assert s.get(CaseLink, records[0].id).method == "cover"
        # 2: the customer its cover named
        assert records[1].customer.account_number == ACCT
        # 3: a supplement: a new record with the earlier record's case; the earlier one unchanged
        assert records[2].case_id == earlier_case
        assert s.scalar(select(func.count(Page.id)).filter_by(record_id=earlier.id)) == 1
        cover_ids = set()
        for record, source_pages in zip(records, ([1, 2, 3], [4, 5], [6, 7])):
            rows = s.scalars(select(Page).filter_by(record_id=record.id).order_by(Page.seq)).all()
            assert [p.source_page for p in rows] == source_pages
            cover = rows[0]
            assert cover.metrics.get("cover") == 1.0 and cover.is_blank and cover.text == ""
            assert s.get(Document, cover.document_id).doc_type is None
            assert not any(p.metrics.get("cover") for p in rows[1:])
            cover_ids.add(cover.id)
        # covers never reach the index: not queued now, not taken by a rebuild
        assert not set(s.scalars(select(IndexOutbox.page_id))) & cover_ids
        from dangan.indexing.page_docs import page_docs

        indexed = {int(d.page_id) for d in page_docs(s, list(s.scalars(select(Page.id))))}
        assert indexed and not indexed & cover_ids
        # one source file, every page of it pointing there; the event chain intact
        [source] = s.scalars(select(SourceFile).filter_by(original_name="stack.pdf")).all()
        assert source.page_count == 7 and source.record_id == records[0].id
        assert set(s.scalars(select(Page.source_id).where(Page.record_id.in_([r.id for r in records])))) == {source.id}
        assert verify_chain(s)[1] == []

    rerun = scan([path], db, store, ScanOptions(jobs=1))
    assert [(f.status, f.number) for f in rerun.folders] == [("skipped", n) for n in numbers]
