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

from dangan.i18n import N_
from dangan.scanning.analysis import downscaled_gray, grey_of, grey_percentile, ink_mask
from dangan.scanning.cleanup import MAX_SKEW, estimate_skew
from dangan.scanning.page import PageState, PipelineOptions, QualityFlag
from dangan.scanning.reading import paper_noise
from dangan.scanning.resolution import FROM_FILE, working_dpi

QUALITY_CODES = frozenset(
    {"low_dpi", "skew", "blur", "too_dark", "faint", "black_area", "seal_not_colour", "low_confidence"}
)

SHARPNESS_DPI = 150  # blur is judged at one resolution, so 200 and 600 dpi scans compare
# Edge steepness at 150 dpi, measured on rendered forms at 200, 240, 300 and 600 dpi: sharp
# print 0.84-0.99; Gaussian blur of 0.1 mm 0.74-0.79, 0.15 mm 0.66-0.68, 0.2 mm 0.58-0.59,
# 0.25 mm 0.51-0.52, 0.35 mm 0.42-0.43. It looks only at edges, so a dark banner, a photo or a big drawing on the page
# does not read as blur (the old measure, variance of the Laplacian over all the page, did).
BLURRED_WARN = 0.66  # 0.17 mm of blur and more (thin print at 200 dpi reads 0.70-0.77 unblurred)
BLURRED_FAIL = 0.56  # 0.25 mm and more (0.2 mm is on the edge)
MIN_CHAR_PX = 16  # thinner print (a 72-dpi page) has 1-pixel strokes whose edges cannot be steep
DARK_PAPER = 150  # paper level below this: the scan is under-exposed
FAINT_CONTRAST = 80  # darkest ink to paper: below this text is washed out
BLACK_AREA = 0.15  # fraction of near-black pixels: a border or folded corner is showing
SMALL_PRINT_PX = 14  # characters smaller than this are at risk (OCR reads 12-pixel print, barely)
MIN_TEXT_RUNS = 3  # exposure is judged on paper with print on it, not on a photo or a drawing


def sharpness(gray: np.ndarray, dpi: int) -> float:
    """How steep the page's edges are, 0-1: the Sobel gradient at each strong edge over four
    times the local contrast round it (1 for a one-pixel step), median over the edges, at
    150 dpi. 0.0 when the page has no edges to judge."""
    small = _at_150_dpi(gray, dpi)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    k = np.ones((9, 9), np.uint8)
    local = cv2.dilate(small, k).astype(np.float32) - cv2.erode(small, k).astype(np.float32)
    edges = (cv2.Canny(small, 50, 150) > 0) & (local >= 40)
    if edges.sum() < 50:
        return 0.0
    return float(np.median(cv2.magnitude(gx, gy)[edges] / (4 * local[edges])))


def _at_150_dpi(gray: np.ndarray, dpi: int) -> np.ndarray:
    """Exactly 150 dpi (edge steepness is per pixel: 200 and 300 dpi scans must compare);
    below 150 dpi the page is judged as scanned."""
    if dpi <= SHARPNESS_DPI:
        return gray
    if dpi % SHARPNESS_DPI == 0:  # 300, 600 dpi: the cached whole-factor copy
        return downscaled_gray(gray, dpi, SHARPNESS_DPI)[0]
    f = SHARPNESS_DPI / dpi
    return cv2.resize(gray, (round(gray.shape[1] * f), round(gray.shape[0] * f)), interpolation=cv2.INTER_AREA)


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
    """A round seal scanned without colour: a ring 30-50 mm across, mostly unbroken, in ink
    clearly lighter than the print (red ink turns mid-grey; black print stays near black).
    Bilevel scans are not judged: red and black are the same black there. Tuned for
    precision on public scans without seals (bench/qa_flags.py): circles alone (round logos,
    photos, big letters) fired on a quarter of them."""
    if len(np.unique(gray[::7, ::7])) <= 16:
        return False
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
    if circles is None:
        return False
    paper = grey_percentile(small, 90)
    dark_print = gray[::3, ::3][gray[::3, ::3] < paper * 0.5]
    print_level = float(np.median(dark_print)) if dark_print.size else 0.0
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    h, w = gray.shape
    for x, y, r in circles[0][:5]:
        xs, ys = ((x + r * np.cos(angles)) / scale).astype(int), ((y + r * np.sin(angles)) / scale).astype(int)
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        if inside.mean() < 0.8:
            continue
        # the darkest pixel within 2 px of each point of the circle
        ring = np.min(
            [
                gray[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)]
                for dx in range(-2, 3)
                for dy in range(-2, 3)
            ],
            axis=0,
        )[inside]
        inked = ring < paper - 40
        level = float(np.median(ring[inked])) if inked.any() else 255.0
        if inked.mean() >= 0.5 and 60 <= level <= 190 and level >= print_level + 15:
            return True
    return False


