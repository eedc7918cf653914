"""Bad input is refused by content with a reason a person can act on; good pages load one at a time."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dangan.scanning.sources import JPEG, PDF, PNG, TIFF, RejectedFile, inspect, read_page


def _page(text_rows=3, size=(1240, 1754)) -> Image.Image:
    im = Image.new("RGB", size, "white")
    arr = np.asarray(im).copy()
    for r in range(text_rows):
        arr[200 + r * 120 : 230 + r * 120, 150:1000] = 0
    return Image.fromarray(arr)


def write_bad_inputs(folder) -> dict[str, str]:
    """One file per kind of bad input; returns name -> words its reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.pdf").write_bytes(b"")
    buf = io.BytesIO()
    _page().save(buf, format="PDF", resolution=150)
    (folder / "truncated.pdf").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (folder / "notes.png").write_text("户号 3401405288 — this is a text file, not a scan", encoding="utf-8")
    Image.new("1", (12000, 9000), 1).save(folder / "bomb.png")
    _page().save(folder / "drawing.gif")
    frames = [_page(), _page(5)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    (folder / "cut.tif").write_bytes(buf.getvalue()[: int(len(buf.getvalue()) * 0.7)])
    _encrypted_pdf(folder / "locked.pdf")
    return {
        "empty.pdf": "empty",
        "truncated.pdf": "damaged",
        "notes.png": "text",
        "bomb.png": "megapixels",
        "drawing.gif": "not a PDF, OFD, TIFF, PNG or JPEG",
        "cut.tif": "damaged",
        "locked.pdf": "encrypted",
    }


def _encrypted_pdf(path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, encrypt="secret")
    c.drawString(100, 700, "locked")
    c.showPage()
    c.save()


@pytest.fixture
def bad(tmp_path):
    return tmp_path / "bad", write_bad_inputs(tmp_path / "bad")


def test_each_bad_file_is_refused_with_its_reason(bad):
    folder, expected = bad
    for name, words in expected.items():
        with pytest.raises(RejectedFile) as e:
            inspect(folder / name)
        assert words in str(e.value), f"{name}: {e.value}"


def test_a_scanner_pdf_page_master_is_its_embedded_jpeg_unchanged(tmp_path):
    pages = [_page(2), _page(4)]
    pages[0].save(tmp_path / "f.pdf", format="PDF", resolution=300, save_all=True, append_images=pages[1:])
    info = inspect(tmp_path / "f.pdf")
    assert (info.media_type, info.page_count) == (PDF, 2)
    raw = read_page(info, 2)
    assert raw.master.startswith(b"\xff\xd8\xff") and raw.master_suffix == ".jpg"
    assert raw.dpi == 300 and raw.image.shape == (1754, 1240, 3)
    assert raw.master in (tmp_path / "f.pdf").read_bytes()  # byte for byte, not re-encoded


def test_a_pdf_page_without_a_scan_or_text_is_rendered_at_300_dpi(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "vector.pdf"), pagesize=A4)
    c.rect(100, 500, 300, 200, fill=1)  # a drawing: no text of its own (text pages: test_born_digital)
    c.showPage()
    c.save()
    raw = read_page(inspect(tmp_path / "vector.pdf"), 1)
    assert raw.master_suffix == ".png" and raw.dpi == 300
    assert abs(raw.image.shape[1] - 2480) <= 2


def test_image_files_are_their_own_master_and_tiff_frames_become_lossless_pages(tmp_path):
    _page().save(tmp_path / "p.png", dpi=(300, 300))
    raw = read_page(inspect(tmp_path / "p.png"), 1)
    assert raw.master == (tmp_path / "p.png").read_bytes() and raw.dpi == 300
    frames = [_page(1), _page(6)]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], dpi=(200, 200))
    info = inspect(tmp_path / "m.tif")
    assert (info.media_type, info.page_count) == (TIFF, 2)
    second = read_page(info, 2)
    assert second.master_suffix == ".png" and second.dpi == 200
    assert np.array_equal(second.image, np.asarray(frames[1]))


def test_media_type_comes_from_content_not_extension(tmp_path):
    _page().save(tmp_path / "really-a-jpeg.png", format="JPEG")
    assert inspect(tmp_path / "really-a-jpeg.png").media_type == JPEG
    _page().save(tmp_path / "x.jpg", format="PNG")
    assert inspect(tmp_path / "x.jpg").media_type == PNG


# --------------------------------------------------------------------------- masters byte for byte

REAL = Path(__file__).resolve().parent.parent / "data" / "real"


