"""Cleanup steps on rendered pages: straight, borderless (and never cutting content), blank backs, seals."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from dangan.scanning.cleanup import (
    crop_borders,
    deskew,
    detect_blank,
    detect_colour_and_seal,
    estimate_skew,
)
from dangan.scanning.orientation import orient
from dangan.scanning.page import PipelineOptions
from dangan.scanning.reading import reading_copy
from dangan.scanning.regions import find_text

from .conftest import (
    black_border,
    blank_back,
    mm,
    page_of,
    red_seal,
    render_form,
    rotate_upright_by,
    skew,
    speckle,
)

OPTIONS = PipelineOptions()


# --------------------------------------------------------------------------- skew


@pytest.mark.parametrize("angle", [-4.0, -2.7, -1.2, -0.5, 0.6, 1.9, 3.3, 4.0])
def test_estimate_skew_within_a_sixth_of_a_degree(form_300, angle):
    gray = page_of(skew(form_300, angle)).gray
    assert estimate_skew(gray, 300) == pytest.approx(angle, abs=0.15)


def test_deskew_straightens_the_page(form_300):
    page = deskew(page_of(skew(form_300, -3.0)), OPTIONS)
    assert page.skew == pytest.approx(-3.0, abs=0.15)
    assert abs(estimate_skew(page.gray, 300)) < 0.15
    # the grown canvas keeps the corners: no ink lost off the sheet
    assert page.image.shape[0] >= form_300.shape[0] and page.image.shape[1] >= form_300.shape[1]


def test_small_skew_is_left_alone_byte_for_byte(form_300):
    image = skew(form_300, 0.2)
    page = deskew(page_of(image), OPTIONS)
    assert page.skew == 0.0
    assert page.image is image or np.array_equal(page.image, image)
    assert page.metrics["skew_estimate"] == pytest.approx(0.2, abs=0.1)


def test_deskew_threshold_comes_from_options(form_300):
    image = skew(form_300, 0.8)
    strict = dataclasses.replace(OPTIONS, deskew_min_degrees=1.0)
    assert np.array_equal(deskew(page_of(image), strict).image, image)
    assert deskew(page_of(image), OPTIONS).skew == pytest.approx(0.8, abs=0.15)


def test_skew_ignores_the_scanner_border(form_300):
    bordered = black_border(skew(form_300, 1.5), 30, 20, 60, 15)
    assert estimate_skew(page_of(bordered).gray, 300) == pytest.approx(1.5, abs=0.15)


# --------------------------------------------------------------------------- borders


def test_crop_removes_black_border_but_keeps_all_text(form_150):
    # given an ADF scan of a sheet a little smaller than the scan area, fed slightly crooked
    scan = black_border(form_150, left=20, top=15, right=40, bottom=10, slant=12)
    page = crop_borders(page_of(scan, dpi=150), OPTIONS)
    left, top, right, bottom = page.crop
    # then the border is gone: no near-black pixels along any edge
    gray = page.gray
    for edge in (gray[:3], gray[-3:], gray[:, :3], gray[:, -3:]):
        assert edge.min() > 200
    # and the crop stays inside the sheet: every bit of ink from the sheet is still there
    assert left <= 20 + 2 and top <= 15 + 2
    assert right >= 20 + form_150.shape[1] - 12 - 2 and bottom >= 15 + form_150.shape[0] - 2
    ink_before = (form_150.min(axis=2) < 128).sum()
    ink_after = (page.image.min(axis=2) < 128).sum()
    assert ink_after == pytest.approx(ink_before, rel=0.005)


def test_crop_leaves_a_borderless_page_alone(form_150):
    page = crop_borders(page_of(form_150, dpi=150), OPTIONS)
    assert page.crop == (0, 0, form_150.shape[1], form_150.shape[0])
    assert np.array_equal(page.image, form_150)


def test_crop_keeps_a_dark_photo_inside_the_page(form_150):
    image = form_150.copy()
    image[400:700, 600:900] = 15  # an ID-card photocopy, dark but not a border
    page = crop_borders(page_of(image, dpi=150), OPTIONS)
    assert np.array_equal(page.image, image)


# --------------------------------------------------------------------------- blank pages


def test_blank_back_with_noise_bleed_and_punch_holes_is_blank():
    page = detect_blank(page_of(blank_back(200, seed=1), dpi=200), OPTIONS)
    assert page.is_blank


def test_page_with_only_a_signature_line_is_not_blank():
    image = blank_back(200, seed=2)
    d = 200 / 25.4
    y = int(240 * d)
    image[y : y + 2, int(120 * d) : int(180 * d)] = 25  # the signature line, nothing else
    page = detect_blank(page_of(image, dpi=200), OPTIONS)
    assert not page.is_blank


def test_page_with_a_short_handwritten_note_is_not_blank():
    from PIL import Image, ImageDraw

    from .conftest import font

    img = Image.fromarray(blank_back(200, seed=3))
    ImageDraw.Draw(img).text((mm(120, 200), mm(250, 200)), "此页空白", font=font("kai", 30), fill=(30, 30, 90))
    page = detect_blank(page_of(np.asarray(img), dpi=200), OPTIONS)
    assert not page.is_blank


def test_a_form_is_not_blank(form_150):
    assert not detect_blank(page_of(form_150, dpi=150), OPTIONS).is_blank


# --------------------------------------------------------------------------- colour and seals


def test_red_seal_is_found_and_page_is_colour(form_150):
    image = red_seal(form_150, (mm(150, 150), mm(250, 150)), dpi=150)
    page = detect_colour_and_seal(page_of(image, dpi=150), OPTIONS)
    assert page.has_seal and page.is_colour


def test_plain_black_page_has_no_seal_and_no_colour(form_150):
    page = detect_colour_and_seal(page_of(form_150, dpi=150), OPTIONS)
    assert not page.has_seal and not page.is_colour


def test_yellowed_paper_is_not_colour():
    image = render_form(150, "song", seed=6, paper=(238, 226, 190))
    image = speckle(image, 0.001, 4)
    page = detect_colour_and_seal(page_of(image, dpi=150), OPTIONS)
    assert not page.has_seal and not page.is_colour


def test_red_heading_is_colour_but_not_a_seal():
    from PIL import Image, ImageDraw

    from .conftest import font

    img = Image.fromarray(render_form(150, "song", seed=7, title=False))
    ImageDraw.Draw(img).text((mm(30, 150), mm(10, 150)), "国家电网公司文件", font=font("song", 60), fill=(210, 30, 30))
    page = detect_colour_and_seal(page_of(np.asarray(img), dpi=150), OPTIONS)
    assert page.is_colour and not page.has_seal


# --------------------------------------------------------------------------- colour kept, inputs untouched


def test_deskewed_sealed_page_keeps_its_seal_in_colour(form_150):
    sealed = red_seal(form_150, (mm(150, 150), mm(250, 150)), dpi=150)
    page = detect_colour_and_seal(page_of(skew(sealed, 2.0), dpi=150), OPTIONS)
    straight = deskew(page, OPTIONS)
    assert straight.skew == pytest.approx(2.0, abs=0.15)
    again = detect_colour_and_seal(straight, OPTIONS)
    assert again.has_seal and again.is_colour


def test_deskew_turns_a_page_found_without_colour_grey(form_150):
    tinted = render_form(150, "song", seed=9, paper=(240, 232, 210))
    page = detect_colour_and_seal(page_of(skew(tinted, 1.5), dpi=150), OPTIONS)
    assert not page.is_colour
    straight = deskew(page, OPTIONS)
    assert straight.image.shape[2] == 3
    assert np.array_equal(straight.image[..., 0], straight.image[..., 2])


def test_steps_never_write_into_their_input():
    image = black_border(
        red_seal(skew(render_form(150, "kai", seed=10), 1.2), (mm(150, 150), mm(250, 150)), dpi=150),
        10,
        8,
        20,
        6,
        slant=8,
    )
    image = rotate_upright_by(image, 90)
    before = image.copy()
    page = page_of(image, dpi=150)
    for step in (find_text, orient, crop_borders, detect_colour_and_seal, deskew, detect_blank):
        page = step(page, OPTIONS)
    reading_copy(page, "tesseract")
    assert np.array_equal(image, before)
    assert page.rotation == 90 and page.has_seal and abs(page.skew) > 1.0


def test_blank_back_is_left_as_it_is():
    image = blank_back(150, seed=4)
    page = deskew(orient(find_text(page_of(image, dpi=150), OPTIONS), OPTIONS), OPTIONS)
    assert page.rotation == 0 and page.skew == 0.0
    assert np.array_equal(page.image, image)


# --------------------------------------------------------------------------- content is never cut


@pytest.mark.parametrize("with_text_runs", [True, False])
def test_a_white_on_dark_title_banner_is_content_not_a_border(with_text_runs):
    # given an application whose title is printed white on a dark banner across the top edge
    from dangan.testing.realworld import banner_form

    image, _truth = banner_form(seed=1)
    image = np.asarray(image)
    page = page_of(image, dpi=300)
    if with_text_runs:  # PP-OCR found the runs; without the models the banner's white title still counts
        page = find_text(page, OPTIONS)
    # when borders are cropped
    page = crop_borders(page, OPTIONS)
    # then nothing is cut or painted: the banner and its white title are still there
    assert page.crop == (0, 0, image.shape[1], image.shape[0])
    assert np.array_equal(page.image, image)


def test_a_border_crop_never_cuts_into_text_found_in_the_border(form_150):
    # given a scan whose black border has a white label printed on it near the sheet (a scanner
    # imprinter's batch number), and a sheet with text right to its edge
    scan = black_border(form_150, left=20, top=60, right=20, bottom=10)
    cv2.putText(scan, "BATCH 0042", (40, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    page = crop_borders(find_text(page_of(scan, dpi=150), OPTIONS), OPTIONS)
    # then the label is kept: the crop does not start below it
    assert page.crop[1] <= 20
