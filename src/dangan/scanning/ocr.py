"""OCR engines behind one small interface. Tesseract is the default.

Tesseract's Chinese output separates every character with a space; we rebuild lines
from its word boxes and join CJK characters without spaces, keeping spaces only where
Latin words or numbers meet.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Protocol

import cv2
import numpy as np

from dangan.scanning.page import PipelineOptions, Word
from dangan.tools import tesseract

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class OcrResult:
    text: str
    words: tuple[Word, ...]
    confidence: float | None  # mean word confidence 0-100, None when nothing was read
    engine: str


class OcrEngine(Protocol):
    name: str

    def recognise(self, image: np.ndarray, options: PipelineOptions) -> OcrResult: ...


def join_line(words: list[Word]) -> str:
    """Join one line's words: CJK neighbours touch; Latin words and numbers get a space
    when there is a real gap between them; a wide gap (a form's cell boundary:
    户名 | 王建国) always gets one."""
    heights = sorted(w.height for w in words)
    median = heights[len(heights) // 2] if heights else 0
    out, prev = "", None
    for w in words:
        if prev is not None:
            gap = w.left - (prev.left + prev.width)
            latin = not (_CJK.search(out[-1]) or _CJK.match(w.text[0]))
            if gap > 1.2 * median or (latin and gap > 0.25 * median):
                out += " "
        out += w.text
        prev = w
    return out


def text_from_words(words: tuple[Word, ...] | list[Word]) -> str:
    lines: dict[int, list[Word]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    return "\n".join(join_line(lines[k]) for k in sorted(lines))


class TesseractEngine:
    name = "tesseract"

    def recognise(self, image: np.ndarray, options: PipelineOptions) -> OcrResult:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        with tempfile.TemporaryDirectory(prefix="dangan-ocr-") as tmp:
            # A lightly compressed greyscale PNG: cheaper to write than pytesseract's RGB PNG.
            src = os.path.join(tmp, "page.png")
            cv2.imwrite(src, gray, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            out = tesseract.tsv(src, language=options.language, psm=options.psm)
        words = parse_tsv(out)
        confs = [w.conf for w in words]
        return OcrResult(
            text=text_from_words(words),
            words=words,
            confidence=round(sum(confs) / len(confs), 1) if confs else None,
            engine=f"{tesseract.version()} -l {options.language} --psm {options.psm}",
        )


def parse_tsv(tsv: str) -> tuple[Word, ...]:
    """Tesseract TSV → words with boxes; line numbers renumbered 0.. in reading order."""
    words: list[Word] = []
    line_ids: dict[tuple[int, int, int], int] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        conf = float(cols[10])
        if not text or conf < 0:
            continue
        key = (int(cols[2]), int(cols[3]), int(cols[4]))  # block, paragraph, line
        line = line_ids.setdefault(key, len(line_ids))
        words.append(Word(text, int(cols[6]), int(cols[7]), int(cols[8]), int(cols[9]), conf, line))
    return tuple(words)


class RapidOcrEngine:
    """PP-OCR (detection + recognition) from the models inside the rapidocr wheel, run by
    onnxruntime on one thread: no download at run time. Far better than Tesseract's fast
    chi_sim model on names and addresses; slower. Each detected text run is split into
    per-character boxes (CJK glyphs are near-monospaced) so hits can be boxed precisely."""

    name = "rapidocr"

    @staticmethod
    @lru_cache(maxsize=1)
    def _engine():
        from rapidocr import RapidOCR

        return RapidOCR(
            params={
                "Global.log_level": "error",
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    def recognise(self, image: np.ndarray, options: PipelineOptions) -> OcrResult:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        out = self._engine()(bgr)
        runs = []
        for box, text, score in zip(out.boxes if out.boxes is not None else [], out.txts or (), out.scores or ()):
            xs, ys = [pt[0] for pt in box], [pt[1] for pt in box]
            runs.append((int(min(xs)), int(min(ys)), int(max(xs) - min(xs)), int(max(ys) - min(ys)), text, score))
        words = tuple(w for line_no, line in enumerate(_lines(runs)) for w in _split_run(line, line_no))
        confs = [s for *_, s in runs]
        return OcrResult(
            text_from_words(words),
            words,
            round(100 * sum(confs) / len(confs), 1) if confs else None,
            f"rapidocr {_version('rapidocr')} (PP-OCR, onnxruntime)",
        )


def _lines(runs: list[tuple]) -> list[list[tuple]]:
    """Group text runs into lines (vertical overlap over half the smaller height), each
    sorted left to right: PP-OCR returns form cells in detection order, not reading order."""
    lines: list[list[tuple]] = []
    for run in sorted(runs, key=lambda r: r[1] + r[3] / 2):
        _x, y, _w, h = run[:4]
        for line in lines:
            ly, lh = line[0][1], line[0][3]
            if min(y + h, ly + lh) - max(y, ly) > 0.5 * min(h, lh):
                line.append(run)
                break
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r[0]) for line in lines]


def _split_run(line: list[tuple], line_no: int) -> list[Word]:
    words = []
    for x, y, w, h, text, score in line:
        text = text.strip()
        if not text:
            continue
        step = w / len(text)
        words.extend(
            Word(ch, int(x + i * step), y, max(1, int(step)), h, round(100 * score, 1), line_no)
            for i, ch in enumerate(text)
            if not ch.isspace()
        )
    return words


@cache
def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


ENGINES: dict[str, type] = {"tesseract": TesseractEngine, "rapidocr": RapidOcrEngine}


def get_engine(name: str) -> OcrEngine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}") from None
