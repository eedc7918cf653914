"""Image quality of a digitised page, measured and judged against DA/T 31-2017.

``measure_quality`` fills ``page.metrics``; ``check_quality`` turns them into
``QualityFlag``s an archive-room operator can act on ('fail' sends the page to the rescan
queue, 'warn' is shown). Run both after cleanup, and ``check_quality`` again after OCR to
add the low-confidence warning: it replaces the flags it raised before, never duplicates.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from dangan.scanning.analysis import downscaled_gray, grey_of, ink_mask
from dangan.scanning.cleanup import MAX_SKEW, estimate_skew
from dangan.scanning.page import PageState, PipelineOptions, QualityFlag
from dangan.scanning.reading import paper_noise
from dangan.scanning.resolution import working_dpi

QUALITY_CODES = frozenset(
    {"low_dpi", "skew", "blur", "too_dark", "faint", "black_area", "seal_not_colour", "low_confidence"}
)

SHARPNESS_DPI = 150  # blur is judged at one resolution, so 200 and 600 dpi scans compare
# Measured on rendered forms at 200-600 dpi: sharp print 2.7-3.3; Gaussian blur of
# 0.1 mm ~1.0, 0.15 mm ~0.42, 0.25 mm ~0.085 (the same at every resolution).
BLURRED_WARN = 0.5
BLURRED_FAIL = 0.12
DARK_PAPER = 150  # paper level below this: the scan is under-exposed
FAINT_CONTRAST = 80  # darkest ink to paper: below this text is washed out
BLACK_AREA = 0.15  # fraction of near-black pixels: a border or folded corner is showing


def sharpness(gray: np.ndarray, dpi: int) -> float:
    """Variance of the Laplacian at 150 dpi divided by the variance of the grey levels:
    edge energy per unit of contrast, so a page with little text or pale ink is not
    mistaken for a blurred one. Higher is sharper."""
    small, _ = downscaled_gray(gray, dpi, SHARPNESS_DPI)  # below 150 dpi: judged as scanned
    spread = float(cv2.meanStdDev(small)[1][0, 0]) ** 2
    if spread < 1.0:
        return 0.0
    return float(cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_32F))[1][0, 0]) ** 2 / spread


def grey_levels(gray: np.ndarray) -> dict[str, float]:
    """Brightness, paper and ink levels, contrast and clipping. The ink level is taken
    from the ink itself (the darker fifth of the pixels Otsu calls ink), so a page with
    one signature line has as much contrast as a full one. Use a copy at 150 dpi or more:
    coarser averaging turns thin strokes grey."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    total = hist.sum()
    paper = float(np.searchsorted(np.cumsum(hist), 0.90 * total))
    ink_hist = cv2.calcHist([gray], [0], ink_mask(gray), [256], [0, 256]).ravel()
    if ink_hist.sum() >= 50:
        ink = float(np.searchsorted(np.cumsum(ink_hist), 0.2 * ink_hist.sum()))
    else:  # no ink at all (a blank back): nothing to judge contrast by
        ink = float(np.searchsorted(np.cumsum(hist), 0.005 * total))
    return {
        "brightness": float(np.dot(hist, np.arange(256)) / total),
        "paper": paper,
        "ink": ink,
        "contrast": paper - ink,
        "dark_clip": float(hist[:6].sum() / total),
        "bright_clip": float(hist[250:].sum() / total),
    }


def residual_skew(page: PageState, gray: np.ndarray) -> float:
    """Degrees of skew still on the page. When ``deskew`` measured this image it says so
    in ``metrics['skew_estimate']`` (±0.05° on test pages): corrected means ~0 left,
    left alone means all of it; an estimate at the ±5° search limit means the sheet is
    more crooked than that. Otherwise measure now (~15 ms)."""
    estimate = page.metrics.get("skew_estimate")
    if estimate is None:
        return round(abs(estimate_skew(gray, working_dpi(page))), 2)
    if abs(estimate) >= MAX_SKEW - 0.05:
        return round(abs(estimate), 2)
    return 0.0 if page.skew else round(abs(estimate), 2)


def measure_quality(page: PageState, options: PipelineOptions) -> PageState:
    """Fill metrics: dpi, residual_skew (degrees still on the page), sharpness, brightness,
    paper, ink, contrast, dark_clip, bright_clip (fractions), noise."""
    gray = grey_of(page.image)
    dpi = working_dpi(page)
    small, _ = downscaled_gray(gray, dpi, SHARPNESS_DPI)  # the copy sharpness() uses (cached)
    metrics = {
        **page.metrics,
        "dpi": float(dpi),
        "residual_skew": residual_skew(page, gray),
        "sharpness": round(sharpness(gray, dpi), 4),
        "noise": round(paper_noise(gray, page.metrics.get("char_px", 0.0)), 2),
        **{k: round(v, 4) for k, v in grey_levels(small).items()},
    }
    return replace(page, metrics=metrics)


def is_greyscale(image: np.ndarray) -> bool:
    """True when the colour channels carry (almost) no colour: a grey or bitonal delivery."""
    small = image[::8, ::8].astype(np.int16)
    spread = small.max(axis=2) - small.min(axis=2)
    return float(np.mean(spread > 12)) < 1e-4


