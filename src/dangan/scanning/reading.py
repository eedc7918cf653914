"""The copy of the page an OCR engine reads, made inside the OCR step and thrown away.

What helps one engine harms another, so each step here runs only where it was measured to
help the engine in use (bench/ocr_quality.py, same pages with and without):

- **seal ink dropped** (both engines): the red channel of a sealed page, where red ink is
  paper-white and black print stays black.
- **form rules erased** (Tesseract only): Tesseract takes a ruled table for a picture and
  drops its rows. A rule is a long, thin, dark line; a stroke of a large character, a stroke
  inside a detected text run, and the edge of a dark banner with white text on it are not.
- **denoise and binarise** (Tesseract only, noisy pages only): noise is measured on the
  paper between the characters, so small clean print (a 72-dpi page) is never mistaken for
  noise and binarised away.

PP-OCR reads the page as it is: its detector and recogniser were trained on natural images.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from dangan.scanning.analysis import grey_of, grey_percentile
from dangan.scanning.page import PageState

# --------------------------------------------------------------------------- noise


def paper_noise(gray: np.ndarray, char_px: float = 0.0) -> float:
    """Speckle on the paper: mean absolute difference between the page and its 3x3 median,
    over paper at least half a character away from any ink. Clean scans and screenshots ~0-1,
    a dirty flatbed 4-15. Measured on five windows (centre and quadrant centres), median taken."""
    h, w = gray.shape
    side = min(h, w, 600)
    level = min(200.0, grey_percentile(gray[:: max(1, h // 200), :: max(1, w // 200)], 90) - 50)
    grow = max(3, int(char_px * 0.5) | 1) if char_px else 9
    scores = []
    for fy, fx in ((0.5, 0.5), (0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)):
        y0 = min(max(0, int(h * fy) - side // 2), h - side)
        x0 = min(max(0, int(w * fx) - side // 2), w - side)
        window = np.ascontiguousarray(gray[y0 : y0 + side, x0 : x0 + side])
        median = cv2.medianBlur(window, 3)
        # ink that survives the median filter is print, not speckle: keep away from it
        ink = cv2.dilate((median < level).astype(np.uint8), np.ones((grow, grow), np.uint8))
        paper = ink == 0
        if paper.mean() < 0.05:
            continue
        scores.append(float(cv2.absdiff(window, median)[paper].mean()))
    return float(np.median(scores)) if scores else 0.0


# Measured with Tesseract chi_sim --psm 6 on the OCR corpus, characters lost raw / after
# median + Otsu: see bench/ocr_quality.py --ablation. Below this, binarising costs more than
# it saves (thin serif strokes erode).
NOISY = 4.0


def denoised(gray: np.ndarray, dpi: int) -> np.ndarray:
    k = 3 if dpi < 400 else 5
    return cv2.threshold(cv2.medianBlur(gray, k), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]


# --------------------------------------------------------------------------- form rules

RULE_MIN_INCH = 0.4  # unbroken ink longer than this may be a rule
RULE_MAX_MM = 1.0  # and no thicker than this
GLYPH_MAX_INCH = 1.2  # a character bigger than this is not on a customer form
SOLID_FILL = 0.4  # a dark area at least this full is a banner or a photo, not a rule


def rule_mask(gray: np.ndarray, dpi: int, text_boxes: np.ndarray | None = None) -> np.ndarray:
    """Where the form rules are (uint8 0/255, full resolution), found at ~150 dpi."""
    f = max(1, round(dpi / 150))
    small = cv2.resize(gray, (gray.shape[1] // f, gray.shape[0] // f), interpolation=cv2.INTER_AREA) if f > 1 else gray
    sdpi = dpi / f
    paper = grey_percentile(small[::4, ::4], 90)
    _, ink = cv2.threshold(small, min(200.0, paper - 40), 255, cv2.THRESH_BINARY_INV)
    n = max(10, int(RULE_MIN_INCH * sdpi))
    thick = max(3, round(RULE_MAX_MM / 25.4 * sdpi) + 1)
    along_h = cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1))
    along_v = cv2.getStructuringElement(cv2.MORPH_RECT, (1, n))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, along_h)
    # thin only (a banner or a bold bar is not a rule), and still long once the thick parts are gone
    horiz = cv2.subtract(horiz, cv2.morphologyEx(horiz, cv2.MORPH_OPEN, np.ones((thick, 1), np.uint8)))
    horiz = cv2.morphologyEx(horiz, cv2.MORPH_OPEN, along_h)
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, along_v)
    vert = cv2.subtract(vert, cv2.morphologyEx(vert, cv2.MORPH_OPEN, np.ones((1, thick), np.uint8)))
    vert = cv2.morphologyEx(vert, cv2.MORPH_OPEN, along_v)
    rules = cv2.bitwise_or(horiz, vert)
    if rules.any():
        rules = _not_glyphs_or_banners(rules, ink, sdpi, None if text_boxes is None else text_boxes / f)
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))
    if f > 1:
        rules = cv2.resize(rules, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_NEAREST)
    return rules


def _not_glyphs_or_banners(rules: np.ndarray, ink: np.ndarray, dpi: float, boxes: np.ndarray | None) -> np.ndarray:
    """RULES without the pieces that belong to a character (the ink they are part of is a
    glyph-sized, roughly square blob, or they lie inside a detected text run) or to a solid
    dark area (a banner with white text, a photo)."""
    _n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    big, small_side = np.maximum(w, h), np.minimum(w, h)
    glyph = (big <= GLYPH_MAX_INCH * dpi) & (small_side >= 0.3 * big)
    solid = (area >= SOLID_FILL * w * h) & (small_side >= 3 / 25.4 * dpi)
    protected = glyph | solid
    protected[0] = False
    # a rule piece touching a protected blob anywhere is dropped whole (stroke ends taper)
    _rn, rlabels = cv2.connectedComponents((rules > 0).astype(np.uint8), connectivity=8)
    touched = np.unique(rlabels[protected[labels] & (rules > 0)])
    keep = rules.copy()
    keep[np.isin(rlabels, touched[touched > 0])] = 0
    if boxes is not None and len(boxes):
        _rn, rlabels, rstats, _ = cv2.connectedComponentsWithStats((keep > 0).astype(np.uint8), connectivity=8)
        for quad in boxes:
            x0, y0 = np.floor(quad.min(axis=0)).astype(int)
            x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
            inside = (
                (rstats[1:, 0] >= x0)
                & (rstats[1:, 1] >= y0)
                & (rstats[1:, 0] + rstats[1:, 2] <= x1)
                & (rstats[1:, 1] + rstats[1:, 3] <= y1)
            )
            for label in np.flatnonzero(inside) + 1:
                keep[rlabels == label] = 0
    return keep


def erase_ruled_lines(gray: np.ndarray, dpi: int, text_boxes: np.ndarray | None = None) -> np.ndarray:
    """The page with its form rules painted in the paper's own tone (a white stripe on grey
    paper has edges OCR reads as marks)."""
    rules = rule_mask(gray, dpi, text_boxes)
    if not rules.any():
        return gray
    paper = int(grey_percentile(gray[::4, ::4], 90))
    return cv2.max(gray, cv2.min(rules, paper))


# --------------------------------------------------------------------------- the reading copy


def without_seal_ink(page: PageState) -> np.ndarray:
    """Grey for reading: the red channel on a sealed page (red ink vanishes, black stays)."""
    if page.has_seal and page.image.ndim == 3:
        return np.ascontiguousarray(page.image[..., 0])
    return grey_of(page.image)


def reading_copy(page: PageState, engine: str) -> PageState:
    """The page as ENGINE should read it, grey (H, W). Records ``metrics['noise']``."""
    gray = without_seal_ink(page)
    noise = page.metrics.get("noise")
    if noise is None:  # measure_quality has not run
        noise = paper_noise(grey_of(page.image), page.metrics.get("char_px", 0.0))
    metrics = {**page.metrics, "noise": round(noise, 2)}
    if engine == "tesseract":
        gray = erase_ruled_lines(gray, page.dpi, page.text_boxes)
        if noise >= NOISY:
            gray = denoised(gray, page.dpi)
    return replace(page, image=gray, metrics=metrics)
