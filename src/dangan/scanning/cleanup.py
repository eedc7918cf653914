"""Page cleanup steps: straighten the page, cut away scanner borders, recognise blank backs
and red seals.

Every public step is ``step(page, options) -> page`` and returns ``dataclasses.replace``.
Analysis runs on small downscaled copies (50-150 dpi); only the final rotation or crop
touches the full-resolution image. Steps that change the frame move ``page.text_boxes``
with the image (see scanning.regions).

Borders are cut before deskewing: the border is square to the scanner, and ``crop`` is
recorded in the oriented image's coordinates. A border crop never cuts into a detected
text run, and a dark area with light marks inside (a banner with white text) is content,
not border.
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from dangan.scanning.analysis import (
    _cached,
    downscaled_gray,
    grey_of,
    grey_percentile,
    ink_mask,
    without_edge_blobs,
)
from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.regions import moved, shifted
from dangan.scanning.resolution import working_dpi

# --------------------------------------------------------------------------- skew

SKEW_DPI = 100
MAX_SKEW = 5.0


def _profile_score(ys: np.ndarray, xs: np.ndarray, degrees: np.ndarray, height: int) -> np.ndarray:
    """Sharpness (sum of squares) of the row profile of the ink after shearing by each angle."""
    scores = np.empty(len(degrees))
    pad = int(abs(xs.max() if len(xs) else 0) * math.tan(math.radians(MAX_SKEW + 1))) + 2
    for i, a in enumerate(degrees):
        shifted = (ys + xs * np.float32(math.tan(math.radians(a))) + pad).astype(np.int32)
        hist = np.bincount(shifted, minlength=height + 2 * pad)
        scores[i] = float(np.dot(hist, hist))
    return scores


def estimate_skew(gray: np.ndarray, dpi: int = 300) -> float:
    """Skew of the text lines in degrees, positive when the content is turned
    counter-clockwise (lines rise to the right). Range +-5 degrees.

    Projection-profile search on a ~100 dpi ink mask: coarse 0.5 degree steps on a
    sample of ink pixels, then 0.05 degree steps around the best, refined by a parabola.
    """
    small, scale = downscaled_gray(gray, dpi, SKEW_DPI)
    ink = ink_mask(small)
    # Scanner borders (dark, touching the edge) and solid areas (photo, black box) have no
    # text lines; their straight edges would pull the estimate to the scanner's axes.
    ink = without_edge_blobs(ink)
    k = max(3, round(2 / 25.4 * dpi * scale) | 1)  # solid 2 mm: punch holes, photos
    ink = cv2.subtract(ink, cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((k, k), np.uint8)))
    ys, xs = np.nonzero(ink)
    if len(ys) < max(200, 0.0015 * ink.size):  # fewer than ~25 characters: nothing to judge by
        return 0.0
    xs = xs.astype(np.float32) - small.shape[1] / 2
    ys = ys.astype(np.float32)
    rng = np.random.default_rng(0)  # fixed: the same page always gives the same angle
    # A random sample of the ink is as good as all of it, and much cheaper.
    pick = rng.permutation(len(ys))[:60000]
    ys, xs = ys[pick], xs[pick]
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.5)
    best = coarse[int(np.argmax(_profile_score(ys[:20000], xs[:20000], coarse, small.shape[0])))]
    step = 0.05
    fine = np.arange(best - 0.45, best + 0.45 + 1e-9, step)
    scores = _profile_score(ys, xs, fine, small.shape[0])
    i = int(np.argmax(scores))
    angle = fine[i]
    if 0 < i < len(fine) - 1:  # parabola through the peak and its neighbours
        s0, s1, s2 = scores[i - 1], scores[i], scores[i + 1]
        denom = s0 - 2 * s1 + s2
        if denom < 0:
            angle += step * 0.5 * (s0 - s2) / denom
    return float(np.clip(angle, -MAX_SKEW, MAX_SKEW))


def rotation_matrix(shape: tuple[int, ...], degrees: float) -> tuple[np.ndarray, tuple[int, int]]:
    """The affine map turning an image of SHAPE counter-clockwise by DEGREES onto a canvas
    grown to keep every corner, and that canvas's (width, height)."""
    h, w = shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(w * c + h * s), math.ceil(w * s + h * c)
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2
    return m, (nw, nh)