def delivered_grey(page: PageState) -> bool:
    """Was the scan itself grey or bitonal? ``detect_colour_and_seal`` notes it before
    deskew may turn a page without colour grey on purpose."""
    if "grey_scan" in page.metrics:
        return bool(page.metrics["grey_scan"])
    return is_greyscale(page.image)


def grey_seal_likely(gray: np.ndarray, dpi: int) -> bool:
    """A round seal scanned without colour: a ring 30-50 mm across in mid-grey ink."""
    small, scale = downscaled_gray(gray, dpi, 50)
    d = dpi * scale
    r_min, r_max = int(15 / 25.4 * d), int(25 / 25.4 * d) + 1
    circles = cv2.HoughCircles(
        cv2.GaussianBlur(small, (3, 3), 0),
        cv2.HOUGH_GRADIENT,
        dp=1,
        minDist=r_min * 2,
        param1=100,
        param2=30,
        minRadius=r_min,
        maxRadius=r_max,
    )
    return circles is not None and len(circles[0]) > 0


def quality_flags(page: PageState, options: PipelineOptions) -> list[QualityFlag]:
    m = page.metrics
    flags: list[QualityFlag] = []
    if page.dpi < options.min_dpi_fail:
        flags.append(
            QualityFlag(
                "low_dpi",
                "fail",
                f"Scanned at {page.dpi} dpi, below the {options.min_dpi_fail} dpi minimum: "
                f"rescan at {options.min_dpi_warn} dpi.",
            )
        )
    elif page.dpi < options.min_dpi_warn:
        flags.append(
            QualityFlag(
                "low_dpi",
                "warn",
                f"Scanned at {page.dpi} dpi, below the {options.min_dpi_warn} dpi standard: "
                f"rescan at {options.min_dpi_warn} dpi if small print is hard to read.",
            )
        )
    skew = m.get("residual_skew")
    if skew is not None and skew > options.max_residual_skew and not page.is_blank:
        flags.append(
            QualityFlag(
                "skew",
                "fail",
                f"Skew {skew:.1f}° after correction exceeds {options.max_residual_skew:g}°: rescan the sheet straight.",
            )
        )
    sharp = m.get("sharpness")
    if sharp is not None and not page.is_blank and m.get("contrast", 255) >= FAINT_CONTRAST:
        if sharp < BLURRED_FAIL:
            flags.append(
                QualityFlag(
                    "blur",
                    "fail",
                    f"Page is badly blurred (sharpness {sharp:.2f}, sharp print is about 3): "
                    "clean the scanner glass, check the sheet lies flat, and rescan.",
                )
            )
        elif sharp < BLURRED_WARN:
            flags.append(
                QualityFlag(
                    "blur",
                    "warn",
                    f"Page is slightly blurred (sharpness {sharp:.2f}, sharp print is about 3): "
                    "check small characters by eye; rescan if they are unreadable.",
                )
            )
    paper = m.get("paper")
    if paper is not None and paper < DARK_PAPER:
        flags.append(
            QualityFlag(
                "too_dark", "fail", f"Page is too dark (paper at {paper:.0f} of 255): rescan with higher brightness."
            )
        )
    contrast = m.get("contrast")
    if contrast is not None and contrast < FAINT_CONTRAST and not page.is_blank and (paper or 0) >= DARK_PAPER:
        flags.append(
            QualityFlag(
                "faint",
                "fail",
                f"Text is washed out (ink only {contrast:.0f} levels darker than paper): "
                "rescan with lower brightness or higher contrast.",
            )
        )
    black = m.get("dark_clip")
    if black is not None and black > BLACK_AREA:
        flags.append(
            QualityFlag(
                "black_area",
                "warn",
                f"{black:.0%} of the page is solid black: check for a scanner border, "
                "a folded corner or a cover sheet, and rescan if text is hidden.",
            )
        )
    if page.has_seal and (not page.is_colour or is_greyscale(page.image)):
        flags.append(
            QualityFlag(
                "seal_not_colour",
                "fail",
                "Page carries a red seal but the image is not in colour: rescan in 24-bit colour "
                "(pages with seals are kept in colour).",
            )
        )
    elif (
        not page.has_seal
        and not page.is_blank
        and delivered_grey(page)
        and grey_seal_likely(grey_of(page.image), working_dpi(page))
    ):
        flags.append(
            QualityFlag(
                "seal_not_colour",
                "fail",
                "Page seems to carry a round seal but was scanned in greyscale: check the sheet "
                "and rescan in 24-bit colour if it is sealed.",
            )
        )
    if page.confidence is not None and page.confidence < options.low_confidence and not page.is_blank:
        flags.append(
            QualityFlag(
                "low_confidence",
                "warn",
                f"OCR confidence {page.confidence:.0f} is below {options.low_confidence:g}: "
                "check the text by eye; rescan if the image is poor.",
            )
        )
    return flags


def check_quality(page: PageState, options: PipelineOptions) -> PageState:
    """Add quality flags from the metrics (measuring first if they are missing). Flags this
    step raised on an earlier run are replaced, so it can run again after OCR."""
    if "sharpness" not in page.metrics:
        page = measure_quality(page, options)
    kept = tuple(f for f in page.flags if f.code not in QUALITY_CODES)
    return replace(page, flags=kept + tuple(quality_flags(page, options)))
