"""Text that is only a picture on a born-digital page: a pasted scan, a signature block, a logo
in a generated PDF or OFD carries words its text layer does not. The pictures' regions of the
page are OCRed and their words added to the page's own, after them, with their boxes; words
where the text layer already has text are left out (text drawn over a picture is the layer's),
and so are words read with little confidence (a QR code or an emblem reads as stray marks).

The page says so (a flag to check them, its OCR engine "text-layer + ENGINE", and a field
text_in_pictures with the words, their boxes and the pictures read), so they are known for
what they are. A picture smaller than a line of short text is not read."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dangan.i18n import N_, kept_plural
from dangan.scanning.ocr import get_engine, text_from_words
from dangan.scanning.page import PageState, PipelineOptions, Word

MIN_SHORT_PT = 8.0  # a picture lower (or narrower) than a line of 8-point text holds none
MIN_LONG_PT = 16.0  # ... and one shorter than two such characters holds no word
MIN_CONF = 60.0  # measured: stray reads in emblems and a QR code score 0-34 (both engines), real words 99-100
MAX_LAYER_OVERLAP = 0.3  # share of an OCR word's box under the text layer's words: already there

PICTURE_FIELD = "text_in_pictures"
Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels of the page image


def big_enough(box: Box, dpi: int) -> bool:
    k = dpi / 72.0
    short, long = sorted((box[2] - box[0], box[3] - box[1]))
    return short >= MIN_SHORT_PT * k and long >= MIN_LONG_PT * k


def read_pictures(page: PageState, boxes: tuple[Box, ...], options: PipelineOptions) -> PageState:
    """PAGE (its text and words from its own text layer) with the words OCR reads in the
    pictures at BOXES added; unchanged when they hold none."""
    boxes = tuple(b for b in boxes if big_enough(b, page.dpi))
    if not boxes:
        return page
    engine = get_engine(options.engine)
    layer = [(w.left, w.top, w.left + w.width, w.top + w.height) for w in page.words]
    next_line = max((w.line for w in page.words), default=-1) + 1
    added: list[Word] = []
    read: list[Box] = []
    for left, top, right, bottom in boxes:
        crop = np.ascontiguousarray(page.image[top:bottom, left:right])
        result = engine.recognise(crop, options)
        words = [
            replace(w, left=w.left + left, top=w.top + top, line=w.line + next_line)
            for w in result.words
            if w.conf >= MIN_CONF and w.text.strip()
        ]
        words = [w for w in words if not _under_layer(w, layer)]
        if words:
            read.append((left, top, right, bottom))
            next_line = max(w.line for w in words) + 1
            added += words
    if not added:
        return page
    read_text = text_from_words(added)
    text = "\n".join(t for t in (page.text, read_text) if t)
    marked = {
        "value": read_text,
        "confidence": round(sum(w.conf for w in added) / len(added), 1),
        "valid": True,
        "engine": engine.name,
        "pictures": [list(b) for b in read],
        "words": [[w.text, w.left, w.top, w.width, w.height, round(w.conf, 1), w.line] for w in added],
    }
    page = replace(
        page,
        text=text,
        words=page.words + tuple(added),
        ocr_engine=f"{page.ocr_engine} + {engine.name}" if page.ocr_engine else engine.name,
        fields={**page.fields, PICTURE_FIELD: marked},
    )
    read_words = kept_plural(
        "{n} word was read by OCR in pictures on the page",
        "{n} words were read by OCR in pictures on the page",
        len(added),
        n=len(added),
    )
    return page.with_flag(
        "text_in_pictures", "warn", N_("{read}, not taken from its text layer: check them"), read=read_words
    )


def _under_layer(w: Word, layer: list[Box]) -> bool:
    area = max(1, w.width * w.height)
    for left, top, right, bottom in layer:
        dx = min(right, w.left + w.width) - max(left, w.left)
        dy = min(bottom, w.top + w.height) - max(top, w.top)
        if dx > 0 and dy > 0 and dx * dy > MAX_LAYER_OVERLAP * area:
            return True
    return False
