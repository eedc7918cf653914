"""Where the text is: PP-OCR's detector run once per page, early, on a small copy.

The runs it finds (``page.text_boxes``, quadrilaterals in the current image's pixels) tell
the later steps what only text can tell: which way the lines run (orientation), how crooked
they are (skew), what a border crop must not cut, and, once the page is upright and
straight, where the recogniser should look, so the page is not detected twice. Steps that
turn, crop or straighten the image move the boxes with it (:func:`moved`).

Detection works on a copy scaled so that body characters are about ``DET_CHAR_PX`` high,
and only over the part of the page that has ink: its cost grows with the pixels it sees.
When the models cannot be loaded the boxes stay ``None`` and every step falls back to its
image-only method.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from dangan.scanning.analysis import analysis_copy, grey_percentile, without_specks
from dangan.scanning.page import PageState, PipelineOptions
from dangan.tools import ppocr

# Measured on the synthetic corpus (characters lost, detection CPU per page, one process):
# 5 px 0.59% / 0.14 s, 6 px 0.04% / 0.15 s, 7 px 0.01% / 0.19 s, 8 px 0.19% / 0.33 s; 10-24 px
# lose no less and cost 2-10x more. 5 px starts to drop small print.
DET_CHAR_PX = 6.0
FALLBACK_LONG_SIDE = 960  # when the text size is unknown: PaddleOCR's usual detection size
FAINT_INK = 25  # grey levels below the paper that may be print


def detection_scale(page: PageState) -> float:
    char = page.metrics.get("char_px", 0.0)
    if char > 0 and page.metrics.get("char_samples", 0) >= 20:
        return float(np.clip(DET_CHAR_PX / char, 0.05, 1.0))
    return min(1.0, FALLBACK_LONG_SIDE / max(page.image.shape[:2]))


def ink_bands(image: np.ndarray, pad: float) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1) around the page's ink, one per horizontal band of it: empty
    stretches taller than two PADs between blocks are left out. Empty list: no ink."""
    small, scale = analysis_copy(image)
    # anything clearly darker than the paper: washed-out print too (where to look, not what is ink)
    ink = without_specks(((small < grey_percentile(small, 90) - FAINT_INK) * 255).astype(np.uint8))
    rows = cv2.reduce(ink, 1, cv2.REDUCE_MAX)[:, 0] > 0
    cols = np.flatnonzero(cv2.reduce(ink, 0, cv2.REDUCE_MAX)[0])
    if not rows.any():
        return []
    h, w = image.shape[:2]
    x0, x1 = max(0, int(cols[0] / scale - pad)), min(w, int((cols[-1] + 1) / scale + pad))
    spad = pad * scale
    ys = np.flatnonzero(rows)
    # runs of ink rows, joined across gaps of less than two pads
    breaks = np.flatnonzero(np.diff(ys) > 2 * spad + 1)
    starts = np.concatenate([[ys[0]], ys[breaks + 1]])
    ends = np.concatenate([ys[breaks], [ys[-1]]])
    bands = []
    for y0, y1 in zip(starts, ends):
        top, bottom = max(0, int((y0 - spad) / scale)), min(h, int((y1 + 1 + spad) / scale))
        bands.append((x0, top, x1, bottom))
    return bands


def detect_text(image: np.ndarray, scale: float, pad: float) -> np.ndarray:
    """Text runs of IMAGE as an (N, 4, 2) float32 array (tl, tr, br, bl), found in its bands of ink."""
    quads = []
    for x0, y0, x1, y1 in ink_bands(image, pad):
        quads += [quad + np.float32([x0, y0]) for quad, _score in ppocr.detect(image[y0:y1, x0:x1], scale)]
    return np.stack(quads) if quads else np.zeros((0, 4, 2), np.float32)


def find_text(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: detect the text runs (``text_boxes``), or leave them None when PP-OCR's
    models are not available. Records ``metrics['text_runs']``."""
    try:
        ppocr.detector()
    except ppocr.ModelUnavailable:
        return page
    char = page.metrics.get("char_px", 0.0) or 20.0
    boxes = detect_text(page.image, detection_scale(page), pad=2 * char)
    return replace(page, text_boxes=boxes, metrics={**page.metrics, "text_runs": float(len(boxes))})


# --------------------------------------------------------------------------- moving the boxes


def moved(boxes: np.ndarray | None, matrix: np.ndarray) -> np.ndarray | None:
    """BOXES after the image was transformed by the 2x3 affine MATRIX (corners re-ordered)."""
    if boxes is None or len(boxes) == 0:
        return boxes
    pts = boxes.reshape(-1, 2) @ matrix[:, :2].T + matrix[:, 2]
    return np.stack([ppocr.order_quad(q) for q in pts.reshape(-1, 4, 2).astype(np.float32)])


def quarter_turn_matrix(shape: tuple[int, ...], degrees: int) -> np.ndarray:
    """The affine map of pixel coordinates when an image of SHAPE is turned clockwise by
    DEGREES (0/90/180/270), as cv2.rotate does it."""
    h, w = shape[:2]
    d = degrees % 360
    if d == 90:
        return np.float32([[0, -1, h - 1], [1, 0, 0]])
    if d == 180:
        return np.float32([[-1, 0, w - 1], [0, -1, h - 1]])
    if d == 270:
        return np.float32([[0, 1, 0], [-1, 0, w - 1]])
    return np.float32([[1, 0, 0], [0, 1, 0]])


def shifted(boxes: np.ndarray | None, dx: float, dy: float) -> np.ndarray | None:
    return None if boxes is None else boxes - np.float32([dx, dy])


def box_sides(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length of each box along its top edge and down its left edge."""
    along = np.linalg.norm(boxes[:, 1] - boxes[:, 0], axis=1)
    across = np.linalg.norm(boxes[:, 3] - boxes[:, 0], axis=1)
    return along, across
