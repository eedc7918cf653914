"""OFD/A out: a record written as an OFD, checked against the profile, read back by another
reader with its text unchanged and drawn back within a small pixel difference of its pages."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dangan.archive.audit.ofd_export import NS
from dangan.cli import main
from dangan.scanning.ofd import OfdFile
from dangan.scanning.ofd_render import render
from dangan.testing.born_digital import write_born_digital_pdf
from tests.conftest import render_page

CONTRACT = ["供用电合同", "工单编号 2024031500001234", "用电人 欧阳修远 户号 3301082231"]
SCANNED = ["用电变更申请书", "客户名称 欧阳修远", "申请容量 8 千瓦"]


def scanned_and_exported(tmp: Path, source: Path, name: str) -> dict:
    """SOURCE scanned into a new archive under TMP and its record exported as TMP/NAME."""
    home = tmp / "home"
    run = lambda *a: CliRunner().invoke(main, ["--home", str(home), "--as", "tester", *a], catch_exceptions=False)
    assert run("init").exit_code == 0
    (folder,) = json.loads(run("scan", "--jobs", "1", "--json", str(source)).stdout)["folders"]
    out = run("export-ofd", folder["number"], "-o", str(tmp / name), "--json")
    assert out.exit_code == 0, out.output
    return {"run": run, "home": home, "folder": folder, "file": tmp / name, "result": json.loads(out.stdout)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ofd-out")
    write_born_digital_pdf(tmp / "mixed.pdf", [CONTRACT, render_page(SCANNED)])
    done = scanned_and_exported(tmp, tmp / "mixed.pdf", "record.ofd")
    view = json.loads(done["run"]("show", "--json", "--text", done["folder"]["number"]).stdout)
    return done | {"view": view, "source": tmp / "mixed.pdf"}


def _pages(view):
    return sorted((p for d in view["documents"] for p in d["pages"]), key=lambda p: p["seq"])


def test_the_export_passes_the_profile_check(exported):
    out = exported["run"]("check-four", str(exported["file"]), "--json")
    result = json.loads(out.stdout)
    assert out.exit_code == 0 and result["ok"], result
    assert {p["name"]: p["checked"] > 0 for p in result["properties"]} == {
        "authenticity": True,
        "integrity": True,
        "usability": True,
        "security": True,
    }


def test_the_check_finds_what_breaks_the_profile(exported, tmp_path):
    broken = tmp_path / "broken.ofd"
    with zipfile.ZipFile(exported["file"]) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            if item.filename.endswith(".ttf"):  # the embedded font left out
                continue
            data = src.read(item)
            if item.filename == "OFD.xml":
                data = data.replace("档号".encode(), "其他".encode())
            dst.writestr(item, data)
    result = json.loads(exported["run"]("check-four", str(broken), "--json").stdout)
    failed = {p["name"]: [f["check"] for f in p["failures"]] for p in result["properties"]}
    assert not result["ok"]
    assert "metadata" in failed["authenticity"] and "font embedded" in failed["usability"]


def test_another_reader_reads_the_text_unchanged(exported):
    ofdkit = pytest.importorskip("ofdkit")
    with ofdkit.open(exported["file"]) as doc:
        assert len(doc.pages) == 2
        for page, stored in zip(doc.pages, _pages(exported["view"]), strict=True):
            theirs = "".join(r.text for r in page.runs)
            assert theirs == "".join(stored["text"].split())
        assert doc.info.custom_data["档号"] == exported["result"]["number"]


def test_its_pages_draw_back_as_the_archived_page_images(exported):
    with OfdFile(exported["file"]) as ofd:
        for n, stored in enumerate(_pages(exported["view"]), start=1):
            page = ofd.page(n)
            drawn = np.asarray(render(ofd, page, stored["dpi"]).convert("L"), dtype=np.int16)
            original = np.asarray(
                Image.open(exported["home"] / "store" / stored["derived"]["path"]).convert("L"), dtype=np.int16
            )
            h, w = min(drawn.shape[0], original.shape[0]), min(drawn.shape[1], original.shape[1])
            assert abs(drawn.shape[0] - original.shape[0]) <= 1 and abs(drawn.shape[1] - original.shape[1]) <= 1
            assert np.abs(drawn[:h, :w] - original[:h, :w]).mean() < 2.0  # the invisible text is not drawn
            assert len([g for g in page.glyphs if not g.visible]) == len("".join(stored["text"].split()))


def test_the_export_is_an_event_with_the_files_checksum(exported):
    from sqlalchemy import select

    from dangan.archive.db import Database
    from dangan.archive.models import Event
    from dangan.archive.store import sha256_file

    db = Database(f"sqlite:///{exported['home'] / 'dangan.sqlite3'}")
    with db.session() as s:
        (export,) = s.scalars(select(Event).filter_by(type="export", object_id=exported["result"]["number"])).all()
        assert export.detail["sha256"] == sha256_file(exported["file"])
        assert export.detail["format"] == "application/ofd"
    db.dispose()


# ----------------------------------------------------------------- born-digital pages as they are


def _content(ofd_file, n):
    """Local names of the objects on page N of an OFD file (its Content.xml, as written)."""
    with zipfile.ZipFile(ofd_file) as z:
        root = ET.fromstring(z.read(f"Doc_0/Pages/Page_{n - 1}/Content.xml"))
    return root, [e.tag.rsplit("}", 1)[-1] for e in root.iter()]


def _grey_difference(drawn: Image.Image, original: Image.Image) -> float:
    a = np.asarray(drawn.convert("L"), dtype=np.int16)
    b = np.asarray(original.convert("L"), dtype=np.int16)
    assert abs(a.shape[0] - b.shape[0]) <= 1 and abs(a.shape[1] - b.shape[1]) <= 1
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return float(np.abs(a[:h, :w] - b[:h, :w]).mean())


def _poppler(pdf, page: int, dpi: int, tmp_path) -> Image.Image:
    out = tmp_path / f"poppler-{page}"
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(out)], check=True)  # fmt: skip
    return Image.open(f"{out}.png")


def test_a_born_digital_pdf_page_goes_out_as_vector_content(exported, tmp_path):
    """Given the mixed PDF's text page, the exported page is its drawing (paths, no picture of the
    page) with its exact text invisible over it, and drawn back it is poppler's drawing of the
    original page; the scanned page stays a picture with its OCR text."""
    root, names = _content(exported["file"], 1)
    assert exported["result"]["vector_pages"] == 1
    assert "PathObject" in names and "ImageObject" not in names
    invisible = [t for t in root.iter(f"{{{NS}}}TextObject") if t.get("Fill") == "false"]
    assert "".join(t.findtext(f"{{{NS}}}TextCode") for t in invisible) == "".join(CONTRACT).replace(" ", "")
    with OfdFile(exported["file"]) as ofd:
        drawn = render(ofd, ofd.page(1), 150)
    assert _grey_difference(drawn, _poppler(exported["source"], 1, 150, tmp_path)) < 1.0  # measured 0.52
    _root, scanned = _content(exported["file"], 2)
    assert scanned.count("ImageObject") == 1 and "PathObject" not in scanned


REAL = Path(__file__).resolve().parents[1] / "data" / "real"


@pytest.fixture(scope="module")
def exported_ofd(tmp_path_factory):
    """An OFD original with a seal (ofdrw's SESV4SignDoc.ofd), scanned and exported again."""
    source = REAL / "ofdrw-SESV4SignDoc.ofd"
    return scanned_and_exported(tmp_path_factory.mktemp("ofd-again"), source, "again.ofd") | {"source": source}


def test_an_ofd_page_is_copied_as_it_is(exported_ofd):
    """Its text objects are the original's (visible, in their embedded font), the seal is drawn
    on top, the file passes the profile check, and drawn back it is the original page."""
    _root, names = _content(exported_ofd["file"], 1)
    assert exported_ofd["result"]["vector_pages"] == 1
    assert "TextObject" in names and "ImageObject" in names  # the seal's picture
    with OfdFile(exported_ofd["source"]) as original, OfdFile(exported_ofd["file"]) as again:
        theirs, ours = original.page(1), again.page(1)
        assert [(g.char, round(g.x, 2), round(g.y, 2)) for g in ours.glyphs] == [
            (g.char, round(g.x, 2), round(g.y, 2)) for g in theirs.glyphs
        ]
        assert all(g.visible for g in ours.glyphs) and all(g.font for g in ours.glyphs)
        assert _grey_difference(render(again, ours, 100), render(original, theirs, 100)) < 0.5
    check = json.loads(exported_ofd["run"]("check-four", str(exported_ofd["file"]), "--json").stdout)
    assert check["ok"], check


def test_another_reader_reads_a_copied_ofd_page_as_the_original(exported_ofd):
    ofdkit = pytest.importorskip("ofdkit")
    with ofdkit.open(exported_ofd["source"]) as original, ofdkit.open(exported_ofd["file"]) as again:
        assert ["".join(r.text for r in p.runs) for p in again.pages] == [
            "".join(r.text for r in p.runs) for p in original.pages
        ]


def test_an_e_invoice_goes_out_with_its_jbig2_qr_code_usable_and_its_fonts_by_family(tmp_path):
    """ofdrw-1.ofd carries its QR code as JBIG2: the copied page keeps it, check-four decodes it
    (jbig2dec) and passes, and drawn back the QR code is there where it was. Its fonts are not
    embedded (楷体, KaiTi, 宋体, Courier New): each goes out as the installed face of its family
    that the renderer draws it with, so the export draws back as the original is drawn."""
    source = REAL / "ofdrw-1.ofd"
    done = scanned_and_exported(tmp_path, source, "invoice.ofd")
    run = done["run"]
    assert done["result"]["vector_pages"] == 1
    check = json.loads(run("check-four", str(tmp_path / "invoice.ofd"), "--json").stdout)
    assert check["ok"], check
    usability = next(p for p in check["properties"] if p["name"] == "usability")
    with OfdFile(tmp_path / "invoice.ofd") as again:
        page = again.page(1)
        (qr,) = [p for p in page.pictures if again.media_formats.get(p.part) == "GBIG2"]
        assert usability["checked"] >= len(page.pictures)
        drawn = np.asarray(render(again, page, 150).convert("L"))
    k = 150 / 25.4
    left, top, right, bottom = (round(v * k) for v in qr.box)
    assert [round(v, 1) for v in qr.box] == [8.5, 3.5, 28.5, 23.5]
    assert 0.3 < (drawn[top:bottom, left:right] < 128).mean() < 0.7
    with zipfile.ZipFile(tmp_path / "invoice.ofd") as z:
        public = ET.fromstring(z.read("Doc_0/PublicRes.xml"))
    embedded = {f.get("FamilyName"): f.get("FontName") for f in public.iter(f"{{{NS}}}Font")}
    assert {k: embedded.get(k) for k in ("楷体", "KaiTi", "宋体", "Courier New")} == {
        "楷体": "AR PL UKai CN",
        "KaiTi": "AR PL UKai CN",
        "宋体": "Noto Serif CJK SC",
        "Courier New": "Liberation Mono",
    }
    with OfdFile(source) as original:
        theirs = render(original, original.page(1), 150)
    assert _grey_difference(Image.fromarray(drawn).convert("RGB"), theirs) < 1.0  # was 6.85 with one CJK font


def test_a_pdf_page_with_masked_and_clipped_pictures_goes_out_as_vector(tmp_path):
    """RapidOCRPDF's direct_extract.pdf draws its emblems and its logo as pictures with soft
    masks, each clipped to a rectangle: they go out as pictures with their mask as alpha, cut to
    the clip, drawn in the page's order (the emblems over the grey box behind them), and the page
    draws back as poppler draws the original, within poppler's own two renderers' difference."""
    source = REAL / "rapidocrpdf-direct_extract.pdf"
    done = scanned_and_exported(tmp_path, source, "de.ofd")
    run = done["run"]
    assert done["result"]["vector_pages"] == 1
    _root, names = _content(tmp_path / "de.ofd", 1)
    assert names.count("ImageObject") == 2 and "PathObject" in names
    assert json.loads(run("check-four", str(tmp_path / "de.ofd"), "--json").stdout)["ok"]
    with OfdFile(tmp_path / "de.ofd") as ofd:
        page = ofd.page(1)
        assert all(ofd.picture(p.part).mode == "RGBA" for p in page.pictures)
        drawn = render(ofd, page, 150)
    original = _poppler(source, 1, 150, tmp_path)
    assert _grey_difference(drawn, original) < 3.5  # measured 2.74; pdftocairo vs pdftoppm: 3.77
    # the middle emblem (the arms of Russia, at 237-335 x 525-725 pt) is drawn, not the grey box under it
    k = 150 / 72
    emblem = (slice(round(620 * k), round(640 * k)), slice(round(245 * k), round(265 * k)))
    a = np.asarray(drawn.convert("L"), dtype=np.int16)[emblem]
    b = np.asarray(original.convert("L"), dtype=np.int16)[emblem]
    assert a.std() > 20 and np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.6  # measured 0.75; a flat box: 0


def test_a_clip_given_as_one_rectangle_is_cut_and_any_other_is_not_carried():
    from dangan.scanning.pdf_to_ofd import Unsupported, _SvgPage

    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100"><defs>'
        '<clipPath id="box"><rect x="10" y="20" width="50" height="30"/></clipPath>'
        '<clipPath id="two"><rect width="5" height="5"/><rect width="9" height="9"/></clipPath></defs></svg>'
    )
    page = _SvgPage(ET.fromstring(svg), iter(range(1, 100)).__next__)
    assert page._clip("url(#box)", (1, 0, 0, 1, 0, 0)) == (10, 20, 60, 50)
    with pytest.raises(Unsupported):
        page._clip("url(#two)", (1, 0, 0, 1, 0, 0))
