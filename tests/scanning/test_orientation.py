"""Orientation: a page is turned only when its text says so (real PP-OCR models, real pages)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dangan.scanning.orientation import orient
from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.regions import find_text
from dangan.scanning.resolution import resolution
from dangan.scanning.sources import inspect, read_page
from dangan.testing import realworld
from dangan.testing.synthetic import degrade

from .conftest import page_of, render_form, rotate_upright_by, skew

OPTIONS = PipelineOptions()
REAL = Path(__file__).resolve().parent.parent / "data" / "real"


def upright(page: PageState) -> PageState:
    return orient(find_text(resolution(page, OPTIONS), OPTIONS), OPTIONS)


@pytest.mark.parametrize("face,seed,kw", [("song", 11, {}), ("kai", 13, {"table": False})])
@pytest.mark.parametrize("turned", [0, 90, 180, 270])
@pytest.mark.parametrize("crooked", [0.0, 2.5])
def test_a_form_fed_turned_is_brought_upright(face, seed, kw, turned, crooked):
    # given an upright form fed into the scanner turned by `turned` degrees, maybe crooked
    form = render_form(200, face, seed=seed, **kw)
    page = page_of(rotate_upright_by(skew(form, crooked) if crooked else form, turned), dpi=200)
    # when it is oriented
    result = upright(page)
    # then it needed a clockwise turn of `turned`, and its text runs turned with it
    assert result.rotation == turned
    assert result.image.shape[:2] == form.shape[:2]
    if not crooked:
        assert np.array_equal(result.image, form)
    assert result.text_boxes is not None and len(result.text_boxes) > 10
    assert result.text_boxes[:, :, 0].max() <= form.shape[1] and result.text_boxes[:, :, 1].max() <= form.shape[0]


@pytest.mark.parametrize(
    "make,dpi",
    [(realworld.sparse_licence, 200), (realworld.licence_inset, 300), (realworld.idcard_sides, 300)],
)
def test_sparse_pages_and_pasted_pictures_are_never_turned(make, dpi):
    # given a licence copy with ten lines at the top, a landscape licence pasted on a portrait
    # sheet, or both sides of an ID card: upright pages mostly empty or mostly picture
    image, _truth = make(seed=3)
    page = page_of(np.asarray(degrade(image, np.random.default_rng(3), speckle=0.0002, dpi=dpi)), dpi=dpi)
    # then orientation leaves them as they are
    assert upright(page).rotation == 0


@pytest.mark.parametrize("turned", [90, 180, 270])
def test_a_sparse_page_fed_turned_is_still_brought_upright(turned):
    image, _truth = realworld.sparse_licence(seed=4)
    scan = degrade(image, np.random.default_rng(4), rotate=turned, skew_deg=1.5, speckle=0.0002, dpi=200)
    assert upright(page_of(np.asarray(scan), dpi=200)).rotation == turned


def test_a_page_without_text_is_left_as_it_is():
    page = page_of(np.full((1754, 1240, 3), 250, np.uint8), dpi=150)
    result = upright(page)
    assert result.rotation == 0 and len(result.text_boxes) == 0


@pytest.mark.parametrize("turned", [90, 180, 270])
def test_a_real_brochure_page_stored_turned_is_brought_upright(turned):
    # the LinnSequencer brochure page (a real scan, English) stored turned
    raw = read_page(inspect(REAL / "jbig2.pdf"), 1)
    page = PageState(source="jbig2.pdf", page_no=1, image=rotate_upright_by(raw.image, turned), dpi=raw.dpi)
    result = upright(page)
    assert result.rotation == turned
    assert np.array_equal(result.image, raw.image)


def test_a_pdf_that_turns_its_image_by_the_page_matrix_gives_the_upright_image_every_time():
    # OCRmyPDF's cardinal.pdf draws one upright image in four directions: the master is the
    # image itself, already upright, on every page
    info = inspect(REAL / "cardinal.pdf")
    first = read_page(info, 1)
    for n in range(1, info.page_count + 1):
        raw = read_page(info, n)
        assert raw.master == first.master
        assert upright(PageState(source="cardinal.pdf", page_no=n, image=raw.image, dpi=raw.dpi)).rotation == 0


def test_an_upright_skewed_public_page_is_not_turned_upside_down():
    # OCRmyPDF's rotated_skew.pdf: /Rotate'd page, upright text skewed 2.8 degrees; both engines
    # used to turn it 180 degrees
    raw = read_page(inspect(REAL / "rotated_skew.pdf"), 1)
    assert upright(PageState(source="rotated_skew.pdf", page_no=1, image=raw.image, dpi=raw.dpi)).rotation == 0


def test_exif_orientation_is_honoured_and_the_page_not_turned_again():
    # RapidOCR's test image: 我是中国人 stored upside down, EXIF orientation 3 says so
    raw = read_page(inspect(REAL / "img_exif_orientation.jpg"), 1)
    page = upright(PageState(source="exif.jpg", page_no=1, image=raw.image, dpi=raw.dpi))
    assert page.rotation == 0
    from dangan.scanning.ocr import get_engine

    text = get_engine("rapidocr").recognise(page.image, OPTIONS, boxes=page.text_boxes).text
    assert "我是中国人" in text.replace(" ", "")


def test_without_the_models_tesseract_decides_and_only_when_confident(monkeypatch, tmp_path):
    from dangan.tools import ppocr

    monkeypatch.setattr(ppocr, "models_dir", lambda: tmp_path)  # a broken install: no model files
    for cached in (ppocr.detector, ppocr.recogniser, ppocr.direction_classifier):
        cached.cache_clear()
    try:
        form = render_form(200, "song", seed=7)
        turned = upright(page_of(rotate_upright_by(form, 180), dpi=200))
        assert turned.text_boxes is None and turned.rotation == 180
        blank = upright(page_of(np.full((1754, 1240, 3), 250, np.uint8), dpi=150))
        assert blank.rotation == 0
    finally:
        for cached in (ppocr.detector, ppocr.recogniser, ppocr.direction_classifier):
            cached.cache_clear()
