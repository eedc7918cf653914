"""Page cleanup steps: bring a scanned page upright, straight and free of scanner borders,
recognise blank backs and red seals, and prepare the image Tesseract reads.
(Long for now: it is being split along with the image-step rework of issue 12.)

Every public step is ``step(page, options) -> page`` and returns ``dataclasses.replace``.
All analysis runs on small downscaled copies (50-150 dpi); only the final rotation or
crop touches the full-resolution image, so each step costs tens of milliseconds on an
A4 page at 300 dpi.

Order the batch runs them in::

    orient -> crop_borders -> detect_colour_and_seal -> deskew -> detect_blank
           -> measure_quality -> check_quality -> clean_for_ocr -> OCR -> check_quality

Borders are cut before deskewing: the border is square to the scanner, and ``crop`` is
recorded in the oriented image's coordinates (deskewing changes the frame). Colour is
judged before deskewing so that a page without colour is rotated as one grey channel
(4x cheaper than RGB) and stored grey; sealed pages stay RGB.

The OCR step should catch what orientation misses: when ``metrics['orientation_margin']``
is below ~0.3 and OCR confidence is below ``options.low_confidence``, OCR
``turned_half(page)`` too and keep the reading with the higher confidence.

``clean_for_ocr`` returns the image *for OCR*: keep the page from before it as the
derived image to store (a binarised page has lost its seal colour on purpose).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from dangan.scanning.page import PageState, PipelineOptions

# --------------------------------------------------------------------------- helpers


def shrink(image: np.ndarray, dpi: int, target_dpi: float) -> tuple[np.ndarray, float]:
    """Copy at about ``target_dpi`` by an *integer* factor (300 -> 150, 100, 75 dpi): OpenCV's
    area averaging has a fast path for whole factors, 4x quicker than for 300 -> 120.
    Area averaging keeps thin strokes as grey, not gone. Returns the copy and its scale."""
    factor = max(1, int(dpi / target_dpi + 1e-6))  # never below the target resolution
    if factor == 1:
        return image, 1.0
    h, w = image.shape[:2]
    h, w = h - h % factor, w - w % factor
    small = cv2.resize(image[:h, :w], (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    return small, 1.0 / factor


# Several steps analyse the same image at the same few resolutions. Images are never
# written to once made (steps return new arrays), so grey and shrunk copies are kept for
# the last few images, keyed by identity and checked through a weak reference.
_ANALYSIS_CACHE: dict[tuple, tuple[weakref.ref, object]] = {}


def _cached(image: np.ndarray, key: tuple, make):
    full_key = (id(image), image.shape, *key)
    hit = _ANALYSIS_CACHE.get(full_key)
    if hit is not None and hit[0]() is image:
        return hit[1]
    value = make()
    if len(_ANALYSIS_CACHE) >= 16:
        _ANALYSIS_CACHE.pop(next(iter(_ANALYSIS_CACHE)))
    _ANALYSIS_CACHE[full_key] = (weakref.ref(image), value)
    return value


def grey_of(image: np.ndarray) -> np.ndarray:
    """Grey version of an RGB image (cached; treat as read-only)."""
    if image.ndim == 2:
        return image
    return _cached(image, ("grey",), lambda: cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))


def downscaled_gray(image: np.ndarray, dpi: int, target_dpi: float) -> tuple[np.ndarray, float]:
    """Grey copy at about ``target_dpi`` (see :func:`shrink`) and its scale (small / full).
    Cached per image; treat the result as read-only."""
    return _cached(image, ("small", dpi, target_dpi), lambda: shrink(grey_of(image), dpi, target_dpi))


def grey_percentile(gray: np.ndarray, q: float) -> float:
    """Percentile of a uint8 image from its histogram (a sort of a million pixels is 10x slower)."""
    cdf = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    return float(np.searchsorted(cdf, q / 100 * cdf[-1]))


def otsu_level(hist: np.ndarray) -> float:
    """Otsu's threshold from a 256-bin histogram."""
    levels = np.arange(256, dtype=np.float64)
    weight0 = np.cumsum(hist)
    weight1 = weight0[-1] - weight0
    sum0 = np.cumsum(hist * levels)
    mean0 = sum0 / np.maximum(weight0, 1e-9)
    mean1 = (sum0[-1] - sum0) / np.maximum(weight1, 1e-9)
    between = weight0 * weight1 * (mean0 - mean1) ** 2
    return float(np.argmax(between))


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Ink (dark on light) as 0/255. Otsu's level is computed without the near-black
    pixels: a black scanner border is a second 'ink' mode that would drag the level down
    and lose the grey thin strokes of small text. A page with no real ink gives an almost
    empty mask."""
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    paper = float(np.searchsorted(np.cumsum(hist), 0.9 * hist.sum()))
    hist[:40] = 0
    level = otsu_level(hist)
    # Otsu on a near-blank page splits paper noise in two: demand real contrast to paper.
    if paper - level < 40:
        level = paper - 60
    return cv2.threshold(gray, level, 255, cv2.THRESH_BINARY_INV)[1]


def without_ruled_lines(ink: np.ndarray, min_length: int) -> np.ndarray:
    """Ink minus long horizontal and vertical rules (table grid, underlines): they say
    nothing about which way the text runs."""
    min_length |= 1  # odd kernels: OpenCV shifts the result of even ones by a pixel
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (min_length, 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, min_length)))
    return cv2.subtract(ink, cv2.bitwise_or(horiz, vert))


def without_edge_blobs(ink: np.ndarray) -> np.ndarray:
    """Ink minus everything connected to the image edge: scanner borders and their ragged
    inner edges are not text. Free when nothing touches the edge (most pages)."""
    if not (ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any()):
        return ink
    _n, labels = cv2.connectedComponents(ink, connectivity=8)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    return np.where(np.isin(labels, edge[edge > 0]), 0, ink).astype(np.uint8)


def rotate_clockwise(image: np.ndarray, degrees: int) -> np.ndarray:
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return image if degrees % 360 == 0 else cv2.rotate(image, codes[degrees % 360])


# --------------------------------------------------------------------------- orientation

ORIENT_DPI = 75


def character_size(ink: np.ndarray) -> float:
    """Typical body character size in pixels: median extent of glyph-sized blobs after
    joining a character's strokes. Chinese characters are square, so one number suffices.
    Remove specks first (:func:`without_specks`), or dust outvotes the characters."""
    joined = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    if n <= 1:
        return 0.0
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    size, across = np.maximum(w, h), np.minimum(w, h)
    keep = (size >= 5) & (size <= ink.shape[0] / 10) & (across >= 0.35 * size)
    if keep.sum() < 5:
        return 0.0
    # The short side: at low resolution neighbours touch, and a pair of characters is
    # still one character high (or wide, in a vertical line).
    return float(np.median(across[keep])) - 2


def without_specks(ink: np.ndarray) -> np.ndarray:
    """Ink minus isolated specks of a pixel or two (dust, sensor noise): a pixel stays
    when at least two of its eight neighbours are ink too (a box filter, no labelling)."""
    ones = (ink > 0).astype(np.uint8)
    count = cv2.boxFilter(ones, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return np.where(count >= 3, ink, 0).astype(np.uint8)


def line_bars(ink: np.ndarray, char: float, axis: int) -> np.ndarray:
    """Smear ink along ``axis`` (1 = horizontal) over gaps smaller than ~half a character:
    characters in a text line merge into one long bar, separate lines do not."""
    k = max(3, round(char * 0.6) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1) if axis == 1 else (1, k))
    return cv2.morphologyEx(ink, cv2.MORPH_CLOSE, kernel)


def bar_stats(bars: np.ndarray) -> np.ndarray:
    _n, _, stats, _ = cv2.connectedComponentsWithStats(bars, connectivity=8)
    return stats[1:]


def elongated_area(stats: np.ndarray, char: float, axis: int) -> float:
    """Ink area of bars at least 2.5 characters long along ``axis`` and about one character across."""
    w, h, area = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_AREA]
    along, across = (w, h) if axis == 1 else (h, w)
    keep = (along >= 2.5 * char) & (across <= 2.2 * char) & (along >= 3 * across)
    return float(area[keep].sum())


@lru_cache(maxsize=1)
def _direction_classifier():
    """PP-OCR's 0/180 text-line classifier (1.4 MB, ships inside the rapidocr wheel; found
    without importing rapidocr). One thread: the batch parallelises across pages."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        return None  # the layout cue still works without it, less surely
    model = Path(next(iter(spec.submodule_search_locations))) / "models" / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    if not model.exists():
        return None
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])


