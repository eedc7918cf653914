"""Printed labels for folders and boxes: a QR code and the code in large type.

The QR carries only the code (a folder's archive number, a box's code): never a name,
an ID number or an address, because labels are read by anyone who walks past the shelf.
The small line of category text may go stale after a reclassification, so the print
date is on the label; the number and the QR never change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.locations import LocationError, box_path, find_folder, get_box
from archive.models import ArchiveRecord
from archive.numbering import ArchiveNumber, InvalidArchiveNumber

FONT_PATHS = (("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
              ("/usr/share/fonts/truetype/arphic/uming.ttc", 0))
FONT_NAME = "DanganCJK"
MM = 72 / 25.4
SIZES = {"folder": (90 * MM, 50 * MM), "box": (100 * MM, 150 * MM)}


class LabelError(ValueError):
    pass


@dataclass(frozen=True)
class LabelContent:
    kind: str            # folder | box
    code: str
    qr_payload: str      # exactly what the QR encodes: the code, nothing personal
    big: str             # the human-readable code, large
    lines: tuple[str, ...]  # small print: category, location, folder list


def label_content(session: Session, kind: str, code: str, *, business_names: dict[str, str] | None = None
                  ) -> LabelContent:
    if kind == "folder":
        return _folder_label(session, code, business_names or {})
    if kind == "box":
        return _box_label(session, code)
    raise LabelError(f"unknown label kind {kind!r}; kinds: folder, box")


def _folder_label(session: Session, code: str, names: dict[str, str]) -> LabelContent:
    folder = find_folder(session, code)
    if folder is not None:
        records = folder.records
        key = folder.code
    else:  # a label may be printed for a record before its folder is shelved
        try:
            number = str(ArchiveNumber.parse(code))
        except InvalidArchiveNumber as e:
            raise LabelError(f"{code!r} is neither a folder code nor an archive number: {e}") from None
        record = session.scalar(select(ArchiveRecord).filter_by(number=number))
        if record is None:
            raise LabelError(f"no record numbered {number}")
        records, key = [record], number
    lines = []
    for r in records:
        cls = r.classification
        bt = cls.business_type if cls else ""
        lines.append(f"{r.number}  {names.get(bt, bt)}".strip() if len(records) > 1 else f"{names.get(bt, bt)}")
    return LabelContent("folder", key, key, key, tuple(x for x in lines if x))


def _box_label(session: Session, code: str) -> LabelContent:
    try:
        box = get_box(session, code)
    except LocationError as e:
        raise LabelError(str(e)) from None
    path = " / ".join(box_path(box)[:-1])
    lines = ((f"位置 {path}",) if path else ()) + tuple(f.code for f in box.folders)
    return LabelContent("box", box.code, box.code, box.code, lines)


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    for path, index in FONT_PATHS:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
            return FONT_NAME
    return "Helvetica"  # no CJK font: category text may not render, codes still do


def write_labels(session: Session, kind: str, codes: Iterable[str], out: str | Path, *,
                 printed_on: date | None = None, business_names: dict[str, str] | None = None) -> list[LabelContent]:
    """Write one label per page (label-printer sized) to OUT; return what was printed."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    contents = [label_content(session, kind, c, business_names=business_names) for c in codes]
    if not contents:
        raise LabelError("no codes given: nothing to print")
    printed_on = printed_on or date.today()
    font = _font()
    width, height = SIZES[kind]
    canvas = Canvas(str(out), pagesize=(width, height))
    canvas.setTitle(f"dangan {kind} labels")
    margin = 4 * MM
    for label in contents:
        qr_size = min(height - 2 * margin, 42 * MM) if kind == "folder" else 60 * MM
        widget = QrCodeWidget(label.qr_payload, barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
        drawing.add(widget)
        if kind == "folder":
            renderPDF.draw(drawing, canvas, margin, height - margin - qr_size)
            text_x, text_w = margin * 2 + qr_size, width - qr_size - 3 * margin
            big_y = height / 2
        else:
            renderPDF.draw(drawing, canvas, (width - qr_size) / 2, height - margin - qr_size)
            text_x, text_w = margin, width - 2 * margin
            big_y = height - 2 * margin - qr_size - 12 * MM
        # the number is what people read: as large as fits the width
        size = min(28.0, text_w / max(stringWidth(label.big, font, 1), 1))
        if kind == "folder":  # long numbers wrap after the fonds-category part
            head, _, tail = label.big.partition("·")
            if tail:
                size = min(22.0, text_w / max(stringWidth(tail, font, 1), 1))
                canvas.setFont(font, size)
                canvas.drawString(text_x, big_y + size * 0.6, head + "·")
                canvas.drawString(text_x, big_y - size * 0.6, tail)
            else:
                canvas.setFont(font, size)
                canvas.drawString(text_x, big_y, label.big)
        else:
            canvas.setFont(font, size)
            canvas.drawCentredString(width / 2, big_y, label.big)
        canvas.setFont(font, 7)
        y = big_y - 3 * size if kind == "folder" else big_y - 10 * MM
        for line in label.lines[: 20]:
            canvas.drawString(text_x, y, line)
            y -= 9
        canvas.setFont(font, 6)
        canvas.drawString(margin, margin / 2, f"打印 {printed_on.isoformat()}")
        canvas.showPage()
    canvas.save()
    return contents