def _resolution_flags(page: PageState, options: PipelineOptions) -> list[QualityFlag]:
    dpi = page.dpi
    if page.metrics.get("dpi_source", FROM_FILE) != FROM_FILE:
        # the file records no resolution: ours is an estimate from the text, not a fact to fail on;
        # what matters then is whether the characters are big enough to read
        if 0 < page.metrics.get("char_px", 0) < SMALL_PRINT_PX:
            text = N_(
                "The file records no resolution; judged from its text the page is about {dpi} dpi: "
                "rescan the paper at {standard} dpi if small print is hard to read."
            )
            return [QualityFlag.of("low_dpi", "warn", text, dpi=dpi, standard=options.min_dpi_warn)]
        return []
    if dpi < options.min_dpi_fail:
        text = N_("Scanned at {dpi} dpi, below the {minimum} dpi minimum: rescan at {standard} dpi.")
        return [
            QualityFlag.of(
                "low_dpi", "fail", text, dpi=dpi, minimum=options.min_dpi_fail, standard=options.min_dpi_warn
            )
        ]
    if dpi < options.min_dpi_warn:
        text = N_(
            "Scanned at {dpi} dpi, below the {standard} dpi standard: rescan at {standard} dpi if small print is "
            "hard to read."
        )
        return [QualityFlag.of("low_dpi", "warn", text, dpi=dpi, standard=options.min_dpi_warn)]
    return []


def quality_flags(page: PageState, options: PipelineOptions) -> list[QualityFlag]:
    """Each flag keeps its English text and its numbers, so a reader sees it in their language."""
    m = page.metrics
    flags = _resolution_flags(page, options)
    has_text = m.get("text_runs", MIN_TEXT_RUNS) >= MIN_TEXT_RUNS or bool(page.text.strip())
    skew = m.get("residual_skew")
    if skew is not None and skew > options.max_residual_skew and not page.is_blank:
        text = N_("Skew {skew:.1f}° after correction exceeds {limit:g}°: rescan the sheet straight.")
        flags.append(QualityFlag.of("skew", "fail", text, skew=float(skew), limit=float(options.max_residual_skew)))
    sharp = m.get("sharpness")
    judged = sharp and not page.is_blank and m.get("contrast", 255) >= FAINT_CONTRAST
    if judged and m.get("char_px", MIN_CHAR_PX) >= MIN_CHAR_PX:
        if sharp < BLURRED_FAIL:
            text = N_(
                "Page is badly blurred (edge sharpness {sharp:.2f}, sharp print is above 0.8): clean the scanner "
                "glass, check the sheet lies flat, and rescan."
            )
            flags.append(QualityFlag.of("blur", "fail", text, sharp=float(sharp)))
        elif sharp < BLURRED_WARN:
            text = N_(
                "Page is slightly blurred (edge sharpness {sharp:.2f}, sharp print is above 0.8): check small "
                "characters by eye; rescan if they are unreadable."
            )
            flags.append(QualityFlag.of("blur", "warn", text, sharp=float(sharp)))
    paper = m.get("paper")
    if paper is not None and paper < DARK_PAPER and has_text:
        text = N_("Page is too dark (paper at {paper:.0f} of 255): rescan with higher brightness.")
        flags.append(QualityFlag.of("too_dark", "fail", text, paper=float(paper)))
    contrast = m.get("contrast")
    if (
        contrast is not None
        and contrast < FAINT_CONTRAST
        and not page.is_blank
        and has_text
        and (paper or 0) >= DARK_PAPER
    ):
        text = N_(
            "Text is washed out (ink only {contrast:.0f} levels darker than paper): rescan with lower brightness or "
            "higher contrast."
        )
        flags.append(QualityFlag.of("faint", "fail", text, contrast=float(contrast)))
    black = m.get("border_area")  # what crop_borders cut or painted: dark, joined to the edge
    if black is not None and black > BLACK_AREA:
        text = N_(
            "{share:.0%} of the scan was black border: check for a folded corner or a sheet fed crooked, and "
            "rescan if text is hidden."
        )
        flags.append(QualityFlag.of("black_area", "warn", text, share=float(black)))
    if (
        not page.has_seal
        and not page.is_blank
        and delivered_grey(page)
        and grey_seal_likely(grey_of(page.image), working_dpi(page))
    ):
        text = N_(
            "Page seems to carry a round seal but was scanned in greyscale: check the sheet and rescan in 24-bit "
            "colour if it is sealed."
        )
        flags.append(QualityFlag.of("seal_not_colour", "fail", text))
    if page.confidence is not None and page.confidence < options.low_confidence and not page.is_blank:
        text = N_("OCR confidence {conf:.0f} is below {limit:g}: check the text by eye; rescan if the image is poor.")
        flags.append(
            QualityFlag.of(
                "low_confidence", "warn", text, conf=float(page.confidence), limit=float(options.low_confidence)
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
