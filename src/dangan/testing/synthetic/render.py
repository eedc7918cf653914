"""Forms drawn as A4 page images: fonts, layout, form grids, ID cards, licences, red seals."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dangan.testing.synthetic.forms import CONTENT
from dangan.testing.synthetic.people import CaseProfile

# --------------------------------------------------------------------------------------------
# Fonts

_NOTO = "/usr/share/fonts/opentype/noto/"
FONT_FACES: dict[str, tuple[str, int]] = {
    "song": (_NOTO + "NotoSerifCJK-Regular.ttc", 2),  # Noto Serif CJK SC
    "song_bold": (_NOTO + "NotoSerifCJK-Bold.ttc", 2),
    "hei": (_NOTO + "NotoSansCJK-Regular.ttc", 2),  # Noto Sans CJK SC
    "hei_bold": (_NOTO + "NotoSansCJK-Bold.ttc", 2),
    "kai": ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),  # AR PL UKai CN
    "ming": ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # AR PL UMing CN
}
BODY_FACES = ("song", "ming", "kai", "hei")

A4_MM = (210.0, 297.0)
MM_PER_INCH = 25.4


@lru_cache(maxsize=256)
def font(face: str, size_px: int) -> ImageFont.FreeTypeFont:
    """A cached font of the given face at a pixel size."""
    if face not in FONT_FACES:
        raise ValueError(f"unknown font face {face!r}; choose one of {sorted(FONT_FACES)}")
    path, index = FONT_FACES[face]
    return ImageFont.truetype(path, size_px, index=index)


def a4_pixels(dpi: int) -> tuple[int, int]:
    """Width and height in pixels of an A4 sheet scanned at ``dpi``."""
    return round(A4_MM[0] / MM_PER_INCH * dpi), round(A4_MM[1] / MM_PER_INCH * dpi)


# --------------------------------------------------------------------------------------------
# Layout: draw blocks on A4 sheets and record what was printed


@dataclass
class RenderedPage:
    """One clean, upright page and exactly what is printed on it."""

    image: Image.Image
    lines: list[str]
    doc_type: str
    title: str  # title printed on this page ('' on continuation pages)
    doc_page: int  # 1-based page within the document
    has_seal: bool = False
    seal_text: str = ""
    dpi: int = 300
    face: str = "song"

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


_MEASURE_DPI = 600


class _Sheet:
    """Cursor-based drawing on one A4 sheet in millimetres."""

    MARGIN = 20.0

    def __init__(self, dpi: int, face: str, title_face: str) -> None:
        self.dpi, self.face, self.title_face = dpi, face, title_face
        self.image = Image.new("RGB", a4_pixels(dpi), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.y = 18.0
        self.lines: list[str] = []
        self.seal_text = ""
        self.last_sign_y = 0.0

    def px(self, mm: float) -> int:
        return round(mm / MM_PER_INCH * self.dpi)

    def font(self, pt: float, face: str | None = None) -> ImageFont.FreeTypeFont:
        return font(face or self.face, max(8, round(pt / 72 * self.dpi)))

    @property
    def width(self) -> float:
        return A4_MM[0] - 2 * self.MARGIN

    def fits(self, height_mm: float) -> bool:
        return self.y + height_mm < A4_MM[1] - 22

    def text_at(
        self,
        x_mm: float,
        y_mm: float,
        text: str,
        pt: float,
        *,
        face: str | None = None,
        fill=(0, 0, 0),
        anchor: str = "lm",
    ) -> None:
        self.draw.text((self.px(x_mm), self.px(y_mm)), text, font=self.font(pt, face), fill=fill, anchor=anchor)

    def text_width_mm(self, text: str, pt: float, face: str | None = None) -> float:
        # measured at a fixed reference resolution so line breaks (and so the truth text)
        # do not depend on the scan dpi
        ref = font(face or self.face, round(pt / 72 * _MEASURE_DPI))
        return ref.getlength(text) / _MEASURE_DPI * MM_PER_INCH


def _fit_pt(sheet: _Sheet, text: str, width_mm: float, pt: float) -> float:
    """Shrink the font until the text fits its cell (forms squeeze long values)."""
    while pt > 7 and sheet.text_width_mm(text, pt) > width_mm:
        pt -= 0.5
    return pt


_NO_LINE_START = "，。、；：！？）》」』”’%）"


def _wrap(sheet: _Sheet, text: str, width_mm: float, pt: float, indent: int = 0) -> list[str]:
    """Break text into lines that fit the width, measuring each character (CJK has no spaces)."""
    lines, current = [], "\u3000" * indent
    for ch in text:
        # closing punctuation never starts a line (Chinese line-breaking rule): let it hang
        if sheet.text_width_mm(current + ch, pt) > width_mm and current.strip() and ch not in _NO_LINE_START:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current.strip():
        lines.append(current)
    return lines


BODY_PT = 11.0
TITLE_PT = 20.0


def _draw_title(sheet: _Sheet, title: str) -> None:
    sheet.text_at(A4_MM[0] / 2, sheet.y + 6, title, TITLE_PT, face=sheet.title_face, anchor="mm")
    sheet.lines.append(title)
    sheet.y += 16


def _draw_meta(sheet: _Sheet, left: str, right: str) -> None:
    sheet.text_at(sheet.MARGIN, sheet.y + 3, left, BODY_PT - 1)
    sheet.text_at(A4_MM[0] - sheet.MARGIN, sheet.y + 3, right, BODY_PT - 1, anchor="rm")
    sheet.lines.append(f"{left} {right}")
    sheet.y += 8


def _draw_line(sheet: _Sheet, text: str) -> None:
    sheet.text_at(sheet.MARGIN, sheet.y + 3.5, text, BODY_PT)
    sheet.lines.append(text)
    sheet.y += 8


def _draw_table(sheet: _Sheet, rows: list[list[tuple[str, int]]]) -> None:
    """A ruled form grid of label/value cells; 4 columns: label, value, label, value."""
    col_mm = [0.17, 0.33, 0.17, 0.33]
    widths = [w * sheet.width for w in col_mm]
    row_h = 10.0
    outer = sheet.px(0.5)
    top = sheet.y
    for row in rows:
        x = sheet.MARGIN
        col = 0
        texts = []
        for i, (text, span) in enumerate(row):
            w = sum(widths[col : col + span])
            box = [sheet.px(x), sheet.px(sheet.y), sheet.px(x + w), sheet.px(sheet.y + row_h)]
            sheet.draw.rectangle(box, outline=(0, 0, 0), width=max(1, sheet.px(0.25)))
            is_label = i % 2 == 0
            pt = _fit_pt(sheet, text, w - 3, BODY_PT)
            if is_label:
                sheet.text_at(x + w / 2, sheet.y + row_h / 2, text, pt, anchor="mm")
            else:
                sheet.text_at(x + 1.5, sheet.y + row_h / 2, text, pt)
            texts.append(text)
            x += w
            col += span
        sheet.lines.append(" ".join(texts))
        sheet.y += row_h
    # a heavier outer frame, as printed forms have
    sheet.draw.rectangle(
        [sheet.px(sheet.MARGIN), sheet.px(top), sheet.px(sheet.MARGIN + sheet.width), sheet.px(sheet.y)],
        outline=(0, 0, 0),
        width=outer,
    )
    sheet.y += 6


def _draw_para(sheet: _Sheet, text: str, pages: _Pager) -> None:
    for line in _wrap(sheet, text, sheet.width, BODY_PT, indent=2):
        if not sheet.fits(7):
            sheet = pages.new_sheet()
        sheet.text_at(sheet.MARGIN, sheet.y + 3, line, BODY_PT)
        sheet.lines.append(line.strip("\u3000"))
        sheet.y += 7
    sheet.y += 2


def _draw_sign(sheet: _Sheet, left: str, right: str) -> None:
    """Signature row: printed label, the name in a handwriting-like Kai face, a rule under it."""
    y = sheet.y + 5
    half = sheet.MARGIN + sheet.width / 2 + 5
    for x, text in ((sheet.MARGIN, left), (half, right)):
        if not text:
            continue
        label, sep, value = text.partition("：")
        label += sep
        sheet.text_at(x, y, label, BODY_PT)
        vx = x + sheet.text_width_mm(label, BODY_PT)
        if value:
            handwritten = any(k in label for k in ("签", "确认")) and "日期" not in label
            sheet.text_at(
                vx + 1,
                y,
                value,
                BODY_PT + (2 if handwritten else 0),
                face="kai" if handwritten else None,
                fill=(20, 30, 90) if handwritten else (0, 0, 0),
            )
        end = vx + max(30.0, sheet.text_width_mm(value, BODY_PT + 2) + 4)
        sheet.draw.line(
            [sheet.px(vx), sheet.px(y + 3.5), sheet.px(end), sheet.px(y + 3.5)],
            fill=(0, 0, 0),
            width=max(1, sheet.px(0.2)),
        )
    sheet.lines.append(" ".join(t for t in (left, right) if t))
    sheet.last_sign_y = y
    sheet.y += 13


def _draw_idcard(sheet: _Sheet, front: list[str], back: list[str]) -> None:
    """Front and back of a second-generation ID card, copied at 1.4x on one sheet."""
    scale = 1.4
    w, h = 85.6 * scale, 54.0 * scale
    x0 = (A4_MM[0] - w) / 2
    for side, lines in (("front", front), ("back", back)):
        y0 = sheet.y
        box = [sheet.px(x0), sheet.px(y0), sheet.px(x0 + w), sheet.px(y0 + h)]
        sheet.draw.rounded_rectangle(
            box, radius=sheet.px(4), fill=(236, 236, 236), outline=(90, 90, 90), width=max(1, sheet.px(0.3))
        )
        if side == "front":
            photo = [sheet.px(x0 + w * 0.66), sheet.px(y0 + h * 0.12), sheet.px(x0 + w * 0.93), sheet.px(y0 + h * 0.68)]
            sheet.draw.rectangle(photo, fill=(205, 205, 205))
            cx = (photo[0] + photo[2]) // 2
            sheet.draw.ellipse(
                [cx - sheet.px(7), photo[1] + sheet.px(6), cx + sheet.px(7), photo[1] + sheet.px(24)],
                fill=(120, 120, 120),
            )
            sheet.draw.pieslice(
                [photo[0] + sheet.px(2), photo[1] + sheet.px(24), photo[2] - sheet.px(2), photo[3] + sheet.px(18)],
                180,
                360,
                fill=(120, 120, 120),
            )
            y = y0 + 9
            for line in lines[:-1]:
                sheet.text_at(x0 + 6, y, line, 9.5)
                y += 7.5
            sheet.text_at(x0 + 6, y0 + h - 8, lines[-1], 10.5)
        else:
            # stylised national emblem: concentric circles where the real card has it
            cx, cy = sheet.px(x0 + 16), sheet.px(y0 + 17)
            for r in (10, 8):
                sheet.draw.ellipse(
                    [cx - sheet.px(r), cy - sheet.px(r), cx + sheet.px(r), cy + sheet.px(r)],
                    outline=(110, 110, 110),
                    width=max(1, sheet.px(0.4)),
                )
            sheet.text_at(x0 + w * 0.6, y0 + 13, lines[0], 12, face="hei", anchor="mm")
            sheet.text_at(x0 + w * 0.6, y0 + 26, lines[1], 18, face="hei_bold", anchor="mm")
            sheet.text_at(x0 + 18, y0 + h - 20, lines[2], 9.5)
            sheet.text_at(x0 + 18, y0 + h - 11, lines[3], 9.5)
        sheet.lines.extend(lines)
        sheet.y += h + 8


def _draw_licence(sheet: _Sheet, lines: list[str], authority: str, date: str, seal_name: str) -> list:
    """A business licence copy: framed, big heading, field lines, registration authority and seal."""
    x0, w = sheet.MARGIN + 5, sheet.width - 10
    y0 = sheet.y
    sheet.text_at(A4_MM[0] / 2, y0 + 12, "营业执照", 24, face="hei_bold", anchor="mm")
    sheet.text_at(A4_MM[0] / 2, y0 + 22, "（副  本）", 12, anchor="mm")
    sheet.lines += ["营业执照", "（副本）"]
    y = y0 + 32
    for line in lines:
        label, _, value = line.partition(" ")
        for i, part in enumerate(_wrap(sheet, value, w - 40, BODY_PT - 0.5)):
            if i == 0:
                sheet.text_at(x0 + 6, y, label, BODY_PT - 0.5)
            sheet.text_at(x0 + 38, y, part, BODY_PT - 0.5)
            sheet.lines.append(f"{label} {part}" if i == 0 else part)
            y += 7
    y += 6
    sheet.text_at(x0 + w - 8, y, authority, BODY_PT - 0.5, anchor="rm")
    sheet.text_at(x0 + w - 8, y + 8, date, BODY_PT - 0.5, anchor="rm")
    sheet.lines += [authority, date]
    frame = [sheet.px(x0), sheet.px(y0), sheet.px(x0 + w), sheet.px(y + 16)]
    sheet.draw.rectangle(frame, outline=(60, 60, 60), width=sheet.px(0.8))
    sheet.y = y + 22
    return [(x0 + w - 35, y + 2, seal_name, "")]


class _Pager:
    """Hands out sheets as a document grows; keeps what each sheet printed."""

    def __init__(self, dpi: int, face: str, title_face: str) -> None:
        self.dpi, self.face, self.title_face = dpi, face, title_face
        self.sheets: list[_Sheet] = []
        self.seals: list[list] = []  # per sheet: (x_mm, y_mm, arc text, centre text)
        self.new_sheet()

    @property
    def sheet(self) -> _Sheet:
        return self.sheets[-1]

    def new_sheet(self) -> _Sheet:
        self.sheets.append(_Sheet(self.dpi, self.face, self.title_face))
        self.seals.append([])
        return self.sheet


def _layout(blocks: list[tuple], pager: _Pager) -> None:
    for block in blocks:
        kind, args = block[0], block[1:]
        sheet = pager.sheet
        if kind == "title":
            _draw_title(sheet, *args)
        elif kind == "meta":
            _draw_meta(sheet, *args)
        elif kind == "line":
            _draw_line(sheet, *args)
        elif kind == "table":
            if not sheet.fits(10 * len(args[0])):
                sheet = pager.new_sheet()
            _draw_table(sheet, *args)
        elif kind == "para":
            _draw_para(sheet, args[0], pager)
        elif kind == "sign":
            if not sheet.fits(14):
                sheet = pager.new_sheet()
            _draw_sign(sheet, *args)
        elif kind == "gap":
            sheet.y += 8
        elif kind == "pagebreak":
            pager.new_sheet()
        elif kind == "idcard":
            _draw_idcard(sheet, *args)
        elif kind == "licence":
            pager.seals[-1] += _draw_licence(sheet, *args)
        elif kind == "seal":
            # company seal over the left (供电人) signature
            pager.seals[-1].append((sheet.MARGIN + 38, sheet.last_sign_y, args[0], args[1]))
        else:
            raise ValueError(f"unknown layout block {kind!r}")


# --------------------------------------------------------------------------------------------
# Red seals


def seal_layer(diameter_px: int, arc_text: str, centre_text: str, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage (0..1 float32, square) of a round red seal: ring, five-point star, arced name."""
    size = diameter_px
    layer = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(layer)
    c = size / 2
    ring = max(2, size // 32)
    d.ellipse([ring / 2, ring / 2, size - ring / 2, size - ring / 2], outline=255, width=ring)
    # five-point star in the centre
    r_out, r_in = size * 0.16, size * 0.16 * 0.382
    pts = []
    for k in range(10):
        r = r_out if k % 2 == 0 else r_in
        a = -math.pi / 2 + k * math.pi / 5
        pts.append((c + r * math.cos(a), c + r * math.sin(a)))
    d.polygon(pts, fill=255)
    # arced text along the upper rim, characters upright towards the centre
    glyph_px = int(size * 0.13)
    f = font("song_bold", glyph_px)
    n = len(arc_text)
    span = min(240.0, max(120.0, 27.0 * n))  # real seals spread the name over most of the rim
    radius = c - ring - glyph_px * 0.75
    for i, ch in enumerate(arc_text):
        angle = -90 - span / 2 + span * (i + 0.5) / n  # degrees, 0 = +x axis, clockwise in image coords
        tile = Image.new("L", (glyph_px * 2, glyph_px * 2), 0)
        ImageDraw.Draw(tile).text((glyph_px, glyph_px), ch, font=f, fill=255, anchor="mm")
        tile = tile.rotate(-(angle + 90), resample=Image.BICUBIC)
        x = c + radius * math.cos(math.radians(angle)) - glyph_px
        y = c + radius * math.sin(math.radians(angle)) - glyph_px
        layer.paste(255, (int(x), int(y)), tile)
    if centre_text:
        d.text((c, c + size * 0.29), centre_text, font=font("song_bold", int(size * 0.1)), fill=255, anchor="mm")
    ink = np.asarray(layer, dtype=np.float32) / 255.0
    # stamped ink is uneven: blotchy density, never fully opaque
    blotch = cv2.resize(rng.uniform(0.55, 0.95, (8, 8)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(ink * blotch, 0, 1)


SEAL_RED = np.array([215, 35, 40], dtype=np.float32)


def apply_seal(image: Image.Image, centre_px: tuple[int, int], ink: np.ndarray) -> Image.Image:
    """Stamp a seal: multiply red ink over the page so black text underneath stays readable."""
    arr = np.asarray(image.convert("RGB")).copy()
    h, w = ink.shape
    x0, y0 = centre_px[0] - w // 2, centre_px[1] - h // 2
    xs, ys = max(0, x0), max(0, y0)
    xe, ye = min(arr.shape[1], x0 + w), min(arr.shape[0], y0 + h)
    patch = arr[ys:ye, xs:xe].astype(np.float32)
    a = ink[ys - y0 : ye - y0, xs - x0 : xe - x0, None]
    tint = 1.0 - a * (1.0 - SEAL_RED / 255.0)
    arr[ys:ye, xs:xe] = np.clip(patch * tint, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


# --------------------------------------------------------------------------------------------
# Rendering a document


def render_document(
    doc_type: str, case: CaseProfile, *, dpi: int = 300, face: str = "song", title_face: str = "hei_bold", seed: int = 0
) -> list[RenderedPage]:
    """Clean, upright pages of one document of ``doc_type`` for ``case``, with their text."""
    if doc_type not in CONTENT:
        raise ValueError(f"unknown document type {doc_type!r}; known: {sorted(CONTENT)}")
    rng = np.random.default_rng([seed, int(case.work_order_no[-8:]), list(CONTENT).index(doc_type)])
    blocks = CONTENT[doc_type](case, rng)
    pager = _Pager(dpi, face, title_face)
    _layout(blocks, pager)
    n = len(pager.sheets)
    pages = []
    for i, (sheet, seals) in enumerate(zip(pager.sheets, pager.seals), start=1):
        if n > 1:  # page footer of multi-page documents
            footer = f"第 {i} 页 共 {n} 页"
            sheet.text_at(A4_MM[0] / 2, A4_MM[1] - 14, footer, BODY_PT - 2, anchor="mm")
            sheet.lines.append(footer)
        image = sheet.image
        seal_texts = []
        for x_mm, y_mm, arc, centre in seals:
            ink = seal_layer(sheet.px(42), arc, centre, rng)
            jitter = rng.uniform(-3, 3, 2)
            image = apply_seal(image, (sheet.px(x_mm + jitter[0]), sheet.px(y_mm + jitter[1])), ink)
            seal_texts.append(arc + centre)
        title = sheet.lines[0] if i == 1 else ""
        pages.append(
            RenderedPage(image, sheet.lines, doc_type, title, i, bool(seals), "；".join(seal_texts), dpi, face)
        )
    return pages


def render_blank_back(front: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The empty back of a sheet: white with faint mirrored show-through of the front."""
    arr = np.asarray(front.convert("L"), dtype=np.float32)
    mirrored = cv2.GaussianBlur(arr[:, ::-1], (0, 0), 2.0)
    strength = rng.uniform(0.02, 0.04)  # show-through removes only a few grey levels
    page = 255.0 - (255.0 - mirrored) * strength
    return Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).convert("RGB")