@pytest.mark.parametrize(
    "name,suffix",
    [("c02-22.pdf", ".jpg"), ("lichtenstein.pdf", ".jp2")],  # an ICC-tagged JPEG, a JPEG 2000 image
)
def test_a_pdf_pages_own_image_stream_is_its_master_byte_for_byte(name, suffix):
    raw = read_page(inspect(REAL / name), 1)
    assert raw.master_suffix == suffix
    assert raw.master in (REAL / name).read_bytes()  # not re-encoded, not rendered


def test_ccitt_fax_data_is_kept_unchanged_in_a_tiff_and_decodes_to_the_page():
    from dangan.tools.pdftoppm import render_page

    raw = read_page(inspect(REAL / "ccitt.pdf"), 1)
    assert raw.master_suffix == ".tif"
    with Image.open(io.BytesIO(raw.master)) as im:
        assert im.info["compression"] == "group4" and im.size == (2550, 3300)
        strip = raw.master[im.tag_v2[273][0] :]
    assert strip in (REAL / "ccitt.pdf").read_bytes()  # the fax data itself, byte for byte
    shown = np.asarray(render_page(REAL / "ccitt.pdf", 1, dpi=300).convert("L"))
    ink, shown_ink = raw.image[..., 0] < 128, shown < 128
    assert abs(ink.mean() - shown_ink.mean()) < 0.002 and (ink == shown_ink).mean() > 0.95  # poppler anti-aliases


def test_a_jbig2_page_becomes_a_lossless_g4_tiff_of_its_own_pixels():
    raw = read_page(inspect(REAL / "jbig2.pdf"), 1)
    assert raw.master_suffix == ".tif" and raw.dpi == 300 and raw.image.shape == (3300, 2550, 3)
    with Image.open(io.BytesIO(raw.master)) as im:
        assert im.info["compression"] == "group4"
        assert np.array_equal(np.asarray(im.convert("L")), raw.image[..., 0])


def test_a_page_far_above_the_pixel_limit_is_refused_with_a_reason_an_operator_can_act_on():
    # OCRmyPDF's hugemono.pdf: one 35000 x 35000 bilevel image (an OpenCV error used to be the reason)
    with pytest.raises(RejectedFile) as e:
        read_page(inspect(REAL / "hugemono.pdf"), 1)
    assert "35000×35000" in str(e.value) and "megapixels" in str(e.value) and "rescan" in str(e.value)


def test_a_huge_page_without_a_scan_is_rendered_within_the_pixel_limit(tmp_path, monkeypatch):
    from reportlab.pdfgen import canvas

    from dangan.scanning import sources

    monkeypatch.setattr(sources, "MAX_PIXELS", 4_000_000)  # a smaller limit keeps the test quick
    c = canvas.Canvas(str(tmp_path / "poster.pdf"), pagesize=(72 * 20, 72 * 20))  # 20 x 20 inches
    c.setFont("Helvetica", 200)
    c.drawString(100, 700, "site plan")
    c.showPage()
    c.save()
    raw = read_page(inspect(tmp_path / "poster.pdf"), 1)
    h, w = raw.image.shape[:2]
    assert h * w <= 4_000_000 and raw.dpi < 300 and (raw.image < 128).any()


# --------------------------------------------------------------------------- pixels as meant to be seen


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_the_exif_orientation_tag_is_honoured_in_every_format(tmp_path, fmt):
    # given a page stored the way a phone's sensor saw it, turned 90°, with EXIF orientation 6
    upright = _page(4)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise; 6 = turn clockwise to view
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / f"photo.{fmt.lower()}"
    stored.save(path, fmt, exif=exif.tobytes())
    raw = read_page(inspect(path), 1)
    assert raw.master == path.read_bytes()  # the master is the file as delivered
    assert raw.image.shape == (1754, 1240, 3)  # the pixels are the page as meant to be seen
    assert np.abs(raw.image.astype(int) - np.asarray(upright).astype(int)).mean() < 3


def test_a_transparent_png_is_laid_on_white_paper(tmp_path):
    rgba = Image.new("RGBA", (400, 200), (0, 0, 0, 0))  # transparent black: a screenshot's background
    rgba.paste((20, 20, 20, 255), (50, 80, 350, 110))
    rgba.save(tmp_path / "shot.png")
    raw = read_page(inspect(tmp_path / "shot.png"), 1)
    assert raw.image[0, 0].tolist() == [255, 255, 255] and raw.image[90, 100].tolist() == [20, 20, 20]


def test_an_image_without_a_resolution_says_so_and_fax_pixels_are_made_square(tmp_path):
    _page().save(tmp_path / "nodpi.png")
    assert read_page(inspect(tmp_path / "nodpi.png"), 1).dpi == 0
    _page().convert("1").save(tmp_path / "fax.tif", compression="group4", dpi=(204, 98))
    raw = read_page(inspect(tmp_path / "fax.tif"), 1)
    assert raw.dpi == 204 and raw.image.shape[:2] == (round(1754 * 204 / 98), 1240)
