"""PP-OCR: text detection, line direction and recognition, from the ONNX models that ship
inside the ``rapidocr`` wheel, run by onnxruntime. Nothing is downloaded: the models are
found in the installed package (without importing it) or not at all.

Why not ``rapidocr.RapidOCR`` itself: it resizes every page to 2000 px before detecting
(9 CPU-s a page here), offers no say in the detection scale, and downloads a model when a
file is missing. Here the caller chooses the scale from the page's character size, and a
missing model is a :class:`ModelUnavailable` the pipeline answers by falling back to
Tesseract.

One set of sessions per process (cached), each on one thread: dangan parallelises across
pages, one worker per core.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from onnxruntime import InferenceSession

import cv2
import numpy as np

from dangan.tools import ToolError

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"

REC_HEIGHT = 48
REC_BATCH = 1
SURE = 0.9  # characters read with less probability get the recogniser's second choice too
# DB post-processing, as PaddleOCR ships it
DET_THRESH = 0.3
DET_BOX_THRESH = 0.5
DET_UNCLIP = 1.6
DET_MIN_SIZE = 3


class ModelUnavailable(ToolError):
    def __init__(self, detail: str):
        super().__init__("PP-OCR", f"PP-OCR models cannot be loaded ({detail}): reinstall the rapidocr package")


@dataclass(frozen=True)
class TextLine:
    """One recognised text run. ``box`` is its quadrilateral on the image (tl, tr, br, bl),
    ``xs`` the horizontal centre of each character along the run, from the left end of
    the box, in image pixels (from the recogniser's CTC time steps)."""

    box: np.ndarray
    text: str
    score: float
    xs: tuple[float, ...] = ()
    char_scores: tuple[float, ...] = ()
    alternatives: tuple[str, ...] = ()  # the recogniser's second choice for each character


def models_dir() -> Path | None:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _session(name: str) -> InferenceSession:
    folder = models_dir()
    if folder is None:
        raise ModelUnavailable("the rapidocr package is not installed")
    path = folder / name
    if not path.is_file():
        raise ModelUnavailable(f"{name} is missing from {folder}")
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelUnavailable("onnxruntime is not installed") from None
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    # The arena keeps buffers between runs (recognition 15-25% faster); it holds what the
    # largest crop needed, which a page's width bounds, not the length of the batch.
    so.enable_cpu_mem_arena = True
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own untyped errors for bad files
        raise ModelUnavailable(f"{name}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


@cache
def detector() -> InferenceSession:
    return _session(DET_MODEL)


@cache
def recogniser() -> tuple[InferenceSession, list[str]]:
    session = _session(REC_MODEL)
    chars = session.get_modelmeta().custom_metadata_map.get("character")
    if not chars:
        raise ModelUnavailable(f"{REC_MODEL} carries no character list")
    return session, ["<blank>", *chars.splitlines(), " "]


@cache
def direction_classifier() -> InferenceSession:
    return _session(CLS_MODEL)


def available() -> bool:
    try:
        detector(), recogniser()
    except ModelUnavailable:
        return False
    return True


# --------------------------------------------------------------------------- detection


def _three_channels(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image


def detect(image: np.ndarray, scale: float) -> list[tuple[np.ndarray, float]]:
    """Text runs on IMAGE (grey or RGB), detected on a copy resized by SCALE (the caller picks
    it from the character size: detection cost grows with the pixels it sees). Returns
    quadrilaterals in IMAGE coordinates with their detection score."""
    h, w = image.shape[:2]
    dh, dw = max(32, round(h * scale / 32) * 32), max(32, round(w * scale / 32) * 32)
    small = cv2.resize(image, (dw, dh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x = _three_channels(small).astype(np.float32) * (2 / 255.0) - 1.0
    session = detector()
    prob = session.run(None, {session.get_inputs()[0].name: x.transpose(2, 0, 1)[None]})[0][0, 0]
    mask = cv2.dilate((prob > DET_THRESH).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    sx, sy = w / dw, h / dh
    out = []
    for contour in contours[:1000]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < DET_MIN_SIZE:
            continue
        x0, y0, bw, bh = cv2.boundingRect(contour)
        local = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(local, [contour.reshape(-1, 2) - (x0, y0)], 1)
        score = cv2.mean(prob[y0 : y0 + bh, x0 : x0 + bw], local)[0]
        if score < DET_BOX_THRESH:
            continue
        # DB's unclip: grow the shrunk kernel back by area * ratio / perimeter on every side
        d = rw * rh * DET_UNCLIP / (2 * (rw + rh))
        quad = cv2.boxPoints(((cx, cy), (rw + 2 * d, rh + 2 * d), angle))
        if min(rw, rh) + 2 * d < DET_MIN_SIZE + 2:
            continue
        quad[:, 0] = np.clip(quad[:, 0] * sx, 0, w - 1)
        quad[:, 1] = np.clip(quad[:, 1] * sy, 0, h - 1)
        out.append((order_quad(quad), float(score)))
    return out


def order_quad(pts: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], np.float32)


def crop_line(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The run cut out straight (a perspective warp of its quadrilateral)."""
    width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    height = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    width, height = max(width, 1), max(height, 1)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    return cv2.warpPerspective(image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------- recognition


def _rec_input(crops: list[np.ndarray], width: int) -> tuple[np.ndarray, list[int]]:
    batch = np.zeros((len(crops), 3, REC_HEIGHT, width), np.float32)
    used = []
    for i, crop in enumerate(crops):
        h, w = crop.shape[:2]
        rw = min(width, max(1, math.ceil(REC_HEIGHT * w / h)))
        resized = cv2.resize(
            crop, (rw, REC_HEIGHT), interpolation=cv2.INTER_AREA if h > REC_HEIGHT else cv2.INTER_LINEAR
        )
        x = _three_channels(resized).astype(np.float32) * (2 / 255.0) - 1.0
        batch[i, :, :, :rw] = x.transpose(2, 0, 1)
        used.append(rw)
    return batch, used


Recognised = tuple[str, float, tuple[float, ...], tuple[float, ...], tuple[str, ...]]


def recognise(crops: list[np.ndarray]) -> list[Recognised]:
    """Text of each straight line crop (grey or RGB, any height): (text, mean character
    probability, x centre of each character in crop pixels, each character's probability,
    each character's runner-up). On one CPU thread batching saves nothing and padding costs
    (measured: 8 crops of one width take 8x one), so each crop runs at its own width."""
    session, chars = recogniser()
    name = session.get_inputs()[0].name
    ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
    order = np.argsort(ratios, kind="stable")
    results: list = [("", 0.0, (), (), ())] * len(crops)
    for start in range(0, len(order), REC_BATCH):
        idx = order[start : start + REC_BATCH]
        width = max(REC_HEIGHT * 2, math.ceil(REC_HEIGHT * max(ratios[i] for i in idx) / 8) * 8)
        batch, used = _rec_input([crops[i] for i in idx], width)
        probs = session.run(None, {name: batch})[0]
        steps = probs.shape[1]
        best, best_p = probs.argmax(axis=2), probs.max(axis=2)
        for k, i in enumerate(idx):
            tokens, p = best[k], best_p[k]
            keep = tokens != 0
            keep[1:] &= tokens[1:] != tokens[:-1]
            positions = np.flatnonzero(keep)
            text = "".join(chars[t] for t in tokens[positions])
            crop_w = crops[i].shape[1]
            xs = tuple(float((t + 0.5) / steps * width / used[k] * crop_w) for t in positions)
            cp = tuple(float(v) for v in p[positions])
            alts = [""] * len(positions)
            for j in np.flatnonzero(p[positions] < SURE):  # a runner-up only where the choice was close
                row = probs[k, positions[j]]
                top2 = np.argpartition(row, -2)[-2:]
                runner_up = top2[0] if top2[1] == tokens[positions[j]] else top2[1]
                alts[j] = chars[runner_up] if runner_up else ""
            results[i] = (text, float(np.mean(cp)) if cp else 0.0, xs, cp, tuple(alts))
    return results


def read_lines(image: np.ndarray, quads: list[np.ndarray]) -> list[TextLine]:
    """Recognise each quadrilateral of IMAGE. Runs much taller than wide are vertical text
    and are read turned."""
    crops = []
    for q in quads:
        crop = crop_line(image, q)
        if crop.shape[0] >= 1.5 * crop.shape[1]:
            crop = np.ascontiguousarray(np.rot90(crop))
        crops.append(crop)
    return [
        TextLine(q, text, score, xs, cps, alts)
        for q, (text, score, xs, cps, alts) in zip(quads, recognise(crops))
        if text.strip()
    ]


# --------------------------------------------------------------------------- direction


def upside_down_probability(crops: list[np.ndarray]) -> np.ndarray:
    """For each line crop (text running left to right, upright or upside down), the
    classifier's probability that it is upside down."""
    if not crops:
        return np.zeros(0, np.float32)
    session = direction_classifier()
    batch = np.zeros((len(crops), 3, 48, 192), np.float32)
    for i, crop in enumerate(crops):
        h, w = crop.shape[:2]
        rw = min(192, max(1, math.ceil(48 * w / h)))
        resized = cv2.resize(crop, (rw, 48), interpolation=cv2.INTER_AREA if h > 48 else cv2.INTER_LINEAR)
        batch[i, :, :, :rw] = (_three_channels(resized).astype(np.float32) * (2 / 255.0) - 1.0).transpose(2, 0, 1)
    return session.run(None, {session.get_inputs()[0].name: batch})[0][:, 1]
