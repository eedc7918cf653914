"""Born-digital PDFs: a page with its own text is archived with that text and its positions,
not OCRed; a scanned page of the same file is OCRed; a garbage text layer is noticed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dangan.archive.business.scheme import load_scheme
from dangan.archive.store import FileStore, sha256_file
from dangan.cli import main
from dangan.scanning.page import PipelineOptions
from dangan.scanning.pipeline import options_from_scheme
from dangan.scanning.runner import TEXT_LAYER, PageTask, process_page
from dangan.scanning.sources import PDF, SUFFIX, inspect, read_page
from dangan.scanning.text_layer import garbage_reason
from dangan.testing.born_digital import SIZE_PT, break_text_layer, write_born_digital_pdf
from tests.conftest import render_page

APPLICATION = ["低压居民用电申请书", "户号 3301082231 户名 欧阳修远", "用电地址 杭州市西湖区文三路一百号"]
CONTRACT = ["供用电合同", "供电人 国网杭州供电公司", "用电人 欧阳修远 户号 3301082231"]
SCANNED = ["用电变更申请书", "客户名称 欧阳修远", "申请容量 8 千瓦"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("born")
    drawn = write_born_digital_pdf(tmp / "mixed.pdf", [APPLICATION, render_page(SCANNED), CONTRACT])
    break_text_layer(tmp / "mixed.pdf", tmp / "broken.pdf")
    return {"tmp": tmp, "drawn": drawn}


def _words_text(raw) -> str:
    return "".join(w.text for w in raw.words)


def test_a_text_page_keeps_its_exact_text_with_a_box_on_each_character(files):
    info = inspect(files["tmp"] / "mixed.pdf")
    raw = read_page(info, 1)
    assert raw.master_is_source and raw.master == b"" and raw.note == ""
    assert raw.text.splitlines() == APPLICATION
    assert _words_text(raw) == "".join(APPLICATION).replace(" ", "")
    assert "3301082231" in [w.text for w in raw.words]  # an account number stays one word
    px = raw.dpi / 72
    for line_no, line in enumerate(d for d in files["drawn"] if d.page == 1):
        first = next(w for w in raw.words if w.line == line_no)
        assert first.text == line.text[0]
        assert abs(first.left - line.left_pt * px) <= 2
        # the glyph box straddles the baseline and is about the font size tall
        assert first.top < line.baseline_pt * px < first.top + first.height
        assert 0.8 * SIZE_PT * px <= first.height <= 1.6 * SIZE_PT * px
    height, width = raw.image.shape[:2]
    assert abs(height - 841.89 * px) <= 1 and abs(width - 595.28 * px) <= 1


def test_a_scanned_page_in_the_same_file_is_a_scan(files):
    raw = read_page(inspect(files["tmp"] / "mixed.pdf"), 2)
    assert not raw.master_is_source and raw.master_suffix == ".jpg" and raw.words == ()


def test_a_text_layer_without_tounicode_is_refused_with_a_note(files):
    raw = read_page(inspect(files["tmp"] / "broken.pdf"), 1)
    assert raw.master_is_source and raw.words == ()
    assert "garbage" in raw.note and "ToUnicode" in raw.note


def test_mojibake_and_wrongly_mapped_ideographs_are_garbage_but_real_text_is_not():
    text = "\n".join(APPLICATION + CONTRACT)
    assert garbage_reason(text) == ""
    assert garbage_reason(text.encode("utf-8").decode("latin-1")) != ""  # UTF-8 read as Latin-1
    # every ideograph moved 7,000 code points: still ideographs, but not ones Chinese text uses
    shifted = "".join(chr(ord(c) + 7000) if "\u4e00" <= c <= "\u8000" else c for c in text)
    assert "does not read as Chinese" in garbage_reason(shifted)


def test_the_pages_of_a_mixed_file_are_read_each_its_own_way(files, tmp_path):
    store = FileStore(tmp_path / "store")
    store.create()
    info = inspect(files["tmp"] / "mixed.pdf")
    sha = sha256_file(info.path)
    options = options_from_scheme(load_scheme())
    pages = [process_page(PageTask(info, n, str(store.root), options, sha)) for n in (1, 2, 3)]
    text_page, scan, contract = pages
    # born digital: the file itself is the master, byte for byte; its text is exact
    assert text_page.master_sha256 == sha and text_page.master_format == "pdf"
    assert sha256_file(store.path(text_page.master_path)) == sha
    assert text_page.master_path == store.put_file("sources", info.path, SUFFIX[PDF]).relpath
    assert text_page.ocr_engine == contract.ocr_engine == TEXT_LAYER
    assert text_page.text.splitlines() == APPLICATION and contract.text.splitlines() == CONTRACT
    assert text_page.fields["account_number"]["value"] == "3301082231"
    assert text_page.doc_type == "SQ" and contract.doc_type == "HT"
    assert text_page.flags == []
    # the scanned sheet is OCRed from its own image
    assert scan.ocr_engine not in ("", TEXT_LAYER) and scan.master_sha256 != sha
    assert "欧阳修远" in scan.text.replace(" ", "")


def test_a_page_with_a_broken_text_layer_is_ocred_and_flagged(files, tmp_path):
    store = FileStore(tmp_path / "store")
    store.create()
    info = inspect(files["tmp"] / "broken.pdf")
    page = process_page(PageTask(info, 1, str(store.root), PipelineOptions(), sha256_file(info.path)))
    assert page.ocr_engine not in ("", TEXT_LAYER)
    assert "欧阳修远" in page.text.replace(" ", "")
    assert [f["code"] for f in page.flags if f["code"] == "text_layer_unusable"] == ["text_layer_unusable"]


@pytest.fixture(scope="module")
def archive(files, tmp_path_factory):
    """The mixed file scanned into a fresh home with the `dangan` command."""
    home = tmp_path_factory.mktemp("born-home") / "home"
    runner = CliRunner()
    run = lambda *args: runner.invoke(main, ["--home", str(home), "--as", "tester", *args], catch_exceptions=False)
    assert run("init").exit_code == 0
    scanned = run("scan", "--jobs", "1", "--json", str(files["tmp"] / "mixed.pdf"))
    assert scanned.exit_code == 0, scanned.output
    return {"run": run, "scan": json.loads(scanned.stdout), "home": home}


def test_search_finds_born_digital_words_boxed_where_they_are_drawn(files, archive):
    result = json.loads(archive["run"]("search", "--json", "--exact", "文三路一百号").stdout)
    hits = [h for g in result["groups"] for h in g["hits"]]
    assert len(hits) == 1 and hits[0]["boxes"]
    box = hits[0]["boxes"][0]
    line = next(d for d in files["drawn"] if d.page == 1 and "文三路" in d.text)
    px = 300 / 72
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from dangan.testing.born_digital import FONT_NAME

    start = line.left_pt + stringWidth(line.text[: line.text.index("文三路")], FONT_NAME, SIZE_PT)
    width = stringWidth("文三路一百号", FONT_NAME, SIZE_PT)
    assert abs(box["left"] - start * px) <= 3 and abs(box["width"] - width * px) <= 6
    assert box["top"] < line.baseline_pt * px < box["top"] + box["height"]
    view = json.loads(archive["run"]("show", "--json", archive["scan"]["folders"][0]["number"]).stdout)
    engines = [p["ocr_engine"] for d in view["documents"] for p in d["pages"]]
    assert engines.count(TEXT_LAYER) == 2 and len(engines) == 3
    # the scanned sheet between them is a document of its own: a paper scan
    assert [(d["doc_type"], d["origin"]) for d in view["documents"]] == [
        ("SQ", "electronic"),
        ("SQ", "paper"),
        ("HT", "electronic"),
    ]


def test_a_real_born_digital_pdf_reads_as_poppler_reads_it():
    """RapidOCRPDF's direct_extract.pdf (InDesign, two columns, CID fonts): rasterised and OCRed
    it came back with errors; its own text is exactly what poppler's pdftotext extracts."""
    import subprocess
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "data" / "real" / "rapidocrpdf-direct_extract.pdf"
    raw = read_page(inspect(path), 1)
    poppler = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert raw.master_is_source and raw.note == ""
    assert "".join(raw.text.split()) == "".join(poppler.split())


