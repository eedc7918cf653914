"""The synthetic scanner: believable customers, forms with exact truth, scanner-like PDFs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import weakref
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from stdnum.cn import ric, uscc

from dangan.testing import synthetic as syn

# ---------------------------------------------------------------- customers and cases


def test_generated_identity_numbers_pass_national_check_rules():
    customers = syn.make_customers(60, seed=7, company_share=0.4)
    assert {c.kind for c in customers} == {"person", "company"}
    for c in customers:
        assert ric.is_valid(c.id_number), c.id_number
        assert ric.get_birth_date(c.id_number) == c.birth_date
        # GB 11643: odd 17th digit for men
        assert int(c.id_number[16]) % 2 == (1 if c.gender == "男" else 0)
        assert re.fullmatch(r"[1-9]\d{9}", c.account_no)
        assert re.fullmatch(r"1[3-9]\d{9}", c.phone)
        if c.kind == "company":
            assert uscc.is_valid(c.uscc), c.uscc
            assert c.name.endswith("有限公司") and c.voltage == "10kV"
        else:
            assert c.uscc == "" and c.voltage == "0.4kV"
            assert re.search(r"\d+栋\d+单元\d+室$", c.address)
    assert len({c.account_no for c in customers}) == len(customers)


def test_customers_are_deterministic_by_seed():
    assert syn.make_customers(5, seed=3) == syn.make_customers(5, seed=3)
    assert syn.make_customers(5, seed=3) != syn.make_customers(5, seed=4)


def test_work_order_number_starts_with_business_date():
    case = syn.demo_cases(0)[0]
    assert re.fullmatch(r"\d{16}", case.work_order_no)
    assert case.work_order_no[:8] == case.business_date.strftime("%Y%m%d")


# ---------------------------------------------------------------- rendering


@pytest.fixture(scope="module")
def cases():
    return syn.demo_cases(0)


def test_every_document_type_renders_its_title_and_identifiers(cases):
    person, company = cases[0], cases[1]
    for doc_type in syn.CONTENT:
        case = company if doc_type in ("ZG", "FT") else person
        pages = syn.render_document(doc_type, case, dpi=100)
        first = pages[0]
        assert first.title in syn.PRINTED_TITLES[doc_type]
        assert first.lines[0] == first.title
        assert case.customer.account_no in first.text
        assert first.image.size == syn.a4_pixels(100)


def test_contract_spans_pages_with_seal_only_on_the_last(cases):
    pages = syn.render_document("HT", cases[0], dpi=100)
    assert 2 <= len(pages) <= 3
    assert [p.has_seal for p in pages] == [False] * (len(pages) - 1) + [True]
    assert "合同专用章" in pages[-1].seal_text
    assert pages[1].title == ""
    last = np.asarray(pages[-1].image).astype(int)
    red = (last[..., 0] > 150) & (last[..., 1] < 110) & (last[..., 2] < 110)
    assert red.sum() > 500  # the seal really is red ink on the page
    first = np.asarray(pages[0].image).astype(int)
    assert ((first[..., 0] > 150) & (first[..., 1] < 110)).sum() == 0


def test_id_card_copy_shows_the_card_fields(cases):
    c = cases[0].customer
    text = syn.render_document("SF", cases[0], dpi=100)[0].text
    for expected in (
        f"姓名 {c.person_name}",
        f"性别 {c.gender}",
        f"民族 {c.ethnicity}",
        f"公民身份号码 {c.id_number}",
        "住址",
    ):
        assert expected in text


def test_degrade_rotates_skews_and_soils_like_a_scanner():
    rng = np.random.default_rng(0)
    clean = Image.new("RGB", (400, 300), "white")
    clean.paste((0, 0, 0), (20, 20, 120, 40))  # a dark bar at the top left
    upside = np.asarray(syn.degrade(clean, rng, rotate=180, paper_tone=False))
    assert upside.shape == (300, 400, 3) and upside[270:280, 300:370].mean() < 10
    quarter = syn.degrade(clean, rng, rotate=90, paper_tone=False)
    assert quarter.size == (300, 400)
    # turning clockwise by `rotate` restores the original
    assert np.array_equal(np.asarray(quarter.rotate(-90, expand=True)), np.asarray(clean))
    skewed = np.asarray(syn.degrade(clean, rng, skew_deg=3, paper_tone=False))
    assert skewed[:5].min() == 255  # corners stay white, no black wedges
    soiled = np.asarray(syn.degrade(clean, rng, speckle=0.002, jpeg_quality=50))
    white = soiled[150:, :]
    assert 200 < white.mean() < 254 and white.min() < 120
    with pytest.raises(ValueError):
        syn.degrade(clean, rng, rotate=45)


# ---------------------------------------------------------------- demo batch


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, syn.generate_demo_batch(out, seed=0)


def test_demo_batch_has_the_required_mix(demo):
    _out, batch = demo
    assert len({f.case.account_no for f in batch.files}) >= 3
    assert {f.case.business_type for f in batch.files} >= {"XZ", "ZT", "GH", "XH", "JR"}
    pages = batch.pages
    assert len(pages) >= 30
    assert sum(p.is_blank for p in pages) == 1
    assert sum(p.rotation == 180 for p in pages) == 1
    assert all(p.rotation in (0, 180) for p in pages)
    assert any(0.5 <= abs(p.skew) <= 2 for p in pages)
    for f in batch.files:
        assert re.fullmatch(r"folder-\d\d\.pdf", f.file)
        for doc_type in f.case.doc_types:  # every required document is in the folder
            assert doc_type in {p.doc_type for p in f.pages}
        contract = [p for p in f.pages if p.doc_type == "HT"]
        if contract:
            assert [p.has_seal for p in contract] == [False] * (len(contract) - 1) + [True]
        assert [p.page_no for p in f.pages] == list(range(1, len(f.pages) + 1))


def test_demo_truth_json_round_trips(demo):
    out, batch = demo
    stored = syn.BatchTruth.from_json((out / "truth.json").read_text(encoding="utf-8"))
    assert stored == batch
    raw = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    page = raw["files"][0]["pages"][0]
    assert set(page) >= {"doc_type", "title", "text", "rotation", "skew", "is_blank", "has_seal"}


def test_demo_pdfs_are_a4_at_300_dpi_with_truthful_page_counts(demo):
    out, batch = demo
    for f in batch.files:
        info = subprocess.run(["pdfinfo", str(out / f.file)], capture_output=True, text=True, check=True)
        assert f"Pages:           {len(f.pages)}" in info.stdout
        assert "(A4)" in info.stdout
        assert "rror" not in info.stderr
    images = subprocess.run(
        ["pdfimages", "-list", str(out / batch.files[0].file)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert images and all(" jpeg " in row and " 300 " in row for row in images)
    from pdf2image import convert_from_path

    page = convert_from_path(str(out / batch.files[0].file), dpi=300, first_page=1, last_page=1)[0]
    assert page.size == syn.a4_pixels(300) == (2480, 3508)


def test_blank_page_is_near_white_and_flipped_page_is_upside_down(demo):
    out, batch = demo
    from pdf2image import convert_from_path

    blank = next(p for p in batch.pages if p.is_blank)
    img = np.asarray(
        convert_from_path(str(out / blank.file), dpi=50, first_page=blank.page_no, last_page=blank.page_no)[0].convert(
            "L"
        )
    )
    assert img.mean() > 215 and (img < 128).mean() < 0.002
    content = next(p for p in batch.pages if p.file == blank.file and p.page_no == blank.page_no - 1)
    img = np.asarray(
        convert_from_path(str(out / content.file), dpi=50, first_page=content.page_no, last_page=content.page_no)[
            0
        ].convert("L")
    )
    assert (img < 128).mean() > 0.005
    flipped = next(p for p in batch.pages if p.rotation == 180)
    img = np.asarray(
        convert_from_path(str(out / flipped.file), dpi=50, first_page=flipped.page_no, last_page=flipped.page_no)[
            0
        ].convert("L")
    )
    h = img.shape[0]
    # the title band sits at the top of a form; upside down its ink is at the bottom
    assert (img[-h // 8 :] < 128).sum() > (img[: h // 8] < 128).sum()


def test_demo_batch_is_deterministic(demo, tmp_path):
    _, batch = demo
    again = syn.generate_demo_batch(tmp_path, seed=0, dpi=100)
    assert [(p.doc_type, p.text, p.rotation, p.skew, p.is_blank) for p in again.pages] == [
        (p.doc_type, p.text, p.rotation, p.skew, p.is_blank) for p in batch.pages
    ]


# ---------------------------------------------------------------- OCR corpus


def test_ocr_corpus_covers_all_types_fonts_and_dpis(tmp_path):
    truths = syn.generate_ocr_corpus(tmp_path, n_pages=20, seed=1)
    assert {t.doc_type for t in truths} == set(syn.CONTENT)
    assert {t.font for t in truths} == set(syn.BODY_FACES)
    assert {t.dpi for t in truths} == {200, 300}
    assert {t.image_format for t in truths} == {"PNG", "JPEG"}
    assert all(abs(t.skew) <= 4 for t in truths)
    for t in truths[:4]:
        with Image.open(tmp_path / t.file) as im:
            assert round(im.info["dpi"][0]) == t.dpi
            assert im.size in (syn.a4_pixels(t.dpi), syn.a4_pixels(t.dpi)[::-1])
    assert syn.load_corpus_truth(tmp_path / "truth.json") == truths


# ---------------------------------------------------------------- streaming PDF


def _most_pages_alive_while_writing(path: Path, n_pages: int) -> int:
    """The most page images alive at once while writing N pages (memory as bench/memory.py
    measures it is a benchmark; that the writer holds no more than a page or two is a fact)."""
    rng = np.random.default_rng(0)
    alive: set[int] = set()
    most = [0]

    def pages():
        for i in range(n_pages):
            arr = rng.integers(200, 256, (1169, 827, 3), dtype=np.uint8)  # A4 at 100 dpi with paper grain
            arr[100 + i * 5 : 140 + i * 5, 100:700] = 0
            img = Image.fromarray(arr)
            alive.add(id(img))
            weakref.finalize(img, alive.discard, id(img))
            most[0] = max(most[0], len(alive))
            yield img

    assert syn.write_pdf(path, pages(), dpi=100) == n_pages
    return most[0]


def test_the_pdf_writer_streams_its_pages(tmp_path):
    alive = _most_pages_alive_while_writing(tmp_path / "fifty.pdf", 50)
    info = subprocess.run(["pdfinfo", str(tmp_path / "fifty.pdf")], capture_output=True, text=True, check=True)
    assert "Pages:           50" in info.stdout
    assert alive <= 2  # never more than the page being written and the next one


def test_long_pdf_reuses_pages_quickly(tmp_path):
    path = tmp_path / "long.pdf"
    assert syn.write_long_pdf(path, n_pages=25, seed=0, dpi=100) == 25
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           25" in info and "(A4)" in info


def test_empty_pdf_is_refused(tmp_path):
    with pytest.raises(ValueError):
        syn.write_pdf(tmp_path / "none.pdf", [], dpi=300)
    assert not (tmp_path / "none.pdf").exists()


# ---------------------------------------------------------------- real OCR


def test_tesseract_reads_account_number_and_title_of_a_clean_page(cases):
    import pytesseract

    os.environ["OMP_THREAD_LIMIT"] = "1"
    case = cases[0]
    page = syn.render_document("SQ", case, dpi=300)[0]
    top = page.image.crop((0, 0, page.image.width, page.image.height // 3))  # title, header, table
    text = pytesseract.image_to_string(top, lang="chi_sim", config="--psm 6")
    compact = re.sub(r"\s+", "", text)
    assert case.customer.account_no in compact
    assert page.title in compact
