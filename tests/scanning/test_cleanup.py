"""Cleanup steps on rendered pages: upright, straight, borderless, blank backs, seals, OCR image."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import cv2
import numpy as np
import pytest

from dangan.scanning.cleanup import (
    clean_for_ocr,
    crop_borders,
    deskew,
    detect_blank,
    detect_colour_and_seal,
    erase_ruled_lines,
    estimate_skew,
    orient,
    orientation_candidates,
    speckle_noise,
    turned_half,
)
from dangan.scanning.page import PipelineOptions

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


# --------------------------------------------------------------------------- orientation


@pytest.mark.parametrize(
    "face,seed,kw",
    [
        ("song", 11, {}),
        ("hei", 12, {"title": False}),
        ("kai", 13, {"table": False}),
    ],
)
@pytest.mark.parametrize("turned", [0, 90, 180, 270])
def test_orient_brings_a_turned_form_upright(face, seed, kw, turned):
    # given an upright form fed into the scanner turned by `turned` degrees
    upright = render_form(200, face, seed=seed, **kw)
    page = page_of(rotate_upright_by(upright, turned), dpi=200)
    # when it is oriented
    result = orient(page, OPTIONS)
    # then it needed a clockwise turn of `turned` and now matches the upright page
    assert result.rotation == turned
    assert result.image.shape == upright.shape
    assert np.array_equal(result.image, upright)


def test_orientation_candidates_rank_all_four_turns():
    page = page_of(rotate_upright_by(render_form(200, "song", seed=3), 180), dpi=200)
    candidates = orientation_candidates(page)
    assert sorted(r for r, _ in candidates) == [0, 90, 180, 270]
    assert candidates[0][0] == 180
    assert candidates[0][1] > 0.8
    assert abs(sum(s for _, s in candidates) - 1) < 1e-6


def test_upside_down_noisy_skewed_page_is_turned():
    page = page_of(rotate_upright_by(speckle(skew(render_form(300, "kai", seed=4), 2.5), 0.01), 180))
    assert orient(page, OPTIONS).rotation == 180


def test_turned_half_is_the_pipelines_second_try():
    page = orient(page_of(render_form(150, "song", seed=5), dpi=150), OPTIONS)
    flipped = turned_half(page)
    assert flipped.rotation == 180
    assert np.array_equal(turned_half(flipped).image, page.image)
    assert "orientation_margin" in page.metrics


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


# --------------------------------------------------------------------------- OCR image


def test_clean_page_is_not_binarised_for_ocr(form_300):
    page = clean_for_ocr(page_of(form_300), OPTIONS)
    assert page.metrics["noise"] < 4
    assert len(np.unique(page.image)) > 16  # anti-aliased strokes kept, not thresholded away


def test_ruled_table_rows_are_read_once_the_rules_are_erased(tmp_path):
    from dangan.testing.synthetic import demo_cases, render_document

    case = next(c for c in demo_cases(seed=3) if c.business_type == "XZ")
    form = np.asarray(render_document("SQ", case)[0].image)
    raw = _tesseract(cv2.cvtColor(form, cv2.COLOR_RGB2BGR)).replace(" ", "")
    cleaned = _tesseract(clean_for_ocr(page_of(form), OPTIONS).image).replace(" ", "")
    row = case.customer.address.replace(" ", "")[:8]  # 用电地址 sits in a ruled table cell
    assert row not in raw, "the test needs a table Tesseract drops when the rules stay"
    assert row in cleaned


def test_noisy_page_is_denoised_and_binarised(form_300):
    noisy = speckle(form_300, 0.02, 20)
    page = clean_for_ocr(page_of(noisy), OPTIONS)
    assert page.metrics["noise"] >= 4
    assert set(np.unique(page.image)) <= {0, 255}
    assert speckle_noise(page.gray, 300) < speckle_noise(page_of(noisy).gray, 300) / 3


def test_sealed_page_drops_the_red_ink_for_ocr(form_150):
    image = red_seal(form_150, (mm(150, 150), mm(250, 150)), dpi=150)
    page = detect_colour_and_seal(page_of(image, dpi=150), OPTIONS)
    ocr = clean_for_ocr(page, OPTIONS)
    seal_area = ocr.gray[mm(235, 150) : mm(265, 150), mm(135, 150) : mm(165, 150)]
    assert (seal_area > 128).mean() > (page.gray[mm(235, 150) : mm(265, 150), mm(135, 150) : mm(165, 150)] > 128).mean()
    # black print under the seal stays dark (form rules are erased for OCR in both)
    unsealed = erase_ruled_lines(page_of(form_150, dpi=150).gray, 150)
    assert (ocr.gray < 100).sum() >= 0.9 * (unsealed < 100).sum()


def _tesseract(image: np.ndarray) -> str:
    import cv2

    _ok, png = cv2.imencode(".png", image)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", "chi_sim", "--psm", "6"],
        input=png.tobytes(),
        capture_output=True,
        env=env,
        check=True,
    )
    return out.stdout.decode()


def test_suppressing_the_seal_lets_tesseract_read_the_signature_block():
    # given a signature block with a seal stamped across the date, as customers' forms have
    upright = render_form(300, "song", seed=8, title=False, table=False, paragraph=False)
    h = upright.shape[0]
    block = upright[h - mm(90, 300) : h - mm(20, 300)]
    sealed = red_seal(block, (mm(145, 300), mm(38, 300)), dpi=300)
    page = detect_colour_and_seal(page_of(sealed), OPTIONS)
    assert page.has_seal
    # when the red ink is dropped for OCR, Tesseract reads the date under the seal
    cleaned = clean_for_ocr(page, OPTIONS).gray
    text = _tesseract(cleaned).replace(" ", "")
    assert "2023年5月12日" in text


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
    for step in (orient, crop_borders, detect_colour_and_seal, deskew, detect_blank, clean_for_ocr):
        page = step(page, OPTIONS)
    assert np.array_equal(image, before)
    assert page.rotation == 90 and page.has_seal and abs(page.skew) > 1.0


def test_blank_back_is_left_as_it_is():
    image = blank_back(150, seed=4)
    page = deskew(orient(page_of(image, dpi=150), OPTIONS), OPTIONS)
    assert page.rotation == 0 and page.skew == 0.0
    assert page.metrics["orientation_margin"] == 0.0
    assert np.array_equal(page.image, image)


def test_noisy_sealed_page_loses_both_noise_and_seal(form_150):
    sealed = speckle(red_seal(form_150, (mm(150, 150), mm(250, 150)), dpi=150), 0.03, 20)
    page = detect_colour_and_seal(page_of(sealed, dpi=150), OPTIONS)
    assert page.has_seal
    ocr = clean_for_ocr(page, OPTIONS)
    assert set(np.unique(ocr.image)) <= {0, 255}
    ring = ocr.gray[mm(230, 150) : mm(270, 150), mm(130, 150) : mm(170, 150)]
    assert (ring == 0).mean() < 0.05
