"""Pages whose files record no resolution, or an impossible one, are measured by their text."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.pipeline import run_pipeline
from dangan.scanning.resolution import FROM_FILE, FROM_PAGE_SIZE, FROM_TEXT, resolution
from dangan.scanning.sources import inspect, read_page
from dangan.testing import realworld

from .conftest import page_of, render_form

OPTIONS = PipelineOptions()
REAL = Path(__file__).resolve().parent.parent / "data" / "real"


@pytest.mark.parametrize("dpi", [150, 200, 300])
def test_a_page_without_a_dpi_tag_is_measured_by_its_text(dpi):
    page = resolution(page_of(render_form(dpi, "song", seed=dpi), dpi=0), OPTIONS)
    assert page.metrics["dpi_source"] == FROM_TEXT
    assert page.dpi == pytest.approx(dpi, rel=0.25)
    assert page.metrics["dpi_declared"] == 0


def test_a_plausible_declared_dpi_is_kept():
    page = resolution(page_of(render_form(200, "kai", seed=2), dpi=200), OPTIONS)
    assert page.dpi == 200 and page.metrics["dpi_source"] == FROM_FILE


@pytest.mark.parametrize("declared", [1, 10_000])
def test_an_impossible_declared_dpi_is_replaced(declared):
    page = resolution(page_of(render_form(300, "hei", seed=3), dpi=declared), OPTIONS)
    assert page.metrics["dpi_source"] == FROM_TEXT and 200 <= page.dpi <= 400


def test_a_camera_default_of_72_dpi_on_a_photo_of_a_sheet_is_not_believed():
    image, _truth = realworld.phone_photo(seed=0)
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(buf, "JPEG", quality=85, dpi=(72, 72), exif=exif.tobytes())
    raw = read_page_bytes(buf.getvalue(), ".jpg")
    page = resolution(PageState(source="photo.jpg", page_no=1, image=raw.image, dpi=raw.dpi), OPTIONS)
    assert raw.dpi == 72 and page.metrics["dpi_source"] == FROM_TEXT and page.dpi > 100


def test_a_page_without_text_or_dpi_is_taken_for_a_sheet_of_a4():
    page = resolution(page_of(np.full((3508, 2480, 3), 250, np.uint8), dpi=0), OPTIONS)
    assert page.metrics["dpi_source"] == FROM_PAGE_SIZE and page.dpi == 300


@pytest.mark.parametrize(
    "make,fmt",
    [(realworld.screenshot, "PNG"), (realworld.clean_72dpi, "PNG")],
)
def test_dpi_less_images_go_through_the_whole_pipeline(tmp_path, make, fmt):
    # a PNG exported without any resolution (screenshots, most PNG exports) used to be refused
    # with ZeroDivisionError
    image, truth = make(seed=5)
    path = tmp_path / "page.png"
    image.save(path, fmt)
    raw = read_page(inspect(path), 1)
    assert raw.dpi == 0
    page = run_pipeline(PageState(source=str(path), page_no=1, image=raw.image, dpi=raw.dpi), OPTIONS)
    assert page.dpi > 0 and page.text
    assert truth.text.splitlines()[0] in page.text.replace(" ", "")


def test_a_real_dpi_less_phone_photo_is_read(tmp_path):
    # RapidOCR's photo of a vehicle registration form: JPEG at 72 dpi, 476 x 368 pixels
    raw = read_page(inspect(REAL / "check_return_word_len.jpeg"), 1)
    page = run_pipeline(PageState(source="photo", page_no=1, image=raw.image, dpi=raw.dpi), OPTIONS)
    assert "登记" in page.text and "抵押" in page.text


def read_page_bytes(data: bytes, suffix: str):
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        return read_page(inspect(f.name), 1)