def line_chunks(
    gray_full: np.ndarray, boxes: np.ndarray, scale: float, quarter: int, limit: int = 8, per_line: int = 2
) -> np.ndarray:
    """Cut text lines into 4:1 chunks (the classifier's 48x192 input) from the full image.
    ``boxes`` are line boxes (x, y, w, h) on the analysis copy, in the scanned frame;
    each crop is turned by ``quarter`` so its text runs left to right (no full-page
    rotation needed). A few chunks from many lines beat many from one."""
    chunks = []
    H, W = gray_full.shape
    for x, y, w, h in boxes:
        across = h if quarter == 0 else w
        pad = max(2, int(across * 0.25))
        if quarter == 0:
            x0, x1 = int(x / scale), int((x + w) / scale)
            y0, y1 = int(max(0, y - pad) / scale), int(min(H, (y + h + pad) / scale))
        else:
            y0, y1 = int(y / scale), int((y + h) / scale)
            x0, x1 = int(max(0, x - pad) / scale), int(min(W, (x + w + pad) / scale))
        line = rotate_clockwise(gray_full[y0:y1, x0:x1], quarter)
        ch, length = line.shape
        if ch < 8:
            continue
        step = 4 * ch
        for cx in list(range(0, max(1, length - step // 2), step))[:per_line]:
            crop = line[:, cx : cx + step]
            if crop.shape[1] < ch * 2:
                continue
            resized = cv2.resize(
                crop,
                (min(192, math.ceil(48 * crop.shape[1] / ch)), 48),
                interpolation=cv2.INTER_AREA if ch > 48 else cv2.INTER_LINEAR,
            )
            canvas = np.zeros((48, 192), np.float32)
            canvas[:, : resized.shape[1]] = resized.astype(np.float32) / 127.5 - 1.0
            chunks.append(canvas)
            if len(chunks) >= limit:
                return np.stack(chunks)
    return np.stack(chunks) if chunks else np.zeros((0, 48, 192), np.float32)


def upside_down_vote_model(gray_full: np.ndarray, boxes: np.ndarray, scale: float, quarter: int) -> float | None:
    """Mean log-odds that the text lines are upside down (>0) from the PP-OCR classifier."""
    session = _direction_classifier()
    if session is None or len(boxes) == 0:
        return None
    chunks = line_chunks(gray_full, boxes, scale, quarter)
    if len(chunks) == 0:
        return None
    batch = np.repeat(chunks[:, None], 3, axis=1)
    probs = session.run(None, {session.get_inputs()[0].name: batch})[0]
    p = np.clip(probs[:, 1], 1e-4, 1 - 1e-4)
    return float(np.mean(np.clip(np.log(p / (1 - p)), -4, 4)))


def upside_down_vote_layout(stats: np.ndarray, char: float) -> float:
    """Layout cue, in [-1, 1], >0 meaning upside down: forms put their biggest line (the
    title) near the top, and their text mass in the upper part of the sheet."""
    if len(stats) == 0:
        return 0.0
    ys = stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] / 2
    hs = stats[:, cv2.CC_STAT_HEIGHT].astype(float)
    areas = stats[:, cv2.CC_STAT_AREA].astype(float)
    top, bottom = ys.min(), ys.max()
    span = max(bottom - top, 1.0)
    biggest = np.argmax(hs * (hs <= 4 * char))
    title = 0.0
    if hs[biggest] >= 1.4 * np.median(hs):
        title = 1.0 if (ys[biggest] - top) / span > 0.5 else -1.0
    mass = float(np.average((ys - top) / span, weights=areas)) - 0.5  # >0: ink sits low
    return 0.6 * title + 0.4 * float(np.clip(mass * 4, -1, 1))


def orientation_candidates(page: PageState) -> list[tuple[int, float]]:
    """Clockwise rotations (0/90/180/270) that would bring the page upright, best first,
    each with a score in 0..1 (scores of the four sum to 1).

    90/270 versus 0/180 comes from which way characters merge into long bars when smeared
    along rows or along columns (text lines of a Chinese form run horizontally; ruled
    lines are removed first). 0 versus 180 comes from PP-OCR's text-line direction
    classifier (PP-OCR mobile cls, 1.4 MB, in the rapidocr wheel) on eight line chunks,
    backed by a layout cue (title at the top). Measured: 60/60 synthetic scans
    (scanning.synthetic, all doc types and faces, skew +-4 degrees, JPEG, dust) and
    48/48 rendered forms at 200 and 300 dpi; 7.5-9 pt text 72/72.
    """
    gray = grey_of(page.image)
    small, scale = downscaled_gray(page.image, page.dpi, ORIENT_DPI)
    ink = without_specks(without_edge_blobs(ink_mask(small)))
    char = character_size(without_ruled_lines(ink, max(20, int(small.shape[1] * 0.06))))
    if char <= 0:
        return [(0, 0.25), (90, 0.25), (180, 0.25), (270, 0.25)]
    ink = without_ruled_lines(ink, max(20, int(3 * char)))
    h_stats, v_stats = bar_stats(line_bars(ink, char, 1)), bar_stats(line_bars(ink, char, 0))
    along_rows, along_cols = elongated_area(h_stats, char, 1), elongated_area(v_stats, char, 0)
    p_rows = (along_rows + 1) / (along_rows + along_cols + 2)

    # Judge upside-down in a frame where the text lines run horizontally.
    quarter = 0 if p_rows >= 0.5 else 90
    stats = h_stats if quarter == 0 else rotate_stats_clockwise(v_stats, small.shape)
    order = text_lines(stats, char)
    lines = stats[order]
    scanned_boxes = (h_stats if quarter == 0 else v_stats)[order][:, :4]
    vote = upside_down_vote_model(gray, scanned_boxes, scale, quarter)
    layout = upside_down_vote_layout(lines, char)
    # The classifier is the real cue (40/40 synthetic pages alone; the layout cue alone
    # 28/40): layout only breaks ties, or decides when no text line could be cut.
    logit = vote * 1.5 + layout * 0.3 if vote is not None else layout
    p_flip = 1 / (1 + math.exp(-logit))
    p_quarter = max(p_rows, 1 - p_rows)
    scores = {
        quarter: p_quarter * (1 - p_flip),
        (quarter + 180) % 360: p_quarter * p_flip,
        (quarter + 90) % 360: (1 - p_quarter) / 2,
        (quarter + 270) % 360: (1 - p_quarter) / 2,
    }
    return sorted(scores.items(), key=lambda kv: -kv[1])


def rotate_stats_clockwise(stats: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Component boxes (x, y, w, h, area) after the image is turned 90 degrees clockwise."""
    h = shape[0]
    x, y, w, bh, a = (stats[:, i] for i in range(5))
    return np.stack([h - (y + bh), x, bh, w, a], axis=1)


def text_lines(stats: np.ndarray, char: float) -> np.ndarray:
    """Indices of bars that look like body text lines (horizontal), longest first."""
    if len(stats) == 0:
        return np.zeros(0, int)
    w, h = stats[:, 2], stats[:, 3]
    keep = np.flatnonzero((w >= 2.5 * char) & (h >= 0.6 * char) & (h <= 2.2 * char))
    return keep[np.argsort(-w[keep])]


def orient(page: PageState, options: PipelineOptions) -> PageState:
    """Turn the page upright. Records the total clockwise ``rotation`` and the margin of
    the decision in ``metrics['orientation_margin']`` (0..1): when it is below ~0.3 and
    OCR confidence comes back low, OCR the page turned 180 degrees as well and keep the
    better reading (see :func:`turned_half`)."""
    candidates = orientation_candidates(page)
    (best, score), (_, second) = candidates[0], candidates[1]
    metrics = {**page.metrics, "orientation_margin": round(score - second, 3)}
    if best == 0:
        return replace(page, metrics=metrics)
    return replace(
        page, image=rotate_clockwise(page.image, best), rotation=(page.rotation + best) % 360, metrics=metrics
    )


def turned_half(page: PageState) -> PageState:
    """The page turned 180 degrees: the pipeline's second try when orientation was unsure
    and OCR confidence is low. Keep whichever reading has the higher confidence."""
    return replace(page, image=rotate_clockwise(page.image, 180), rotation=(page.rotation + 180) % 360)


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


def rotate_by(image: np.ndarray, degrees: float, *, grey: bool = False) -> np.ndarray:
    """Rotate counter-clockwise by ``degrees`` on a canvas grown to keep every corner,
    filling with white (a skewed sheet's corners must not be cut off).

    Bilinear: as good as bicubic for Tesseract after deskew (2.7% vs 3.0% CER on 4 pages,
    nearest 3.6%) and cheaper. OpenCV warps 1- and 4-channel images several times faster
    than 3-channel ones, so a grey page (``grey=True``) is warped as one channel and a
    colour page through RGBA."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = math.ceil(w * c + h * s), math.ceil(w * s + h * c)
    m[0, 2] += (nw - w) / 2
    m[1, 2] += (nh - h) / 2

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
    angle = estimate_skew(grey_of(page.image), page.dpi)
    metrics = {**page.metrics, "skew_estimate": round(angle, 3)}
    if abs(angle) <= options.deskew_min_degrees:
        return replace(page, metrics=metrics)
    grey = ("colour_area_mm2" in page.metrics and not page.is_colour) or looks_grey(page.image)
    return replace(page, image=rotate_by(page.image, -angle, grey=grey), skew=round(angle, 3), metrics=metrics)


# --------------------------------------------------------------------------- borders

BORDER_DPI = 75


def scanner_border_mask(small: np.ndarray, dpi: float) -> np.ndarray:
    """Large dark regions touching the image edge (the scanner lid or belt showing round a
    smaller sheet). Text and rules are too thin to survive the opening; dark content that
    does not touch the edge (photos, ID copies) is kept."""
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
    return np.isin(labels, edge[long])


def crop_borders(page: PageState, options: PipelineOptions) -> PageState:
    """Cut away black scanner borders: rows and columns that are mostly border are
    removed, border wedges left inside (a crooked sheet) are painted white. Records the
    kept ``crop`` as (left, top, right, bottom) in the incoming image."""
    h, w = page.image.shape[:2]
    small, scale = downscaled_gray(page.image, page.dpi, BORDER_DPI)
    border = scanner_border_mask(small, page.dpi * scale)
    if not border.any():
        return replace(page, crop=(0, 0, w, h))
    rows, cols = border.mean(axis=1) > 0.5, border.mean(axis=0) > 0.5
    sh, sw = border.shape
    top = _first_false(rows)
    bottom = sh - _first_false(rows[::-1])
    left = _first_false(cols)
    right = sw - _first_false(cols[::-1])
    # Never cut more than a quarter from any side: beyond that it is not a border.
    top, left = min(top, sh // 4), min(left, sw // 4)
    bottom, right = max(bottom, sh - sh // 4), max(right, sw - sw // 4)
    pad = 1  # one analysis pixel more, to lose the shaded paper edge
    box = (
        min(w, math.ceil((left + pad * (left > 0)) / scale)),
        min(h, math.ceil((top + pad * (top > 0)) / scale)),
        max(0, int((right - pad * (right < sw)) / scale)),
        max(0, int((bottom - pad * (bottom < sh)) / scale)),
    )
    image = np.ascontiguousarray(page.image[box[1] : box[3], box[0] : box[2]])
    leftover = border[top:bottom, left:right]
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
    return replace(page, image=image, crop=box)


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
    return (paper.astype(np.int16) - small.astype(np.int16)) > 70


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
    small, scale = downscaled_gray(page.image, page.dpi, BLANK_DPI)
    dpi = page.dpi * scale
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
    step = max(1, int(page.dpi / COLOUR_DPI + 1e-6))
    small_rgb, scale = np.ascontiguousarray(page.image[::step, ::step]), 1.0 / step
    hsv = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)
    dpi = page.dpi * scale
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


def speckle_noise(gray: np.ndarray, dpi: int) -> float:
    """Noise as the mean absolute difference between the page and its 3x3 median, at full
    resolution (noise lives in single pixels; downscaling would hide it). Measured on five
    one-inch windows (centre and quadrant centres) and the median taken, so one dense
    table or photo does not make a clean page 'noisy'. Clean print and JPEG scans score
    ~0.5-2.5, a dirty flatbed 5-15."""
    h, w = gray.shape
    side = min(h, w, int(dpi))
    scores = []
    for fy, fx in ((0.5, 0.5), (0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)):
        y0 = min(max(0, int(h * fy) - side // 2), h - side)
        x0 = min(max(0, int(w * fx) - side // 2), w - side)
        window = gray[y0 : y0 + side, x0 : x0 + side]
        scores.append(float(cv2.absdiff(window, cv2.medianBlur(window, 3)).mean()))
    return float(np.median(scores))


# Where median + Otsu starts to pay (Tesseract chi_sim psm 6, 2 synthetic pages per level,
# share of printed characters missed): noise 0.7: raw 33.4% / binarised 37.0%;
# 2.6: 39.5% / 45.4%; 5.2: 48.3% / 39.0%; 8.4: 65.3% / 38.7%; 13.3: 79.1% / 41.2%.
NOISY = 4.0


def erase_ruled_lines(gray: np.ndarray, dpi: int) -> np.ndarray:
    """The page with form rules (table lines, underlines) painted white. Tesseract takes a
    ruled table for graphics and drops every row in it; with the rules gone it reads the
    cells as text lines. Found at 150 dpi: a rule is ink unbroken for more than 0.4 inch."""
    f = max(1, round(dpi / 150))
    small = cv2.resize(gray, (gray.shape[1] // f, gray.shape[0] // f), interpolation=cv2.INTER_AREA) if f > 1 else gray
    _, ink = cv2.threshold(small, 200, 255, cv2.THRESH_BINARY_INV)
    n = max(10, int(0.4 * dpi / f))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    rules = cv2.dilate(cv2.bitwise_or(horiz, vert), np.ones((3, 3), np.uint8))
    # Paint with the paper's own tone: a white stripe on grey paper has edges OCR reads as marks.
    paper = int(np.percentile(small[::4, ::4], 90))
    rules = cv2.min(rules, paper)
    if f > 1:
        rules = cv2.resize(rules, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_NEAREST)
    return cv2.max(gray, rules)


def clean_for_ocr(page: PageState, options: PipelineOptions) -> PageState:
    """The image Tesseract should read, in grey (H, W): form rules erased; the red ink of
    a seal dropped; median filter + Otsu only when noise is high (binarising a clean page
    erodes thin serif strokes). Records ``metrics['noise']``."""
    gray = grey_of(page.image)
    noise = speckle_noise(gray, page.dpi)
    metrics = {**page.metrics, "noise": round(noise, 2)}
    if page.has_seal:
        gray = np.ascontiguousarray(page.image[..., 0])  # see suppress_red
    gray = erase_ruled_lines(gray, page.dpi)
    if noise >= NOISY:
        k = 3 if page.dpi < 400 else 5
        _, gray = cv2.threshold(cv2.medianBlur(gray, k), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return replace(page, image=gray, metrics=metrics)
