"""What a scan reports is what the archive holds: flagged pages are the QA queue, warnings
reach it, a cover sheet is not a page of the paper, a rescan's file is a source of its record,
the same folder scanned twice is said, another customer's page in a folder is flagged with the
split proposed. Real scanned folders (tests/app/scans.py), real OCR."""

from __future__ import annotations

import pytest

from dangan.app import audit, ingest, paper, records
from dangan.app.reports import make_report
from tests.archive.paper import build_room

pytestmark = pytest.mark.database


def folder(result, n: int = 0) -> dict:
    return result.as_dict()["folders"][n]


def test_scan_says_how_many_pages_wait_in_qa_and_warnings_reach_the_queue(archive, scan):
    done = folder(scan("odd"))
    queue = records.qa_queue(archive)
    assert done["flagged"] == len(queue) == 2  # was always 0
    codes = {(i["seq"], f["code"]): f["severity"] for i in queue for f in i["flags"]}
    assert codes[(1, "field_invalid")] == codes[(2, "doc_type_unknown")] == "warn"
    assert "110105198001011235" in next(f["message"] for f in queue[0]["flags"] if f["code"] == "field_invalid")


def test_a_cover_sheet_is_not_a_page_of_the_paper(archive, scan):
    with archive.session() as s:
        build_room(s)
    done = folder(scan("covered"))
    assert (done["pages"], done["images"]) == (3, 4)  # 3 sheets behind a cover
    number = done["number"]
    view = records.record_view(archive, number, with_text=False)
    assert (view["pages"], view["images"]) == (3, 4)
    paper.shelve(archive, number, "B001")
    assert paper.lend(archive, number, borrower="李四")["pages_out"] == 3
    back = paper.return_loan(archive, number, pages_counted=3)
    assert back["page_mismatch"] is False
    reconciliation = make_report(archive, "reconciliation")
    assert reconciliation.findings["page_count_differs"] == []


def test_a_stack_split_at_cover_sheets_counts_each_folders_paper(archive, scan, folders):
    done = scan("stack").as_dict()["folders"]
    assert [(f["pages"], f["images"]) for f in done] == [(3, 4), (2, 3)]
    assert done[1]["link"].endswith(folders.cases["b"].work_order_no)


def test_a_rescan_keeps_its_file_as_a_source_and_the_rescanned_page_is_listed(archive, scan, folders):
    number = folder(scan("a"))["number"]
    done = ingest.rescan(archive, f"{number}/1", folders["a-page1-rescan"])
    fast, full = audit.verify(archive), audit.verify(archive, full=True)
    assert fast.unexpected == full.unexpected == [] and full.ok  # was: the rescan's file unexpected
    four = audit.check_four(archive)
    assert four.ok, four
    (old,) = records.qa_queue(archive, "rescanned")  # was always empty
    assert (old["page_id"], old["replaced_by"]) == (done["page_id"], done["new_page_id"])


def test_the_same_folder_in_a_new_wrapper_or_re_encoded_is_said_at_scan_time(archive, scan):
    first = folder(scan("a"))
    assert first["duplicate_of"] == []
    again = scan("a-rewrapped", "a-reencoded", "a-next").as_dict()["folders"]
    rewrapped, reencoded, following = again
    assert rewrapped["status"] == reencoded["status"] == "accessioned"  # the operator decides, not the scanner
    assert rewrapped["duplicate_of"] == [first["number"]] and rewrapped["flagged"] == rewrapped["pages"]
    assert first["number"] in reencoded["duplicate_of"]
    assert following["duplicate_of"] == []  # the same customer's next application is not a copy
    flags = {f["code"] for i in records.qa_queue(archive) for f in i["flags"]}
    assert "duplicate" in flags
    report = make_report(archive, "duplicates")
    pairs = {(r["record"], r["like_record"], r["how"]) for r in report.findings["pairs"]}
    assert (rewrapped["number"], first["number"], "same_image") in pairs
    assert any(p[0] == reencoded["number"] and p[2] == "looks_same" for p in pairs)
    assert report.problems == len(report.findings["pairs"]) > 0
    for item in records.qa_queue(archive):  # the operator keeps both: decided, no longer a problem
        ingest.qa_accept(archive, item["page_id"], "两次扫描都要保留")
    decided = make_report(archive, "duplicates")
    assert decided.problems == 0 and len(decided.findings["pairs"]) == len(report.findings["pairs"])


def test_another_customers_page_in_a_folder_is_flagged_with_the_split_proposed(archive, scan, folders):
    done = folder(scan("mixed"))
    c = folders.cases["c"]
    queue = {i["seq"]: i for i in records.qa_queue(archive)}
    flags = [f for f in queue[2]["flags"] if f["code"] == "other_customer"]
    assert flags and flags[0]["severity"] == "fail"
    assert c.customer.account_no in flags[0]["message"]
    assert f"FILE,2,2,{c.work_order_no}" in flags[0]["message"]  # the manifest row that splits it off
    assert all(f["code"] != "other_customer" for i in (1, 3) for f in queue.get(i, {"flags": []})["flags"])
    assert done["flagged"] >= 1


def test_a_page_whose_image_cannot_be_decoded_is_refused_not_archived_blank(archive, tmp_path):
    from PIL import Image, ImageDraw

    from dangan.testing.synthetic.scanner import write_pdf

    page = Image.new("RGB", (850, 1100), "white")
    ImageDraw.Draw(page).rectangle((100, 100, 700, 300), fill="black")
    write_pdf(tmp_path / "good.pdf", [page], 100)
    damaged = tmp_path / "damaged-colour-space.pdf"
    damaged.write_bytes((tmp_path / "good.pdf").read_bytes().replace(b"/DeviceRGB", b"/DeviceXYZ"))
    white = tmp_path / "blank-sheet.pdf"
    write_pdf(white, [Image.new("RGB", (850, 1100), "white")], 100)
    done = ingest.ingest(archive, [damaged, white], ingest.scan_options(archive, jobs=1)).as_dict()["folders"]
    by_name = {f["source"].rsplit("/", 1)[-1]: f for f in done}
    refused = by_name["damaged-colour-space.pdf"]
    assert refused["status"] == "quarantined" and "cannot be decoded" in refused["reason"]
    assert "Bad color space" in refused["reason"] or "Bad image" in refused["reason"]
    assert by_name["blank-sheet.pdf"]["status"] == "accessioned"  # a sheet that is truly white is still taken
    assert [q["file"].rsplit("/", 1)[-1] for q in records.quarantined(archive)] == ["damaged-colour-space.pdf"]
