"""Born-digital files as business systems write them, for tests and demos: PDFs with a real
Chinese text layer (reportlab, an embedded TrueType font), mixed with scanned pages, and
one whose text layer is broken the way real ones are (no ToUnicode map)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

# TrueType outlines: reportlab embeds TrueType, not the CFF outlines of Noto CJK.
FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
FONT_NAME = "WenQuanYiZenHei"
A4_PT = (595.2756, 841.8898)
LEFT_PT = 72.0
TOP_PT = 90.0  # first baseline, from the top edge
SIZE_PT = 14.0
LEADING_PT = 24.0


@dataclass(frozen=True)
class DrawnLine:
    """Where a line of text was drawn: its page (1-based), left edge and baseline from the
    top of the page, in points."""

    page: int
    text: str
    left_pt: float
    baseline_pt: float


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, FONT_FILE, subfontIndex=0))
    return FONT_NAME


def write_born_digital_pdf(
    path: str | Path | BinaryIO, pages: Sequence[Sequence[str] | Image.Image]
) -> list[DrawnLine]:
    """A PDF whose pages are either lines of text (drawn with the text layer a business
    system writes) or a scanned sheet (an image filling the page, no text). Returns where
    each line was drawn."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    font = _font()
    canvas = Canvas(str(path) if isinstance(path, (str, Path)) else path, pagesize=A4_PT, invariant=1)
    drawn: list[DrawnLine] = []
    for number, content in enumerate(pages, start=1):
        if isinstance(content, Image.Image):
            buf = io.BytesIO()
            content.convert("RGB").save(buf, format="JPEG", quality=90)
            buf.seek(0)
            canvas.drawImage(ImageReader(buf), 0, 0, width=A4_PT[0], height=A4_PT[1])
        else:
            canvas.setFont(font, SIZE_PT)
            for i, line in enumerate(content):
                baseline = TOP_PT + i * LEADING_PT
                canvas.drawString(LEFT_PT, A4_PT[1] - baseline, line)
                drawn.append(DrawnLine(number, line, LEFT_PT, baseline))
        canvas.showPage()
    canvas.save()
    return drawn


def break_text_layer(src: str | Path, dst: str | Path) -> None:
    """DST: SRC with its fonts' ToUnicode maps unlinked (same length, so the cross-reference
    table stays valid): the pages look the same, their text extracts as control codes."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data.replace(b"/ToUnicode", b"/ToUnicodX"))
