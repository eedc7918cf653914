"""Quality metrics and the flags an archive-room operator acts on (DA/T 31-2017)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from dangan.scanning.cleanup import deskew, detect_colour_and_seal
from dangan.scanning.page import PipelineOptions, QualityFlag
from dangan.scanning.quality import check_quality, measure_quality, sharpness

from .conftest import mm, page_of, red_seal, render_form, skew

OPTIONS = PipelineOptions()


def flags_by_code(page) -> dict[str, QualityFlag]:
    return {f.code: f for f in page.flags}


@pytest.fixture(scope="module")
def form_200():
    return render_form(200, "song", seed=21)


def test_a_good_300_dpi_page_has_no_flags(form_300):
    page = check_quality(measure_quality(page_of(form_300), OPTIONS), OPTIONS)
    assert page.flags == ()
    m = page.metrics
    assert m["dpi"] == 300 and m["residual_skew"] < 0.2 and m["sharpness"] > 0.5
    assert m["paper"] > 240 and m["contrast"] > 150 and m["dark_clip"] < 0.05


def test_150_dpi_scan_fails():
    page = check_quality(page_of(render_form(150, "song", seed=22), dpi=150), OPTIONS)
    flag = flags_by_code(page)["low_dpi"]
    assert flag.severity == "fail"
    assert "150 dpi" in flag.message and "rescan at 300 dpi" in flag.message


def test_240_dpi_scan_warns():
    page = check_quality(page_of(render_form(240, "song", seed=23), dpi=240), OPTIONS)
    flag = flags_by_code(page)["low_dpi"]
    assert flag.severity == "warn"
    assert "240 dpi" in flag.message


def test_skew_left_after_a_failed_deskew_fails(form_200):
    # given a page 4.5 degrees crooked whose deskew did not happen (threshold set too high)
    crooked = page_of(skew(form_200, 4.5), dpi=200)
    after = deskew(crooked, dataclasses.replace(OPTIONS, deskew_min_degrees=10))
    # when its quality is checked
    page = check_quality(measure_quality(after, OPTIONS), OPTIONS)
    # then it fails with the residual skew named and the remedy given
    flag = flags_by_code(page)["skew"]
    assert flag.severity == "fail"
    assert "4.5°" in flag.message and "rescan the sheet straight" in flag.message


def test_skewed_page_that_skipped_deskew_is_measured_and_fails(form_200):
    page = check_quality(page_of(skew(form_200, -4.5), dpi=200), OPTIONS)
    assert flags_by_code(page)["skew"].severity == "fail"
    assert page.metrics["residual_skew"] == pytest.approx(4.5, abs=0.15)


def test_sheet_beyond_the_deskew_range_fails(form_200):
    page = deskew(page_of(skew(form_200, 7.5), dpi=200), OPTIONS)
    page = check_quality(page, OPTIONS)
    assert flags_by_code(page)["skew"].severity == "fail"


def test_deskewed_page_has_no_skew_flag(form_200):
    page = deskew(page_of(skew(form_200, 4.5), dpi=200), OPTIONS)
    page = check_quality(measure_quality(page, OPTIONS), OPTIONS)
    assert "skew" not in flags_by_code(page)


@pytest.mark.parametrize("sigma_mm,severity", [(0.25, "fail"), (0.17, "warn")])
def test_blurred_page_is_flagged(form_300, sigma_mm, severity):
    blurred = cv2.GaussianBlur(form_300, (0, 0), sigma_mm / 25.4 * 300)
    page = check_quality(page_of(blurred), OPTIONS)
    assert flags_by_code(page)["blur"].severity == severity


def test_sharpness_compares_across_resolutions():
    # the same sheet scanned at 200 and at 400 dpi measures about the same
    a = sharpness(cv2.cvtColor(render_form(200, "hei", seed=24), cv2.COLOR_RGB2GRAY), 200)
    b = sharpness(cv2.cvtColor(render_form(400, "hei", seed=24), cv2.COLOR_RGB2GRAY), 400)
    assert a == pytest.approx(b, rel=0.5)


def test_under_exposed_page_fails(form_200):
    dark = (form_200.astype(np.float32) * 0.5).astype(np.uint8)
    flag = flags_by_code(check_quality(page_of(dark, dpi=200), OPTIONS))["too_dark"]
    assert flag.severity == "fail" and "higher brightness" in flag.message


def test_washed_out_page_fails(form_200):
    faint = (200 + form_200.astype(np.float32) * (55 / 255)).astype(np.uint8)
    flag = flags_by_code(check_quality(page_of(faint, dpi=200), OPTIONS))["faint"]
    assert flag.severity == "fail"


def test_sealed_page_delivered_in_grey_fails(form_200):
    sealed = red_seal(form_200, (mm(150, 200), mm(250, 200)), dpi=200)
    colour = detect_colour_and_seal(page_of(sealed, dpi=200), OPTIONS)
    assert "seal_not_colour" not in flags_by_code(check_quality(colour, OPTIONS))
    grey = cv2.cvtColor(cv2.cvtColor(sealed, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    grey_page = detect_colour_and_seal(page_of(grey, dpi=200), OPTIONS)
    flag = flags_by_code(check_quality(grey_page, OPTIONS))["seal_not_colour"]
    assert flag.severity == "fail" and "colour" in flag.message


def test_plain_grey_form_is_not_taken_for_a_sealed_one(form_200):
    grey = cv2.cvtColor(cv2.cvtColor(form_200, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    assert "seal_not_colour" not in flags_by_code(check_quality(page_of(grey, dpi=200), OPTIONS))


def test_low_ocr_confidence_warns_and_rechecking_does_not_duplicate(form_300):
    page = check_quality(page_of(form_300), OPTIONS)
    assert "low_confidence" not in flags_by_code(page)  # before OCR: nothing to judge
    after_ocr = dataclasses.replace(page, confidence=42.0)
    rechecked = check_quality(check_quality(after_ocr, OPTIONS), OPTIONS)
    flag = flags_by_code(rechecked)["low_confidence"]
    assert flag.severity == "warn" and "42" in flag.message
    assert [f.code for f in rechecked.flags].count("low_confidence") == 1


def test_a_page_with_only_a_signature_block_is_not_faint_or_blurred():
    sparse = render_form(300, "kai", seed=25, title=False, table=False, paragraph=False)
    page = check_quality(page_of(sparse), OPTIONS)
    assert page.flags == ()
    assert page.metrics["contrast"] > 150


# --------------------------------------------------------------------------- precision on real pages


@pytest.fixture(scope="module")
def defects():
    from dangan.scanning.pipeline import STEPS, run_pipeline
    from dangan.testing.realworld import defect_pages

    no_text = tuple(s for s in STEPS if s.__name__ not in ("ocr",))  # the flags need the pixels, not the words
    out = {}
    for d in defect_pages(seed=5):
        page = page_of(np.asarray(d.image.convert("RGB")), dpi=d.dpi)
        out[d.name] = (d, run_pipeline(page, OPTIONS, no_text))
    return out


def test_each_scanning_defect_raises_its_flag_and_nothing_else_sends_it_to_the_queue(defects):
    for name, (d, page) in defects.items():
        flags = flags_by_code(page)
        if d.flag:
            assert d.flag in flags and flags[d.flag].severity == d.severity, (name, page.flags)
        fails = {f.code for f in page.flags if f.severity == "fail"}
        assert fails <= ({d.flag} if d.severity == "fail" else set()), (name, page.flags)


@pytest.mark.parametrize(
    "name",
    ["8087_054.3B.tif", "eurotext.tif", "jbig2.pdf", "check_return_word_len.jpeg"],
)
def test_public_scans_without_problems_raise_no_false_alarm(name):
    # a magazine page with a photo, bilevel scans, a phone photo: none has a seal, a border,
    # blur or bad exposure (the old grey-seal circle test fired on a quarter of such pages)
    from pathlib import Path

    from dangan.scanning.pipeline import run_pipeline
    from dangan.scanning.sources import inspect, read_page

    raw = read_page(inspect(Path(__file__).resolve().parent.parent / "data" / "real" / name), 1)
    page = run_pipeline(page_of(raw.image, dpi=raw.dpi), OPTIONS)
    raised = {f.code for f in page.flags} - {"doc_type_unknown", "field_invalid"}
    if page.metrics["dpi_source"] != 0:
        raised -= {"low_dpi"}  # a 476-pixel photo (a camera's 72 dpi, not believed): small print, a fair warning
        assert all(f.severity == "warn" for f in page.flags if f.code == "low_dpi")
    assert raised == set(), page.flags