def rotate_by(image: np.ndarray, degrees: float, *, grey: bool = False) -> np.ndarray:
    """Rotate counter-clockwise by ``degrees`` on a canvas grown to keep every corner,
    filling with white (a skewed sheet's corners must not be cut off).

    Bilinear: as good as bicubic for Tesseract after deskew (2.7% vs 3.0% CER on 4 pages,
    nearest 3.6%) and cheaper. OpenCV warps 1- and 4-channel images several times faster
    than 3-channel ones, so a grey page (``grey=True``) is warped as one channel and a
    colour page through RGBA."""
    m, (nw, nh) = rotation_matrix(image.shape, degrees)

    def warp(img: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(
            img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255, 255)
        )

    if image.ndim == 2:
        return warp(image)
    if grey:
        warped = warp(grey_of(image))
        out = cv2.cvtColor(warped, cv2.COLOR_GRAY2RGB)
        _cached(out, ("grey",), lambda: warped)  # the next steps need exactly this grey
        return out
    return cv2.cvtColor(warp(cv2.cvtColor(image, cv2.COLOR_RGB2RGBA)), cv2.COLOR_RGBA2RGB)


def looks_grey(image: np.ndarray) -> bool:
    """All three channels equal (a greyscale scan stored as RGB), judged on a 1-in-16 sample."""
    sample = image[::4, ::4]
    return bool(np.array_equal(sample[..., 0], sample[..., 1]) and np.array_equal(sample[..., 1], sample[..., 2]))


def deskew(page: PageState, options: PipelineOptions) -> PageState:
    """Straighten the page when its skew exceeds ``options.deskew_min_degrees`` (rotation
    blurs thin strokes, so small skews are left alone). Records the corrected ``skew``
    and the estimate itself in ``metrics['skew_estimate']``.

    A page already found to have no colour (``detect_colour_and_seal`` ran first and said
    ``is_colour=False``) or stored grey comes out grey, warped 4x cheaper."""
    angle = estimate_skew(grey_of(page.image), working_dpi(page))
    metrics = {**page.metrics, "skew_estimate": round(angle, 3)}
    if abs(angle) <= options.deskew_min_degrees:
        return replace(page, metrics=metrics)
    grey = ("colour_area_mm2" in page.metrics and not page.is_colour) or looks_grey(page.image)
    matrix, _ = rotation_matrix(page.image.shape, -angle)
    return replace(
        page,
        image=rotate_by(page.image, -angle, grey=grey),
        skew=round(angle, 3),
        text_boxes=moved(page.text_boxes, matrix),
        metrics=metrics,
    )


# --------------------------------------------------------------------------- borders


# --------------------------------------------------------------------------- borders

BORDER_DPI = 75


def scanner_border_mask(small: np.ndarray, dpi: float, text: np.ndarray | None = None) -> np.ndarray:
    """Large dark regions touching the image edge (the scanner lid or belt showing round a
    smaller sheet). Text and rules are too thin to survive the opening; dark content that
    does not touch the edge (photos, ID copies) is kept, and so is a dark region with light
    marks inside it (white text on a banner) or a detected text run on it (TEXT: boxes
    (x0, y0, x1, y1) on SMALL)."""
    paper = grey_percentile(small, 90)
    level = min(110, paper * 0.5)
    if min(small[0].min(), small[-1].min(), small[:, 0].min(), small[:, -1].min()) >= level:
        return np.zeros(small.shape, bool)  # no dark pixel on any edge: no border (most pages)
    dark = (small < level).astype(np.uint8)
    k = max(3, round(1 / 25.4 * dpi) | 1)  # thicker than any pen or print stroke; odd: no shift
    dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=4)
    if n <= 1:
        return np.zeros_like(dark, bool)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge = edge[edge > 0]
    # A border runs along a good part of a side; a dark blot at the edge does not.
    h, w = small.shape
    long = (stats[edge, cv2.CC_STAT_WIDTH] >= 0.25 * w) | (stats[edge, cv2.CC_STAT_HEIGHT] >= 0.25 * h)
    borders = [label for label in edge[long] if not _carries_content(labels == label, small, text)]
    return np.isin(labels, borders)


def _carries_content(region: np.ndarray, small: np.ndarray, text: np.ndarray | None) -> bool:
    """A scanner border is dark throughout; a banner has light marks (its text) inside."""
    if text is not None and len(text):
        cx, cy = ((text[:, 0] + text[:, 2]) / 2).astype(int), ((text[:, 1] + text[:, 3]) / 2).astype(int)
        inside = (cy >= 0) & (cy < region.shape[0]) & (cx >= 0) & (cx < region.shape[1])
        if region[cy[inside], cx[inside]].any():
            return True
    ys, xs = np.nonzero(region)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    gaps = (~region[y0:y1, x0:x1]).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(gaps, connectivity=4)
    outside = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    light = small[y0:y1, x0:x1] > grey_percentile(small, 90) * 0.7
    # letters are small light holes; the sheet itself, framed by a border, is one big one
    small_hole = stats[:, cv2.CC_STAT_AREA] < 0.02 * gaps.size
    letters = [k for k in range(1, n) if k not in outside and small_hole[k] and light[labels == k].mean() > 0.5]
    return len(letters) >= 2


