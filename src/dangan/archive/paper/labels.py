"""Printed labels for folders and boxes: a QR code and the code in large type.

The QR carries only the code (a folder's archive number, a box's code): never a name,
an ID number or an address, because labels are read by anyone who walks past the shelf.
The small line of category text may go stale after a reclassification, so the print
date is on the label; the number and the QR never change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.identifiers import InvalidIdentifier, validate_account_number, validate_work_order
from dangan.archive.models import ArchiveRecord, BusinessCase
from dangan.archive.paper.locations import LocationError, box_path, find_folder, get_box
from dangan.archive.records.accession import find_customer
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber
from dangan.errors import DanganError
from dangan.i18n import _

FONT_PATHS = (("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0), ("/usr/share/fonts/truetype/arphic/uming.ttc", 0))
FONT_NAME = "DanganCJK"
MM = 72 / 25.4
SIZES = {"folder": (90 * MM, 50 * MM), "box": (100 * MM, 150 * MM)}


class LabelError(DanganError, ValueError):
    pass


@dataclass(frozen=True)
class LabelContent:
    kind: str  # folder | box
    code: str
    qr_payload: str  # exactly what the QR encodes: the code, nothing personal
    big: str  # the human-readable code, large
    lines: tuple[str, ...]  # small print: category, location, folder list


def label_content(
    session: Session, kind: str, code: str, *, business_names: dict[str, str] | None = None
) -> LabelContent:
    if kind == "folder":
        return _folder_label(session, code, business_names or {})
    if kind == "box":
        return _box_label(session, code)
    raise LabelError(_("unknown label kind {kind!r}; kinds: folder, box").format(kind=kind))


def _folder_label(session: Session, code: str, names: dict[str, str]) -> LabelContent:
    folder = find_folder(session, code)
    if folder is not None:
        records = folder.records
        key = folder.code
    else:  # a label may be printed for a record before its folder is shelved
        try:
            number = str(ArchiveNumber.parse(code))
        except InvalidArchiveNumber as e:
            raise LabelError(
                _("{code!r} is neither a folder code nor an archive number: {e}").format(code=code, e=e)
            ) from None
        record = session.scalar(select(ArchiveRecord).filter_by(number=number))
        if record is None:
            raise LabelError(_("no record numbered {number}").format(number=number))
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


def write_labels(
    session: Session,
    kind: str,
    codes: Iterable[str],
    out: str | Path,
    *,
    printed_on: date | None = None,
    business_names: dict[str, str] | None = None,
) -> list[LabelContent]:
    """Write one label per page (label-printer sized) to OUT; return what was printed."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    contents = [label_content(session, kind, c, business_names=business_names) for c in codes]
    if not contents:
        raise LabelError(_("no codes given: nothing to print"))
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
            head, _dot, tail = label.big.partition("·")
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
        for line in label.lines[:20]:
            canvas.drawString(text_x, y, line)
            y -= 9
        canvas.setFont(font, 6)
        canvas.drawString(margin, margin / 2, f"打印 {printed_on.isoformat()}")
        canvas.showPage()
    canvas.save()
    return contents


# --------------------------------------------------------------------------- cover sheets
# An A4 sheet put in front of each customer folder before a mixed batch goes through the
# scanner: the batch starts a new record at each cover and links it to what the QR names.
# The QR carries a short machine code only; name and business type are printed for people.

COVER_PREFIX = "DANGAN:"
_COVER_TAGS = {"record": "", "work_order": "WO:", "account": "ACCT:"}
COVER_KIND_NAMES = {"record": "archive number", "work_order": "work order", "account": "户号"}
_COVER_KIND_LABELS = {"record": "档案号 (补充材料)", "work_order": "工单编号", "account": "户号"}


class CoverCodeError(LabelError):
    """Text that is not a usable cover code, said so a person can act on it."""


@dataclass(frozen=True)
class CoverCode:
    """What a cover sheet says the pages after it belong to."""

    kind: str  # record (an existing record: the pages are a supplement) | work_order | account
    value: str  # the archive number, work-order number or 户号, normalised

    @property
    def payload(self) -> str:
        """Exactly what the QR code carries."""
        return COVER_PREFIX + _COVER_TAGS[self.kind] + self.value

    def __str__(self) -> str:
        return f"{COVER_KIND_NAMES[self.kind]} {self.value}"


def cover_code(key: str) -> CoverCode:
    """A cover code from what a person types: an archive number, a 10-digit 户号, a 16-digit
    work-order number, or a whole DANGAN:… payload."""

    key = key.strip()
    if key.upper().startswith(COVER_PREFIX):
        return parse_cover_payload(key)
    digits = key.replace(" ", "")
    try:
        if digits.isdigit() and len(digits) == 10:
            return CoverCode("account", validate_account_number(digits))
        if digits.isdigit() and len(digits) == 16:
            return CoverCode("work_order", validate_work_order(digits))
        if digits.isdigit():
            raise CoverCodeError(
                _("{key!r}: a 户号 has 10 digits and a work-order number 16; this has {n}").format(
                    key=key, n=len(digits)
                )
            )
        return CoverCode("record", str(ArchiveNumber.parse(key)))
    except (InvalidIdentifier, InvalidArchiveNumber) as e:
        raise CoverCodeError(str(e)) from None


