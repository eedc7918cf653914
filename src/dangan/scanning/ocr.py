"""OCR engines behind one small interface, and the page text they build.

PP-OCR (``rapidocr``: the models inside the rapidocr wheel, see dangan.tools.ppocr) is the
default; Tesseract (``tesseract``, through pytesseract) is selectable, and it is what reads
the page when PP-OCR's models cannot be loaded.

Both give words with boxes on the page image, in reading order: text runs are merged into
lines (a run joins the line it overlaps by half its height, so the cells of a form row read
left to right), CJK characters touch, Latin words and a form's cell boundaries
(户名 | 王建国) keep a space.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass, replace
from functools import cache
from itertools import pairwise
from typing import Protocol

import cv2
import numpy as np

from dangan.scanning.page import ENGINES as ENGINE_NAMES
from dangan.scanning.page import PipelineOptions, Word
from dangan.scanning.regions import detect_text
from dangan.tools import ppocr
from dangan.tools import tesseract as tess

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class OcrResult:
    text: str
    words: tuple[Word, ...]
    confidence: float | None  # mean character confidence 0-100, None when nothing was read
    engine: str


class OcrEngine(Protocol):
    name: str

    def recognise(
        self, image: np.ndarray, options: PipelineOptions, *, boxes: np.ndarray | None = None, char_px: float = 0.0
    ) -> OcrResult: ...


# --------------------------------------------------------------------------- text from words


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


def mean_confidence(words: tuple[Word, ...]) -> float | None:
    confs = [w.conf for w in words]
    return round(sum(confs) / len(confs), 1) if confs else None


# --------------------------------------------------------------------------- Tesseract


def latin_share(text: str) -> tuple[float, int]:
    """Share of Latin letters among letters and CJK characters, and how many letters."""
    latin = len(_LATIN_LETTER.findall(text))
    cjk = len(_CJK.findall(text))
    return (latin / (latin + cjk) if latin + cjk else 0.0), latin


# A page Tesseract's chi_sim reads as mostly Latin letters is read again with eng (eurotext:
# 8.1% CER with chi_sim, 2.6% with eng); Chinese forms with IDs and kVA stay below 0.3.
LATIN_PAGE = 0.7
LATIN_MIN_LETTERS = 20


class TesseractEngine:
    name = "tesseract"

    def recognise(
        self, image: np.ndarray, options: PipelineOptions, *, boxes: np.ndarray | None = None, char_px: float = 0.0
    ) -> OcrResult:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        with tempfile.TemporaryDirectory(prefix="dangan-ocr-") as tmp:
            # A lightly compressed greyscale PNG: cheaper to write than pytesseract's RGB PNG.
            src = os.path.join(tmp, "page.png")
            cv2.imwrite(src, gray, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            language = options.language
            words = parse_tsv(tess.tsv(src, language=language, psm=options.psm))
            share, letters = latin_share("".join(w.text for w in words))
            if share >= LATIN_PAGE and letters >= LATIN_MIN_LETTERS and "eng" in tess.languages():
                language = "eng"
                words = parse_tsv(tess.tsv(src, language=language, psm=options.psm))
        return OcrResult(
            text_from_words(words),
            words,
            mean_confidence(words),
            f"{tess.version()} -l {language} --psm {options.psm}",
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


# --------------------------------------------------------------------------- PP-OCR


@dataclass(frozen=True)
class _Run:
    x0: float
    y0: float
    x1: float
    y1: float
    line: ppocr.TextLine

    @property
    def height(self) -> float:
        return self.y1 - self.y0


class RapidOcrEngine:
    """PP-OCR detection and recognition (dangan.tools.ppocr). The detector's boxes come
    from the page (found once, early, and moved with every turn and crop) or are found here."""

    name = "rapidocr"

    def recognise(
        self, image: np.ndarray, options: PipelineOptions, *, boxes: np.ndarray | None = None, char_px: float = 0.0
    ) -> OcrResult:
        if boxes is None:
            from dangan.scanning.regions import DET_CHAR_PX, FALLBACK_LONG_SIDE

            scale = DET_CHAR_PX / char_px if char_px else FALLBACK_LONG_SIDE / max(image.shape[:2])
            boxes = detect_text(image, float(np.clip(scale, 0.05, 1.0)), pad=2 * (char_px or 20))
        lines = [simplified(ln) for ln in ppocr.read_lines(image, list(boxes))] if len(boxes) else []
        runs = [_Run(*ln.box.min(axis=0), *ln.box.max(axis=0), ln) for ln in lines]
        rows = reading_order(runs)
        words = tuple(w for n, row in enumerate(rows) for w in _row_words(row, n))
        return OcrResult(
            "\n".join(row_text(row) for row in rows),
            words,
            mean_confidence(words),
            f"rapidocr {_version('rapidocr')} (PP-OCR {ppocr.DET_MODEL.split('_')[0]}, onnxruntime)",
        )


@cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def simplified(line: ppocr.TextLine) -> ppocr.TextLine:
    """The run in Simplified Chinese, the script of every file here: PP-OCR's dictionary holds
    traditional forms too and now and then reads 静 as 靜, which no one searches for. OpenCC
    converts by phrase (乾隆 stays); a run whose length would change keeps its own reading, so
    each character keeps its position."""
    text = _t2s().convert(line.text)
    return replace(line, text=text) if text != line.text and len(text) == len(line.text) else line


TALL_RUN = 2.5  # runs this many times the usual height (a seal, a stamp, a big title) stand alone


def reading_order(runs: list[_Run]) -> list[list[_Run]]:
    """Runs grouped into lines, top to bottom, each left to right. A run joins the line whose
    vertical band (the mean of its runs') it overlaps by at least half the smaller height, so
    two columns whose lines sit half a line apart are not chained into one. A much taller run
    is a line of its own."""
    lines: list[tuple[list[float], list[_Run]]] = []
    usual = float(np.median([r.height for r in runs])) if runs else 0.0
    for run in sorted(runs, key=lambda r: (r.y0 + r.y1) / 2):
        if run.height > TALL_RUN * usual:
            lines.append(([run.y0, run.y1], [run]))
            continue
        best, best_overlap = None, 0.0
        for band, members in lines:
            if members[0].height > TALL_RUN * usual:
                continue
            overlap = min(run.y1, band[1]) - max(run.y0, band[0])
            need = 0.5 * min(run.height, band[1] - band[0])
            if overlap >= need and overlap > best_overlap:
                best, best_overlap = (band, members), overlap
        if best is None:
            lines.append(([run.y0, run.y1], [run]))
        else:
            band, members = best
            members.append(run)
            band[0] = sum(r.y0 for r in members) / len(members)
            band[1] = sum(r.y1 for r in members) / len(members)
    lines.sort(key=lambda bm: bm[0][0])
    return columns_apart([sorted(members, key=lambda r: r.x0) for _band, members in lines])


COLUMN_ROWS = 5  # lines with prose on both sides of a gutter before text counts as set in columns
PROSE_RUN = 6.0  # a run this many times longer than high is a line of prose, not a form cell
GUTTER = (0.3, 2.5)  # a column gutter's width, in line heights (a brochure: 0.5-1.5; a form's columns: wider)


def _free_around(row: list[_Run], gap: tuple[float, float]) -> tuple[float, float] | None:
    """The part of GAP no run of ROW covers, or None when a run crosses it."""
    lo, hi = gap
    for r in row:
        if r.x1 <= lo or r.x0 >= hi:
            continue
        if r.x0 <= lo < r.x1 < hi:
            lo = r.x1
        elif lo < r.x0 < hi <= r.x1:
            hi = r.x0
        else:
            return None
    return (lo, hi) if hi > lo else None


def _both_sides(row: list[_Run], gap: tuple[float, float]) -> bool:
    return _free_around(row, gap) is not None and row[0].x1 <= gap[0] + 1 and row[-1].x0 >= gap[1] - 1


def columns_apart(rows: list[list[_Run]]) -> list[list[_Run]]:
    """Text set in columns is read column by column. A gutter is a narrow gap between two
    lines of prose that no run crosses in the lines below it (a heading or a short last line
    on one side does not end it); where at least COLUMN_ROWS of those lines have prose on
    both sides, their left parts come first, then their right parts. A form's cells are short
    and its columns far apart, so a form's rows still read across, label then value."""

    def prose_gap(row: list[_Run]) -> tuple[float, float] | None:
        for a, b in pairwise(row):
            h = max(a.height, b.height)
            if GUTTER[0] * h <= b.x0 - a.x1 <= GUTTER[1] * h and min(a.x1 - a.x0, b.x1 - b.x0) >= PROSE_RUN * h:
                return a.x1, b.x0
        return None

    out: list[list[_Run]] = []
    i = 0
    while i < len(rows):
        gap = prose_gap(rows[i])
        j, end, both, prose_rows = i + 1, i + 1, 1, 1
        while gap is not None and j < len(rows):
            h = float(np.median([r.height for r in rows[j]]))
            free = _free_around(rows[j], gap)
            if free is None or free[1] - free[0] < GUTTER[0] * h:
                break
            gap = free
            both += prose_gap(rows[j]) is not None
            j += 1
            if _both_sides(rows[j - 1], gap):
                end, prose_rows = j, both  # the block ends with its last line that has text on both sides
        j = end
        if gap is not None and prose_rows >= COLUMN_ROWS:
            middle = (gap[0] + gap[1]) / 2
            if out and out[-1] is rows[i - 1] and _both_sides(rows[i - 1], gap):
                i -= 1  # the line above too: a heading on one side, the other column's first line
                out.pop()
            block = rows[i:j]
            out += [[r for r in row if r.x1 <= middle] for row in block]
            out += [[r for r in row if r.x1 > middle] for row in block]
            i = j
        else:
            out.append(rows[i])
            i += 1
    return [row for row in out if row]


_CJK_SPACE = re.compile(
    r"(?<=[\u3400-\u9fff\uff00-\uffef\u3000-\u303f])\s+(?=[\u3400-\u9fff\uff00-\uffef\u3000-\u303f])"
)


def _run_text(run: _Run) -> str:
    return _CJK_SPACE.sub("", run.line.text.strip())


def row_text(row: list[_Run]) -> str:
    """One line's text: runs touch unless a wide gap (a cell boundary) or two Latin ends
    meet, which get one space."""
    out, prev = "", None
    for run in row:
        text = _run_text(run)
        if not text:
            continue
        if prev is not None and out:
            gap = run.x0 - prev.x1
            latin = not (_CJK.match(out[-1]) or _CJK.match(text[0]))
            if gap > 0.8 * max(run.height, prev.height) or latin:
                out += " "
        out += text
        prev = run
    return out


def _row_words(row: list[_Run], line_no: int) -> list[Word]:
    """Words with boxes from the characters' positions the recogniser reported: a CJK
    character is a word of its own, a Latin or digit sequence one word."""
    words: list[Word] = []
    for run in row:
        ln = run.line
        crop_w = max(1.0, float(np.linalg.norm(ln.box[1] - ln.box[0])))
        scale = (run.x1 - run.x0) / crop_w
        chars = list(ln.text)  # one decoded step per character, spaces included
        xs = [run.x0 + x * scale for x in ln.xs]
        if len(xs) != len(chars):  # positions unknown: spread the characters evenly
            xs = [run.x0 + (i + 0.5) * (run.x1 - run.x0) / max(1, len(chars)) for i in range(len(chars))]
        confs = list(ln.char_scores) if len(ln.char_scores) == len(chars) else [ln.score] * len(chars)
        alts = list(ln.alternatives) if len(ln.alternatives) == len(chars) else [""] * len(chars)
        steps = np.diff(xs) if len(xs) > 1 else np.zeros(0)
        # a character's advance, from the recogniser's positions (the box has margins round the text)
        pitch = float(np.median(steps)) if len(steps) else min(0.8 * run.height, run.x1 - run.x0)
        for token in _tokens(chars):
            left, right = xs[token[0]] - pitch * 0.5, xs[token[-1]] + pitch * 0.5
            text = "".join(chars[i] for i in token)
            conf = 100 * min(confs[i] for i in token)
            alt = alts[token[0]] if len(token) == 1 else ""
            words.append(_word(text, left, run.y0, right - left, run.height, conf, line_no, alt))
    return words


def _tokens(chars: list[str]) -> list[list[int]]:
    """Indices of CHARS grouped into words: each CJK character alone, runs of anything else
    together, spaces between."""
    tokens: list[list[int]] = []
    latin: list[int] = []
    for i, ch in enumerate(chars):
        if ch.isspace() or _CJK.match(ch):
            if latin:
                tokens.append(latin)
                latin = []
            if not ch.isspace():
                tokens.append([i])
        else:
            latin.append(i)
    if latin:
        tokens.append(latin)
    return tokens


def _word(text, left, top, width, height, conf, line, alt) -> Word:
    return Word(
        text, int(left), int(top), max(1, round(float(width))), max(1, round(float(height))), round(conf, 1), line, alt
    )


@cache
def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


# --------------------------------------------------------------------------- choosing one

ENGINES: dict[str, type] = {"rapidocr": RapidOcrEngine, "tesseract": TesseractEngine}
if tuple(ENGINES) != ENGINE_NAMES:  # page.ENGINES is what options validate against
    raise ImportError("scanning.ocr.ENGINES and scanning.page.ENGINES disagree")


def get_engine(name: str) -> OcrEngine:
    """The engine NAME; PP-OCR falls back to Tesseract when its models cannot be loaded."""
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {', '.join(ENGINES)}")
    if name == "rapidocr" and not ppocr.available():
        _warn_fallback()
        return TesseractEngine()
    return ENGINES[name]()


@cache
def _warn_fallback() -> None:
    log.warning("PP-OCR models cannot be loaded (reinstall the rapidocr package): reading pages with Tesseract")