def crop_borders(page: PageState, options: PipelineOptions) -> PageState:
    """Cut away black scanner borders: rows and columns that are mostly border are
    removed, border wedges left inside (a crooked sheet) are painted white. Records the
    kept ``crop`` as (left, top, right, bottom) in the incoming image."""
    h, w = page.image.shape[:2]
    dpi = working_dpi(page)
    small, scale = downscaled_gray(page.image, dpi, BORDER_DPI)
    text = _box_extents(page.text_boxes, scale)
    border = scanner_border_mask(small, dpi * scale, text)
    if not border.any():
        return replace(page, crop=(0, 0, w, h), metrics={**page.metrics, "border_area": 0.0})
    rows, cols = border.mean(axis=1) > 0.5, border.mean(axis=0) > 0.5
    sh, sw = border.shape
    top = _first_false(rows)
    bottom = sh - _first_false(rows[::-1])
    left = _first_false(cols)
    right = sw - _first_false(cols[::-1])
    # Never cut more than a quarter from any side: beyond that it is not a border.
    top, left = min(top, sh // 4), min(left, sw // 4)
    bottom, right = max(bottom, sh - sh // 4), max(right, sw - sw // 4)
    if text is not None and len(text):  # never cut into a text run
        top, left = min(top, int(text[:, 1].min())), min(left, int(text[:, 0].min()))
        bottom, right = max(bottom, math.ceil(text[:, 3].max())), max(right, math.ceil(text[:, 2].max()))
        top, left = max(top, 0), max(left, 0)
        bottom, right = min(bottom, sh), min(right, sw)
    pad = 1  # one analysis pixel more, to lose the shaded paper edge
    box = (
        min(w, math.ceil((left + pad * (left > 0)) / scale)),
        min(h, math.ceil((top + pad * (top > 0)) / scale)),
        max(0, int((right - pad * (right < sw)) / scale)),
        max(0, int((bottom - pad * (bottom < sh)) / scale)),
    )
    image = np.ascontiguousarray(page.image[box[1] : box[3], box[0] : box[2]])
    leftover = border[top:bottom, left:right].copy()
    if text is not None:
        for x0, y0, x1, y1 in text - np.float32([left, top, left, top]):
            leftover[max(0, int(y0)) : max(0, math.ceil(y1)), max(0, int(x0)) : max(0, math.ceil(x1))] = False
    if leftover.any():
        # Paint the wedge white, working only in its bounding box (a thin strip by an edge).
        grown = cv2.dilate(leftover.astype(np.uint8), np.ones((3, 3), np.uint8))
        ys, xs = np.nonzero(grown)
        sy0, sy1, sx0, sx1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        fy0, fy1 = int((top + sy0) / scale) - box[1], math.ceil((top + sy1) / scale) - box[1]
        fx0, fx1 = int((left + sx0) / scale) - box[0], math.ceil((left + sx1) / scale) - box[0]
        fy0, fx0 = max(fy0, 0), max(fx0, 0)
        fy1, fx1 = min(fy1, image.shape[0]), min(fx1, image.shape[1])
        strip = cv2.resize(grown[sy0:sy1, sx0:sx1], (fx1 - fx0, fy1 - fy0), interpolation=cv2.INTER_NEAREST)
        image = image.copy() if np.shares_memory(image, page.image) else image  # steps never write into their input
        image[fy0:fy1, fx0:fx1][strip.astype(bool)] = 255
    metrics = {**page.metrics, "border_area": round(float(border.mean()), 4)}
    return replace(page, image=image, crop=box, text_boxes=shifted(page.text_boxes, box[0], box[1]), metrics=metrics)


def _box_extents(boxes: np.ndarray | None, scale: float) -> np.ndarray | None:
    """Text runs as (x0, y0, x1, y1) rows, scaled to the analysis copy."""
    if boxes is None:
        return None
    if len(boxes) == 0:
        return np.zeros((0, 4), np.float32)
    return np.concatenate([boxes.min(axis=1), boxes.max(axis=1)], axis=1) * scale


def _first_false(flags: np.ndarray) -> int:
    idx = np.flatnonzero(~flags)
    return int(idx[0]) if len(idx) else len(flags)


# --------------------------------------------------------------------------- blank pages

BLANK_DPI = 75


def ink_on_paper(small: np.ndarray, dpi: float) -> np.ndarray:
    """Marks clearly darker than the local paper: faint bleed-through and paper grain are
    not ink, a pen stroke or a printed character is."""
    k = max(15, round(8 / 25.4 * dpi) | 1)  # paper level from an 8 mm neighbourhood
    paper = cv2.dilate(small, np.ones((k, k), np.uint8))  # brightest nearby = paper
    # show-through takes a few levels off the paper, washed-out print 50 or more
    return (paper.astype(np.int16) - small.astype(np.int16)) > 35


def punch_holes(stats: np.ndarray, dpi: float) -> np.ndarray:
    """Which components (rows of connectedComponentsWithStats) are round solid blobs
    4-8.5 mm across: filing holes, not writing."""
    lo, hi = 4 / 25.4 * dpi, 8.5 / 25.4 * dpi
    w, h, a = stats[:, 2], stats[:, 3], stats[:, 4]
    return (w >= lo) & (w <= hi) & (h >= lo) & (h <= hi) & (a >= 0.6 * w * h)


def detect_blank(page: PageState, options: PipelineOptions) -> PageState:
    """Mark blank backs. A page is blank when, ignoring a 3% edge band (shadows), punch
    holes and specks under 2.5 mm, no mark remains; one signature line or one word of
    text is enough to keep the page. Records ``metrics['ink_fraction']`` and ``marks``."""
    small, scale = downscaled_gray(page.image, working_dpi(page), BLANK_DPI)
    dpi = working_dpi(page) * scale
    ink = ink_on_paper(small, dpi).astype(np.uint8)
    _n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    stats = stats[1:]
    x, y, w, h = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    H, W = ink.shape
    mh, mw = int(H * 0.03), int(W * 0.03)
    inside = (x + w > mw) & (x < W - mw) & (y + h > mh) & (y < H - mh)
    big_enough = np.maximum(w, h) >= 2.5 / 25.4 * dpi
    marks = int(np.sum(inside & big_enough & ~punch_holes(stats, dpi)))
    fraction = float(ink[mh : H - mh, mw : W - mw].mean())
    metrics = {**page.metrics, "ink_fraction": round(fraction, 5), "marks": float(marks)}
    return replace(page, is_blank=marks == 0, metrics=metrics)


# --------------------------------------------------------------------------- colour and seals

COLOUR_DPI = 75


def red_ink(hsv: np.ndarray) -> np.ndarray:
    """Seal-paste red: hue within ~15 degrees of red, clearly saturated. Yellowed or grey
    paper has hue near 20-30 and low saturation and stays out."""
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return ((h <= 8) | (h >= 168)) & (s >= 90) & (v >= 80)


def coloured_ink(hsv: np.ndarray) -> np.ndarray:
    """Any clearly coloured mark (red seal, blue signature, green stamp)."""
    return (hsv[..., 1] >= 90) & (hsv[..., 2] >= 50)


def seal_shapes(red: np.ndarray, dpi: float) -> list[tuple[int, int, int, int]]:
    """Boxes of red marks shaped like a seal: 20-70 mm across, roughly round or oval, the
    hull well filled (a ring with text and star; a red heading is long and thin)."""
    k = max(3, round(2 / 25.4 * dpi) | 1)
    joined = cv2.morphologyEx(red.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    lo, hi = 20 / 25.4 * dpi, 70 / 25.4 * dpi
    seals = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        if not (lo <= max(w, h) <= hi and min(w, h) >= 0.55 * max(w, h)):
            continue
        hull = cv2.convexHull(c)
        area, perimeter = cv2.contourArea(hull), cv2.arcLength(hull, True)
        circularity = 4 * math.pi * area / max(perimeter**2, 1e-6)
        if circularity >= 0.75 and area >= 0.6 * w * h:
            seals.append((x, y, w, h))
    return seals


def detect_colour_and_seal(page: PageState, options: PipelineOptions) -> PageState:
    """``has_seal`` when a red seal is on the page, ``is_colour`` when there is meaningful
    colour (a seal, coloured ink) that the stored derivative must keep."""
    # Every 4th pixel, not an average: averaging a thin blue stroke with paper washes its
    # colour out, sampling keeps it; seals are far bigger than the step.
    step = max(1, int(working_dpi(page) / COLOUR_DPI + 1e-6))
    small_rgb, scale = np.ascontiguousarray(page.image[::step, ::step]), 1.0 / step
    hsv = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)
    dpi = working_dpi(page) * scale
    red = red_ink(hsv)
    seals = seal_shapes(red, dpi) if red.mean() > 1e-4 else []
    colour = coloured_ink(hsv)
    # Coloured specks and JPEG fringes are not colour: demand ~20 mm^2 of coloured ink.
    colour_area_mm2 = float(colour.sum()) * (25.4 / dpi) ** 2
    metrics = {
        **page.metrics,
        "colour_area_mm2": round(colour_area_mm2, 1),
        "seals": float(len(seals)),
        # as delivered: later steps may store a page without colour as grey
        "grey_scan": float(looks_grey(page.image)),
    }
    return replace(page, has_seal=bool(seals), is_colour=bool(seals) or colour_area_mm2 >= 20, metrics=metrics)


# --------------------------------------------------------------------------- OCR image