def parse_cover_payload(text: str) -> CoverCode:
    """The code a cover's QR payload names; CoverCodeError for a DANGAN code we cannot use."""

    if not text.upper().startswith(COVER_PREFIX):
        raise CoverCodeError(
            _("{text!r} is not a dangan cover code (it must start with {COVER_PREFIX})").format(
                text=text, COVER_PREFIX=COVER_PREFIX
            )
        )
    body = text[len(COVER_PREFIX) :].strip()
    try:
        if body.upper().startswith("WO:"):
            return CoverCode("work_order", validate_work_order(body[3:]))
        if body.upper().startswith("ACCT:"):
            return CoverCode("account", validate_account_number(body[5:]))
        return CoverCode("record", str(ArchiveNumber.parse(body)))
    except (InvalidIdentifier, InvalidArchiveNumber) as e:
        raise CoverCodeError(_("cover code {text!r}: {e}").format(text=text, e=e)) from None


@dataclass(frozen=True)
class CoverContent:
    code: CoverCode
    lines: tuple[str, ...]  # for people: customer, business type, what to do with the sheet

    @property
    def qr_payload(self) -> str:
        return self.code.payload


def cover_content(session: Session, key: str, *, business_names: dict[str, str] | None = None) -> CoverContent:
    """What a cover for KEY shows. An archive number must exist (the pages will be its
    supplement); a work order or 户号 may not be in the archive yet."""

    names = business_names or {}
    code = cover_code(key)
    customer, business, work_order = None, "", ""
    if code.kind == "record":
        record = session.scalar(select(ArchiveRecord).filter_by(number=code.value))
        if record is None:
            raise CoverCodeError(
                _("no record numbered {value}: a cover for new pages names their work order or 户号").format(
                    value=code.value
                )
            )
        customer, case = record.customer, record.case
        cls = record.classification
        business = (cls.business_type if cls else "") or (case.business_type if case else "")
        work_order = case.work_order if case and case.work_order else ""
    elif code.kind == "work_order":
        case = session.scalar(select(BusinessCase).filter_by(work_order=code.value))
        customer = case.customer if case else None
        business = case.business_type if case else ""
    else:
        customer = find_customer(session, code.value)
    lines = []
    if customer is not None:
        lines.append(f"户名 {customer.name}" if customer.name else "")
        if code.kind != "account":
            lines.append(f"户号 {customer.account_number}")
    elif code.kind != "record":
        lines.append("(尚未在档案系统中 / not yet in the archive)")
    if work_order:
        lines.append(f"工单编号 {work_order}")
    if business:
        lines.append(f"业务类型 {names.get(business, business)} ({business})")
    return CoverContent(code, tuple(x for x in lines if x))


def write_covers(
    session: Session,
    keys: Iterable[str],
    out: str | Path,
    *,
    printed_on: date | None = None,
    business_names: dict[str, str] | None = None,
) -> list[CoverContent]:
    """Write one A4 cover sheet per KEY to OUT, in the order given; return what was printed."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen.canvas import Canvas

    contents = [cover_content(session, k, business_names=business_names) for k in keys]
    if not contents:
        raise LabelError(_("no codes given: nothing to print"))
    printed_on = printed_on or date.today()
    font = _font()
    width, height = A4
    margin = 20 * MM
    canvas = Canvas(str(out), pagesize=A4)
    canvas.setTitle("dangan cover sheets")
    for cover in contents:
        canvas.setFont(font, 20)
        canvas.drawCentredString(width / 2, height - margin - 10, "档案扫描封面 · SCAN COVER SHEET")
        qr_size = 70 * MM  # large and alone on the page: found on a downscaled scan, read at any skew
        widget = QrCodeWidget(cover.qr_payload, barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
        drawing.add(widget)
        top = height - margin - 25 * MM
        renderPDF.draw(drawing, canvas, (width - qr_size) / 2, top - qr_size)
        y = top - qr_size - 18 * MM
        canvas.setFont(font, 12)
        canvas.drawCentredString(width / 2, y + 10 * MM, _COVER_KIND_LABELS[cover.code.kind])
        big = cover.code.value
        size = min(34.0, (width - 2 * margin) / max(stringWidth(big, font, 1), 1))
        canvas.setFont(font, size)
        canvas.drawCentredString(width / 2, y - size * 0.3, big)
        y -= size + 12 * MM
        canvas.setFont(font, 14)
        for line in cover.lines:
            canvas.drawCentredString(width / 2, y, line)
            y -= 22
        canvas.setFont(font, 10)
        canvas.drawString(
            margin, margin + 14, "放在本卷第一页之前，与本卷一同扫描。Scan in front of the folder's first page."
        )
        canvas.drawString(margin, margin, f"打印 {printed_on.isoformat()}")
        canvas.showPage()
    canvas.save()
    return contents
