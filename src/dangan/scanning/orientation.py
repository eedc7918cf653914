"""Orientation: turn a page only when its text says so.

With the text runs PP-OCR's detector found (``page.text_boxes``):

- **quarter turns** come from which way the runs are long. Runs much longer across than
  down are horizontal lines; runs longer down than across are lines of a page lying on its
  side. Single characters say nothing. The page is turned a quarter only when the vertical
  runs hold at least twice the characters of the horizontal ones, so a sparse page, an ID
  card's two sides or a landscape licence pasted on a portrait sheet stay as they are.
- **upside down** comes from PP-OCR's text-line direction classifier on the longest runs,
  cut out in the reading direction. The page is turned only when the runs agree clearly.

Without the models (they failed to load), Tesseract's orientation detection decides, and
only when it is confident; a page it cannot judge is left as scanned.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import replace

import cv2
import numpy as np

from dangan.scanning.analysis import grey_of, rotate_clockwise
from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.regions import box_sides, moved, quarter_turn_matrix
from dangan.tools import ToolError, ppocr
from dangan.tools import tesseract as tess

LINE_RATIO = 1.5  # a run at least this much longer one way than the other is a line, not a glyph
QUARTER_MAJORITY = 2.0  # vertical characters needed per horizontal one before turning a quarter
MIN_VERTICAL_CHARS = 6
CLS_RUNS = 12  # longest runs shown to the direction classifier
# Mean log-odds (each run's clipped to +-4) above which the page is upside down. Measured on
# the OCR corpus: upright pages -3.9..-1.2, upside-down ones 1.6..3.9.
FLIP_LOGIT = 0.5


def line_votes(boxes: np.ndarray) -> tuple[float, float]:
    """Characters standing in horizontal runs and in vertical runs (a run's length over its
    thickness counts its characters)."""
    if len(boxes) == 0:
        return 0.0, 0.0
    along, across = box_sides(boxes)
    along, across = np.maximum(along, 1), np.maximum(across, 1)
    horizontal = along >= LINE_RATIO * across
    vertical = across >= LINE_RATIO * along
    return float((along / across)[horizontal].sum()), float((across / along)[vertical].sum())


def upside_down_logit(gray: np.ndarray, boxes: np.ndarray, quarter: int) -> tuple[float, int]:
    """Mean log-odds that the runs are upside down once the page is turned by QUARTER (0 or 90),
    and how many runs voted."""
    along, across = box_sides(boxes)
    length, thickness = (along, across) if quarter == 0 else (across, along)
    lines = np.flatnonzero(length >= LINE_RATIO * np.maximum(thickness, 1))
    if len(lines) == 0:
        lines = np.arange(len(boxes))
    lines = lines[np.argsort(-length[lines])][:CLS_RUNS]
    crops = []
    for i in lines:
        crop = ppocr.crop_line(gray, boxes[i])
        crops.append(np.ascontiguousarray(np.rot90(crop, k=-1)) if quarter else crop)
    p = np.clip(ppocr.upside_down_probability(crops), 1e-4, 1 - 1e-4)
    if len(p) == 0:
        return 0.0, 0
    return float(np.mean(np.clip(np.log(p / (1 - p)), -4, 4))), len(p)


def orientation_from_text(page: PageState) -> tuple[int, dict[str, float]]:
    """Clockwise degrees that bring the page upright, judged from its text runs, and the
    evidence (metrics)."""
    boxes = page.text_boxes
    horizontal, vertical = line_votes(boxes)
    quarter = 90 if vertical >= max(QUARTER_MAJORITY * horizontal, MIN_VERTICAL_CHARS) else 0
    logit, runs = upside_down_logit(grey_of(page.image), boxes, quarter) if len(boxes) else (0.0, 0)
    flip = logit > FLIP_LOGIT
    evidence = {
        "orientation_horizontal_chars": round(horizontal, 1),
        "orientation_vertical_chars": round(vertical, 1),
        "orientation_logit": round(logit, 2),
        "orientation_runs": float(runs),
        "orientation_margin": round(abs(logit - FLIP_LOGIT), 2),
    }
    return (quarter + (180 if flip else 0)) % 360, evidence


def orientation_from_tesseract(page: PageState, options: PipelineOptions) -> tuple[int, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="dangan-osd-") as tmp:
        path = os.path.join(tmp, "page.png")
        gray = grey_of(page.image)
        f = max(1, math.ceil(page.dpi / 300))  # OSD needs no more than 300 dpi
        small = (
            cv2.resize(gray, (gray.shape[1] // f, gray.shape[0] // f), interpolation=cv2.INTER_AREA) if f > 1 else gray
        )
        cv2.imwrite(path, small, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        try:
            found = tess.osd(path)
        except ToolError:
            found = None
    if found is None or found.confidence < options.osd_min_confidence:
        return 0, {"orientation_margin": 0.0}
    return found.rotate % 360, {"orientation_margin": round(found.confidence, 2)}


def orient(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: turn the page upright (``rotation`` records the clockwise degrees) and
    its text boxes with it."""
    if page.text_boxes is not None:
        turn, evidence = orientation_from_text(page)
    else:
        turn, evidence = orientation_from_tesseract(page, options)
    metrics = {**page.metrics, **evidence}
    if turn == 0:
        return replace(page, metrics=metrics)
    return replace(
        page,
        image=rotate_clockwise(page.image, turn),
        rotation=(page.rotation + turn) % 360,
        text_boxes=moved(page.text_boxes, quarter_turn_matrix(page.image.shape, turn)),
        metrics=metrics,
    )