PASTED = ["客户签字 司马光明", "同意以上条款"]  # a scanned signature block pasted into a generated PDF
PASTED_AT_PT = (72.0, 300.0, 360.0, 90.0)  # left, top (from the page top), width, height


def _pdf_with_a_pasted_picture(path):
    """A reportlab PDF: lines of text (its text layer) and a picture of Chinese text pasted below
    them, as a business system embeds a scanned signature block; and a tiny logo."""
    import io

    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    from dangan.testing.born_digital import A4_PT, LEADING_PT, LEFT_PT, TOP_PT, _font
    from tests.conftest import SONG

    left, top, width, height = PASTED_AT_PT
    picture = Image.new("RGB", (round(width * 300 / 72), round(height * 300 / 72)), (250, 250, 245))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.truetype(SONG, 58, index=2)
    for i, line in enumerate(PASTED):
        draw.text((40, 40 + i * 110), line, font=font, fill=(20, 20, 20))
    canvas = Canvas(str(path), pagesize=A4_PT, invariant=1)
    canvas.setFont(_font(), SIZE_PT)
    for i, line in enumerate(CONTRACT):
        canvas.drawString(LEFT_PT, A4_PT[1] - (TOP_PT + i * LEADING_PT), line)
    buf = io.BytesIO()
    picture.save(buf, format="JPEG", quality=90)
    buf.seek(0)
    canvas.drawImage(ImageReader(buf), left, A4_PT[1] - top - height, width=width, height=height)
    logo = io.BytesIO()
    Image.new("RGB", (40, 40), "navy").save(logo, format="PNG")
    logo.seek(0)
    canvas.drawImage(ImageReader(logo), 500, 800, width=6, height=6)  # too small to hold text
    canvas.showPage()
    canvas.save()


