"""A born-digital PDF page's own text: its characters and where they are drawn, read with
pdfium, and whether that text can be trusted.

A PDF written by a business system carries its exact text; OCRing the rendering would
replace it with character errors. The text is taken as it is, with a box per character
from the glyph positions, unless it is garbage: a font without a ToUnicode map yields
control characters, a wrong encoding yields Latin-1 mojibake or rare ideographs where
common ones are drawn. Such a page is OCRed instead, with a note saying why.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dangan.i18n import _
from dangan.scanning.page import Word

# Fewer visible characters than this is no text layer (a page number, a stray mark).
MIN_CHARS = 5
# Share of characters that are control, private-use, unassigned or replacement characters,
# or letters of scripts a Chinese business file does not use, above which the layer is garbage.
MAX_GARBAGE = 0.05
# Common Chinese text is ~99% GB2312 level-1 ideographs (the 3,755 most used); a wrong
# encoding that maps codes onto ideographs lands mostly elsewhere.
MIN_COMMON_HANZI = 0.6
MIN_HANZI_JUDGED = 20


@dataclass(frozen=True)
class TextLayer:
    text: str
    words: tuple[Word, ...]
    problem: str  # why the text cannot be used; '' when it can

    @property
    def usable(self) -> bool:
        return not self.problem and bool(self.words)


def read_text_layer(path: str | Path, page_no: int, size_px: tuple[int, int]) -> TextLayer | None:
    """The text of page PAGE_NO (1-based) with boxes in pixels of a rendering SIZE_PX (width,
    height) of the page as displayed (its /Rotate applied); None when the page has no text."""
    import pypdfium2 as pdfium
    from pypdfium2 import raw

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[page_no - 1]
        textpage = page.get_textpage()
        chars = _chars(textpage, raw, page, size_px)
    finally:
        pdf.close()
    if sum(1 for c in chars if c[0] and not c[0].isspace()) < MIN_CHARS:
        return None
    return text_layer(chars)


def picture_boxes(path: str | Path, page_no: int, size_px: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) in pixels of a rendering SIZE_PX of the page as displayed, of
    every picture drawn on page PAGE_NO (inside form XObjects too): where a born-digital page
    may carry text the text layer does not (a pasted scan, a signature block, a logo)."""
    import ctypes

    import pypdfium2 as pdfium
    from pypdfium2 import raw

    width, height = size_px
    boxes = []
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[page_no - 1]
        dx, dy = ctypes.c_int(), ctypes.c_int()
        for obj in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,)):
            left, bottom, right, top = obj.get_bounds()
            corners = []
            for x, y in ((left, top), (right, bottom)):
                raw.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
                corners.append((dx.value, dy.value))
            (x0, y0), (x1, y1) = corners
            box = (max(0, min(x0, x1)), max(0, min(y0, y1)), min(width, max(x0, x1)), min(height, max(y0, y1)))
            if box[2] > box[0] and box[3] > box[1]:
                boxes.append(box)
    finally:
        pdf.close()
    return boxes


def text_layer(chars: list[tuple[str, int, int, int, int, int]]) -> TextLayer:
    """The text layer of (character, left, top, right, bottom, line) in reading order."""
    text = layer_text(chars)
    problem = garbage_reason(text)
    return TextLayer(text, () if problem else layer_words(chars), problem)


def _chars(textpage, raw, page, size_px: tuple[int, int]) -> list[tuple[str, int, int, int, int, int]]:
    """(character, left, top, right, bottom, line) per character, in the order the page holds
    them; a line break pdfium infers ends a line."""
    import ctypes

    width, height = size_px
    out = []
    line = 0
    dx, dy = ctypes.c_int(), ctypes.c_int()
    for i in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage.raw, i)
        ch = chr(code) if 0 < code < 0x110000 else "\ufffd"
        if ch in "\r\n":
            if ch == "\n":
                line += 1
            continue
        if raw.FPDFText_IsGenerated(textpage.raw, i) == 1 and not ch.isspace():
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        corners = []
        for x, y in ((left, top), (right, bottom)):
            raw.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
            corners.append((dx.value, dy.value))
        (x0, y0), (x1, y1) = corners
        out.append((ch, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), line))
    return out


def layer_text(chars) -> str:
    lines: dict[int, list[str]] = {}
    for ch, *_box, line in chars:
        lines.setdefault(line, []).append(ch)
    return "\n".join("".join(cs).strip() for _n, cs in sorted(lines.items()))


def layer_words(chars) -> tuple[Word, ...]:
    """A word per ideograph or punctuation mark, and per run of Latin letters and digits
    (an account number stays one word), like OCR words; line numbers from 0 without gaps."""
    runs: list[list] = []
    for c in chars:
        ch = c[0]
        if ch.isspace():
            runs.append([])
            continue
        last = runs[-1][-1] if runs and runs[-1] else None
        if last is not None and _latin(ch) and _latin(last[0]) and last[5] == c[5]:
            runs[-1].append(c)
        else:
            runs.append([c])
    lines = {n: i for i, n in enumerate(sorted({r[0][5] for r in runs if r}))}
    words = []
    for run in runs:
        if not run:
            continue
        left, top = min(c[1] for c in run), min(c[2] for c in run)
        right, bottom = max(c[3] for c in run), max(c[4] for c in run)
        text = "".join(c[0] for c in run)
        words.append(Word(text, left, top, max(1, right - left), max(1, bottom - top), 100.0, lines[run[0][5]]))
    return tuple(words)


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def garbage_reason(text: str) -> str:
    """Why TEXT, as a PDF's text layer gives it, is not the text drawn on the page ('' when
    it looks like it is)."""
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return ""
    bad = sum(1 for c in visible if _garbage_char(c))
    if bad > MAX_GARBAGE * len(visible):
        return _(
            "its text layer is garbage ({share:.0%} of the characters are control codes or of the wrong "
            "script: a font without a ToUnicode map or a wrong encoding); the page was OCRed instead"
        ).format(share=bad / len(visible))
    hanzi = [c for c in visible if "\u4e00" <= c <= "\u9fff"]
    if len(hanzi) >= MIN_HANZI_JUDGED:
        common = sum(1 for c in hanzi if _gb2312_level1(c))
        if common < MIN_COMMON_HANZI * len(hanzi):
            return _(
                "its text layer does not read as Chinese (only {share:.0%} of its characters are common ones: "
                "a wrong encoding); the page was OCRed instead"
            ).format(share=common / len(hanzi))
    return ""


def _garbage_char(c: str) -> bool:
    if c == "\ufffd":
        return True
    category = unicodedata.category(c)
    if category in ("Cc", "Co", "Cn", "Cs"):
        return True
    # Latin-1 letters (Ã, Â, é…), Cyrillic, Greek, Arabic, Hangul: mojibake in a Chinese file
    return category.startswith("L") and not c.isascii() and not _cjk(c)


def _cjk(c: str) -> bool:
    o = ord(c)
    return (
        0x3000 <= o <= 0x30FF  # CJK punctuation, kana
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x3FFFF
    )


def _gb2312_level1(c: str) -> bool:
    try:
        b = c.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xD7
