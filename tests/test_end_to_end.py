"""The whole flow as a user runs it, through the `dangan` command: generated scans in,
real Tesseract, a real SQLite file, a real Tantivy index; found again by search."""

import json
import subprocess

import pytest
from click.testing import CliRunner

from dangan.archive.store import sha256_file
from dangan.cli import main
from dangan.testing.synthetic import demo_cases, render_document, write_pdf


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """One customer folder (a 减容 application and a two-page contract) scanned into a fresh home."""
    tmp = tmp_path_factory.mktemp("e2e")
    case = next(c for c in demo_cases(seed=3) if c.business_type == "JR")
    pages = render_document("SQ", case) + render_document("HT", case)
    (tmp / "scans").mkdir()
    write_pdf(tmp / "scans" / "folder-01.pdf", (p.image for p in pages))
    pages[0].image.save(tmp / "scans" / "loose-page.png", dpi=(300, 300))
    home = tmp / "home"
    runner = CliRunner()
    run = lambda *args: runner.invoke(main, ["--home", str(home), "--as", "tester", *args], catch_exceptions=False)
    assert run("init").exit_code == 0
    scanned = run("scan", "--jobs", "2", "--json", str(tmp / "scans"))
    assert scanned.exit_code == 0, scanned.output
    return {"case": case, "pages": pages, "tmp": tmp, "home": home, "run": run, "scan": json.loads(scanned.stdout)}


def test_scan_accessions_each_file_with_a_number(archive):
    folders = archive["scan"]["folders"]
    assert [f["status"] for f in folders] == ["accessioned", "accessioned"]
    assert {f["pages"] for f in folders} == {len(archive["pages"]), 1}
    assert len({f["number"] for f in folders}) == 2
    assert archive["scan"]["indexed"] == len(archive["pages"]) + 1
    assert archive["scan"]["indexed_at_commit"] is False  # the embedded index: the scan indexed them


def test_the_account_number_finds_the_folder(archive):
    account = archive["case"].customer.account_no
    out = archive["run"]("search", "--json", account)
    result = json.loads(out.stdout)
    assert result["total_hits"] >= 2
    numbers = {g["record_number"] for g in result["groups"]}
    assert numbers == {f["number"] for f in archive["scan"]["folders"]}


def test_a_chinese_word_inside_a_sentence_is_found_and_boxed_on_the_page(archive):
    out = archive["run"]("search", "--json", "--exact", "供电")
    result = json.loads(out.stdout)
    hits = [h for g in result["groups"] for h in g["hits"]]
    assert hits and all("【供电】" in h["snippet"] for h in hits)
    assert all(h["boxes"] for h in hits)
    box = hits[0]["boxes"][0]
    w, h = hits[0]["image_size"]
    assert 0 <= box["left"] < w and 0 <= box["top"] < h and box["width"] > 0


def test_show_lists_documents_with_checksums_and_the_master_is_the_input_page(archive):
    png = next(f for f in archive["scan"]["folders"] if f["source"].endswith(".png"))
    view = json.loads(archive["run"]("show", "--json", png["number"]).stdout)
    page = view["documents"][0]["pages"][0]
    assert page["master"]["sha256"] == sha256_file(archive["tmp"] / "scans" / "loose-page.png")
    assert sha256_file(archive["home"] / "store" / page["master"]["path"]) == page["master"]["sha256"]


def test_a_pdf_page_master_is_the_scanners_jpeg_unchanged(archive):
    pdf = next(f for f in archive["scan"]["folders"] if f["source"].endswith(".pdf"))
    view = json.loads(archive["run"]("show", "--json", pdf["number"]).stdout)
    first = view["documents"][0]["pages"][0]
    out = archive["tmp"] / "extracted"
    out.mkdir()
    subprocess.run(
        ["pdfimages", "-j", "-f", "1", "-l", "1", str(archive["tmp"] / "scans" / "folder-01.pdf"), str(out / "p")],
        check=True,
    )
    assert sha256_file(next(out.glob("p-*.jpg"))) == first["master"]["sha256"]


def test_a_second_scan_of_the_same_files_changes_nothing(archive):
    again = archive["run"]("scan", "--json", str(archive["tmp"] / "scans"))
    folders = json.loads(again.stdout)["folders"]
    assert {f["status"] for f in folders} == {"skipped"}
    assert {f["number"] for f in folders} == {f["number"] for f in archive["scan"]["folders"]}


def test_the_event_chain_and_index_agree_with_the_database(archive):
    assert archive["run"]("events", "verify").exit_code == 0
    check = json.loads(archive["run"]("index", "check", "--json").stdout)
    assert check["ok"] and check["pages"] == len(archive["pages"]) + 1
    assert (check["backend"], check["indexed"], check["warning"]) == ("tantivy", check["pages"], "")


def test_a_bad_query_is_a_readable_error_not_a_traceback(archive):
    out = CliRunner().invoke(main, ["--home", str(archive["home"]), "search", '户号:"unclosed'])
    assert out.exit_code != 0
    assert "Traceback" not in out.output and "cannot read the query" in out.output


def test_scan_json_exits_3_when_a_file_is_quarantined_and_a_dpi_less_page_is_taken(tmp_path):
    from tests.conftest import render_page

    scans = tmp_path / "scans"
    scans.mkdir()
    render_page(["用电申请书", "户号：3401405288"], dpi=200).save(scans / "screenshot.png")  # no dpi tag
    (scans / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<")
    run = lambda *a: CliRunner().invoke(main, ["--home", str(tmp_path / "home"), "--as", "tester", *a])
    assert run("init").exit_code == 0
    scanned = run("scan", "--jobs", "1", "--json", str(scans))
    assert scanned.exit_code == 3, scanned.output
    status = {f["source"].rsplit("/", 1)[-1]: f for f in json.loads(scanned.stdout)["folders"]}
    assert status["broken.pdf"]["status"] == "quarantined" and status["broken.pdf"]["reason"]
    assert status["screenshot.png"]["status"] == "accessioned"
