"""Bad input is refused by content with a reason a person can act on; good pages load one at a time."""

import io

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
        "drawing.gif": "not a PDF, TIFF, PNG or JPEG",
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


def test_a_pdf_without_one_jpeg_per_page_is_rendered_at_300_dpi(tmp_path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "vector.pdf"), pagesize=A4)
    c.drawString(100, 700, "born digital")
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
