"""Image analysis shared by the page steps: grey and shrunk copies (cached per image), ink
masks, and the size of the text.

Steps analyse small copies (50-150 dpi) and touch the full-resolution image only to turn,
crop or straighten it, so each costs tens of milliseconds on an A4 page at 300 dpi.
"""

from __future__ import annotations

import weakref

import cv2
import numpy as np


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


def without_specks(ink: np.ndarray) -> np.ndarray:
    """Ink minus isolated specks of a pixel or two (dust, sensor noise): a pixel stays
    when at least two of its eight neighbours are ink too (a box filter, no labelling)."""
    ones = (ink > 0).astype(np.uint8)
    count = cv2.boxFilter(ones, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    return np.where(count >= 3, ink, 0).astype(np.uint8)


# --------------------------------------------------------------------------- text size

ANALYSIS_LONG_SIDE = 1800  # px: 150 dpi for A4 at 300 dpi; smaller images are measured as they are


def analysis_copy(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Grey copy whose long side is at most ANALYSIS_LONG_SIDE, shrunk by an integer factor,
    without knowing the resolution (it may be unknown). Cached; read-only."""
    long_side = max(image.shape[:2])
    factor = max(1, -(-long_side // ANALYSIS_LONG_SIDE))
    return downscaled_gray(image, factor, 1)


def text_size(image: np.ndarray) -> tuple[float, int]:
    """Height of the body text in pixels of IMAGE (a Chinese character's height, or a Latin
    line's), and how many samples it rests on (0: no text found).

    Characters are joined into blobs by a small dilation; a blob's short side is one
    character whether it is a single character, a word or a whole line (at low resolution
    neighbours touch). Each blob votes with its length in characters, so a page of long
    lines is not outvoted by its punctuation. Rules and specks are removed first."""
    small, scale = analysis_copy(image)
    ink = without_specks(without_edge_blobs(ink_mask(small)))
    ink = without_ruled_lines(ink, max(15, int(small.shape[1] * 0.05)))
    joined = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    if n <= 1:
        return 0.0, 0
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    across, along = np.minimum(w, h), np.maximum(w, h)
    fill = stats[1:, cv2.CC_STAT_AREA] / np.maximum(w * h, 1)
    # glyph-sized across, and not solid (a photo, a black box) nor hollow (a frame)
    keep = (across >= 5) & (across <= small.shape[0] / 3) & (fill > 0.2) & (fill < 0.9)
    if keep.sum() < 3:
        return 0.0, int(keep.sum())
    sizes = across[keep].astype(np.float64) - 2  # the dilation added a pixel each side
    votes = np.maximum(1.0, along[keep] / np.maximum(across[keep], 1))
    order = np.argsort(sizes)
    cdf = np.cumsum(votes[order])
    median = sizes[order][np.searchsorted(cdf, cdf[-1] / 2)]
    return float(median / scale), int(keep.sum())
