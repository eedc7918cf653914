"""OFD pages drawn for viewing with Pillow: pictures, lines and text where the file puts them
(scanning.ofd reads them), seals on top. Enough to look at a page and check a search hit on
it; the file itself stays the master."""

from __future__ import annotations

import io
import math
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dangan.archive.audit.font_substitutes import face_for
from dangan.scanning.ofd import MM_PER_INCH, OfdFile, OfdInvalid, OfdPage, Picture, PictureUnreadable, seal_picture
from dangan.scanning.ofd_content import Glyph, Stroke


@cache
def _substitute(family: str, char: str, size_px: int) -> ImageFont.FreeTypeFont:
    """The installed font standing in for FAMILY (not embedded, or without CHAR): the closest
    face by its family that has CHAR (archive.audit.font_substitutes, as the export embeds)."""
    face = face_for(family, char)
    if face is not None:
        try:
            return _face(face.path, face.index, size_px)
        except OSError:
            pass
    return ImageFont.load_default(size_px)


@cache
def _face(path: str, index: int, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size_px, index=index)


def render(ofd: OfdFile, page: OfdPage, dpi: int) -> Image.Image:
    """The page drawn for viewing at DPI: pictures, lines and text in the order the page draws
    them (embedded fonts where Pillow can load them, the installed face of the font's family
    otherwise), and seals on top."""
    x0, y0, width_mm, height_mm = page.box
    k = dpi / MM_PER_INCH
    size = (max(1, math.ceil(width_mm * k)), max(1, math.ceil(height_mm * k)))
    im = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(im)

    def px(x: float, y: float) -> tuple[float, float]:
        return ((x - x0) * k, (y - y0) * k)

    fonts: dict[tuple[str, int], ImageFont.FreeTypeFont | None] = {}
    drawing: list[Picture | Stroke | Glyph] = [*page.pictures, *page.strokes, *(g for g in page.glyphs if g.visible)]
    for item in sorted(drawing, key=lambda item: item.order):  # later objects over earlier ones
        if isinstance(item, Picture):
            _paste(im, ofd, item, px, page)
            continue
        if isinstance(item, Stroke):
            if item.fill is not None:
                _fill(im, [[px(*p) for p in line] for line in item.polylines], item.fill, item.even_odd)
            for line in item.polylines:
                points = [px(*p) for p in line]
                if item.width and len(points) > 1:
                    draw.line(points, fill=item.colour, width=max(1, round(item.width * k)))
            continue
        g = item
        size_px = max(1, round(g.size * k))
        key = (g.font, size_px)
        if g.font and key not in fonts:
            fonts[key] = _embedded(ofd, g.font, size_px)
        font = fonts.get(key)
        if font is None or not _has_glyph(font, g.char):
            font = _substitute(g.family, g.char, size_px)
        if g.angle:
            _turned(im, px(g.x, g.y), g.char, font, g.colour, g.angle)
        else:
            draw.text(px(g.x, g.y), g.char, font=font, fill=g.colour, anchor="ls")
    for seal in page.seals:
        _paste(im, ofd, seal, px, page, seal=True)
    return im


def _turned(im: Image.Image, at: tuple[float, float], char: str, font, colour, angle: float) -> None:
    """CHAR drawn turned ANGLE degrees clockwise about its origin AT (rotated text, a stamp's
    vertical line): drawn upright on a square around the origin, turned, laid on."""
    side = 4 * max(1, round(font.size))
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).text((side / 2, side / 2), char, font=font, fill=255, anchor="ls")
    mask = mask.rotate(-angle, resample=Image.BICUBIC, center=(side / 2, side / 2))
    im.paste(colour, (round(at[0] - side / 2), round(at[1] - side / 2)), mask)


SUPERSAMPLE = 4  # a fill is drawn 4x larger and shrunk: edges antialiased, not a pixel too bold


def _fill(im: Image.Image, polygons: list[list[tuple[float, float]]], colour, even_odd: bool) -> None:
    """Fill a path of several outlines by its rule: each outline adds its winding (+1 or -1 by
    its direction) where it covers; non-zero fills where the sum is not 0, even-odd where the
    count is odd (the counters of 口 or 回 stay open)."""
    polygons = [p for p in polygons if len(p) > 2]
    if not polygons:
        return
    xs = [x for p in polygons for x, _ in p]
    ys = [y for p in polygons for _, y in p]
    left, top = max(0, math.floor(min(xs))), max(0, math.floor(min(ys)))
    right, bottom = min(im.width, math.ceil(max(xs)) + 1), min(im.height, math.ceil(max(ys)) + 1)
    if right <= left or bottom <= top:
        return
    s = SUPERSAMPLE
    size = ((right - left) * s, (bottom - top) * s)
    winding = np.zeros((size[1], size[0]), dtype=np.int16)
    for polygon in polygons:
        mask = Image.new("L", size, 0)
        ImageDraw.Draw(mask).polygon(
            [((x - left) * s - 0.5, (y - top) * s - 0.5) for x, y in polygon], fill=1
        )  # to pixel centres
        area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True))
        winding += np.asarray(mask, dtype=np.int16) * (1 if even_odd or area >= 0 else -1)
    inside = (winding % 2 == 1) if even_odd else (winding != 0)
    if inside.any():
        cover = Image.fromarray((inside * 255).astype(np.uint8)).resize((right - left, bottom - top), Image.BOX)
        im.paste(colour, (left, top, right, bottom), cover)


def _embedded(ofd: OfdFile, part: str, size_px: int) -> ImageFont.FreeTypeFont | None:
    try:
        return ImageFont.truetype(io.BytesIO(ofd.read(part)), size_px)
    except (OSError, OfdInvalid):
        return None


def _has_glyph(font: ImageFont.FreeTypeFont, ch: str) -> bool:
    try:
        return font.getmask(ch).getbbox() is not None or ch.isspace()
    except Exception:  # noqa: BLE001 - a subset font without the character
        return False


def _paste(im: Image.Image, ofd: OfdFile, picture: Picture, px, page: OfdPage, seal: bool = False) -> None:
    try:
        pic = seal_picture(ofd.read(picture.part)) if seal else ofd.picture(picture.part)
        if pic is None:
            return
        pic.load()
    except (PictureUnreadable, OfdInvalid, OSError):  # drawable() says so on the page
        return
    left, top = px(picture.box[0], picture.box[1])
    right, bottom = px(picture.box[2], picture.box[3])
    w, h = max(1, round(right - left)), max(1, round(bottom - top))
    pic = pic.convert("RGBA").resize((w, h))
    if seal:  # white around the seal's ink is see-through on paper
        rgba = np.array(pic)
        rgba[(rgba[..., :3] > 230).all(axis=2), 3] = 0
        pic = Image.fromarray(rgba)
    im.paste(pic, (round(left), round(top)), pic)


def drawable(ofd: OfdFile, page: OfdPage) -> list[str]:
    """What on PAGE cannot be shown (pictures that do not decode, and why): said on the page."""
    problems = list(page.problems)
    for picture in page.pictures:
        name = picture.part.rsplit("/", 1)[-1]
        try:
            ofd.picture(picture.part)
        except PictureUnreadable as e:
            why = str(e) if e.missing else f"an unsupported format or damaged: {e}"
            problems.append(f"picture {name} cannot be shown ({why})")
        except OfdInvalid as e:
            problems.append(f"picture {name} cannot be shown ({e})")
    return problems
