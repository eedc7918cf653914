"""A record as one searchable PDF: each current page's derived image, full page, with the
OCR words laid over it as invisible text (render mode 3) at their boxes.

The PDF page is the image's size at its dpi (2480×3508 px at 300 dpi → 595×842 pt, A4), the
JPEG is embedded as stored (no re-encoding), and each word is set in an embedded CJK
TrueType font, sized so a Han glyph's ink fills the line's median box height, sat on the
line's ink bottom and stretched (horizontal scaling) to the box — so a PDF viewer's selection
lies on the printed characters, and pdftotext and full-text search tools read the text in line
order. The export is an "export" event in the
audit log with the file's SHA-256.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.events import EXPORT
from dangan.archive.models import Page
from dangan.archive.records.views import find_record
from dangan.archive.store import FileStore, sha256_file
from dangan.errors import DanganError

# TrueType CJK fonts reportlab can embed (it cannot embed the CFF-outline Noto CJK OTFs).
CJK_FONTS = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
)
FONT_NAME = "DanganCJK"
POINTS_PER_INCH = 72.0


class ExportError(DanganError):
    pass


@dataclass(frozen=True)
class PdfExport:
    number: str
    path: str
    pages: int
    words: int
    size: int
    sha256: str
    event_seq: int


@dataclass(frozen=True)
class _Font:
    name: str
    above: float  # a Han character's ink above the baseline, in em
    below: float  # and below it


T = TypeVar("T")


def written_whole(out: Path, write: Callable[[str], T]) -> T:
    """WRITE's result, having written OUT's content into a temporary file beside it and renamed
    it into place: a reader never sees half an export under the real name."""
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    os.close(fd)
    try:
        result = write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


@lru_cache(maxsize=1)
def cjk_font() -> _Font:
    """Register the first CJK TrueType font found, with where its Han glyphs put their ink
    (OCR boxes are ink boxes: the font's size and baseline are derived from them)."""
    from PIL import ImageFont
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path, index in CJK_FONTS:
        if os.path.exists(path):
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
            probe = ImageFont.truetype(path, 1000, index=index)
            boxes = [probe.getbbox(ch, anchor="ls") for ch in "国申户号电容量"]
            above = -sum(b[1] for b in boxes) / len(boxes) / 1000
            below = sum(b[3] for b in boxes) / len(boxes) / 1000
            return _Font(FONT_NAME, above, below)
    raise ExportError(
        "no CJK TrueType font for the text layer: install fonts-wqy-zenhei "
        f"(looked for {', '.join(p for p, _ in CJK_FONTS)})"
    )


def current_pages(record) -> list[Page]:
    """The record's pages in image order, replaced (rescanned) pages left out."""
    return sorted((p for d in record.documents for p in d.pages), key=lambda p: p.seq)


def export_pdf(session: Session, key: str, store: FileStore, out: str | os.PathLike, *, actor: str) -> PdfExport:
    """Write record KEY (archive number or 户号) as a searchable PDF at OUT; log the export."""
    record = find_record(session, key)
    pages = current_pages(record)
    if not pages:
        raise ExportError(f"{record.number} has no pages to export")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    title = record.title or record.number
    words = written_whole(out, lambda tmp: write_pdf(tmp, pages, store, title=title, subject=record.number))
    sha, size = sha256_file(out), out.stat().st_size
    event = events.record_event(
        session,
        EXPORT,
        actor,
        "record",
        record.number,
        {
            "format": "application/pdf",
            "what": "searchable PDF",
            "file": out.name,
            "sha256": sha,
            "size": size,
            "pages": len(pages),
            "page_ids": [p.id for p in pages],
        },
    )
    return PdfExport(record.number, str(out), len(pages), words, size, sha, event.seq)


def write_pdf(
    path: str | os.PathLike, pages: Iterable[Page], store: FileStore, *, title: str = "", subject: str = ""
) -> int:
    """Write PAGES (image + invisible text) to PATH; return the number of words placed."""
    from reportlab.pdfgen.canvas import Canvas

    font = cjk_font()
    c = Canvas(str(path), pageCompression=1)
    c.setTitle(title)
    c.setSubject(subject)
    c.setCreator("dangan")
    placed = 0
    for p in pages:
        if not p.derived_path:
            raise ExportError(f"page {p.seq} has no derived image to export")
        dpi = p.dpi or 300
        scale = POINTS_PER_INCH / dpi  # pixels → points
        w_pt, h_pt = p.width * scale, p.height * scale
        c.setPageSize((w_pt, h_pt))
        c.drawImage(str(store.path(p.derived_path)), 0, 0, width=w_pt, height=h_pt)
        placed += _text_layer(c, p.words or [], scale, h_pt, font)
        c.showPage()
    c.save()
    return placed


def _text_layer(c, words: list[list], scale: float, page_h: float, font: _Font) -> int:
    """Invisible words at their boxes, line by line. A wide gap within a line (a form's cell
    boundary) stays a gap, which text extraction reads as a space."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: dict[int, list[list]] = {}
    for w in words:
        if str(w[0]).strip() and w[3] > 0 and w[4] > 0:
            lines.setdefault(int(w[6]), []).append(w)
    t = c.beginText()
    t.setTextRenderMode(3)  # neither fill nor stroke: invisible, still selectable and searchable
    n = 0
    for line_no in sorted(lines):
        line = sorted(lines[line_no], key=lambda w: w[1])
        # One size and baseline per line, from the median box: a flat glyph such as 一 has a
        # thin ink box, and sizing it alone would drop it off the line for text extraction.
        median = _median([w[4] for w in line])
        bottom = _median([w[2] + w[4] for w in line])
        size = max(1.0, median * scale / (font.above + font.below))  # a Han glyph's ink fills the box
        baseline = page_h - bottom * scale + font.below * size
        # Half of each narrow gap goes to the word on either side: the words meet (no space
        # for text extraction, no hole in a selection) and each glyph stays centred on its ink.
        gaps = [line[i + 1][1] - (w[1] + w[3]) for i, w in enumerate(line[:-1])]
        narrow = [g / 2 if 0 < g <= 1.2 * median else 0 for g in gaps]
        for i, (text, left, top, width, height, *_rest) in enumerate(line):
            text = str(text).strip()
            before = narrow[i - 1] if i > 0 else 0
            after = narrow[i] if i < len(narrow) else 0
            left, span = left - before, width + before + after
            natural = stringWidth(text, font.name, size)
            if natural <= 0:
                continue
            t.setFont(font.name, size)
            t.setHorizScale(100.0 * span * scale / natural)
            t.setTextOrigin(left * scale, baseline)
            t.textOut(text)
            n += 1
    c.drawText(t)
    return n


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]