def test_text_only_in_a_picture_on_a_born_digital_page_is_ocred_and_marked(tmp_path):
    """The page's text layer stays its text; the pasted picture's words are read by OCR, added
    with boxes inside the picture, marked as OCR, and found by search."""
    path = tmp_path / "signed.pdf"
    _pdf_with_a_pasted_picture(path)
    raw = read_page(inspect(path), 1)
    assert raw.words and len(raw.pictures) == 2  # the pasted block and the tiny logo

    home = tmp_path / "home"
    run = lambda *a: CliRunner().invoke(main, ["--home", str(home), "--as", "tester", *a], catch_exceptions=False)
    assert run("init").exit_code == 0
    scanned = run("scan", "--jobs", "1", "--json", str(path))
    assert scanned.exit_code == 0, scanned.output
    number = json.loads(scanned.stdout)["folders"][0]["number"]
    (page,) = [p for d in json.loads(run("show", "--json", "--text", number).stdout)["documents"] for p in d["pages"]]
    assert page["ocr_engine"].startswith(TEXT_LAYER + " + ")
    text = "".join(page["text"].split())
    assert "".join("".join(CONTRACT).split()) in text  # the layer's text, exactly
    assert "司马光明" in text and "同意以上条款" in text

    result = json.loads(run("search", "--json", "--exact", "司马光明").stdout)
    hits = [h for g in result["groups"] for h in g["hits"]]
    assert len(hits) == 1 and hits[0]["boxes"]
    px = 300 / 72
    left, top, width, height = (v * px for v in PASTED_AT_PT)
    for box in hits[0]["boxes"]:
        assert left <= box["left"] and box["left"] + box["width"] <= left + width
        assert top <= box["top"] and box["top"] + box["height"] <= top + height
    # marked as OCR: a flag to check them, and which words they are
    assert "text_in_pictures" in [f["code"] for f in page["flags"]]
    marked = page["fields"]["text_in_pictures"]
    assert "".join(w[0] for w in marked["words"]) == "".join("".join(PASTED).split())
    assert [[round(v / px) for v in b] for b in marked["pictures"]] == [[72, 300, 432, 390]]
    # the layer's own words are not read twice
    assert text.count("供用电合同") == 1


def test_a_picture_too_small_to_hold_text_is_not_read():
    from dangan.scanning.picture_text import big_enough

    assert not big_enough((0, 0, 25, 25), 300)  # 6 pt square: a logo, a bullet
    assert not big_enough((0, 0, 1000, 30), 300)  # a rule or a border strip
    assert big_enough((0, 0, 200, 40), 300)  # a line of 8-point text, several characters
