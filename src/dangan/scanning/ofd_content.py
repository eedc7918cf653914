"""The objects of an OFD page's content (GB/T 33190 §§ 8-14): text, paths and pictures
placed in page millimetres through each object's Boundary and CTM, templates and page
blocks followed. Element names are matched without their namespace (producers differ)."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Protocol
from xml.etree import ElementTree as ET

MAX_NESTING = 16
# Where a glyph's box lies around its baseline, as shares of the font size (CJK fonts).
ASCENT, DESCENT = 0.88, 0.12

Affine = tuple[float, float, float, float, float, float]
IDENTITY: Affine = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Glyph:
    """One character as drawn: baseline origin, size and advance in millimetres."""

    char: str
    x: float
    y: float
    size: float
    advance: float
    font: str = ""  # part name of the embedded font file, '' when the file embeds none
    colour: tuple[int, int, int] = (0, 0, 0)
    visible: bool = True  # Fill="false": text laid invisibly over a picture of the page (OCR, OFD/A)
    angle: float = 0.0  # degrees the glyph is turned clockwise on the page (a rotating CTM)
    family: str = ""  # the font's FamilyName (else FontName): what stands in when it is not embedded
    order: int = 0  # place in the page's drawing order (later objects are drawn over earlier ones)

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x, self.y - ASCENT * self.size, self.x + self.advance, self.y + DESCENT * self.size)


@dataclass(frozen=True)
class Stroke:
    polylines: tuple[tuple[tuple[float, float], ...], ...]
    width: float
    colour: tuple[int, int, int]
    fill: tuple[int, int, int] | None = None
    even_odd: bool = False  # the fill rule (Rule="Even-Odd"); NonZero otherwise
    order: int = 0  # place in the page's drawing order


@dataclass(frozen=True)
class Picture:
    part: str
    box: tuple[float, float, float, float]  # left, top, right, bottom in mm
    order: int = 0  # place in the page's drawing order


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def kids(element: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if element is None else [c for c in element if local(c.tag) == name]


def kid(element: ET.Element | None, name: str) -> ET.Element | None:
    found = kids(element, name)
    return found[0] if found else None


def numbers(value: str | None) -> list[float]:
    try:
        out = [float(v) for v in (value or "").replace(",", " ").split()]
    except ValueError:
        return []
    return out if all(math.isfinite(v) for v in out) else []


def compose(outer: Affine, inner: Affine) -> Affine:
    """INNER first, then OUTER."""
    A, B, C, D, E, F = outer
    a, b, c, d, e, f = inner
    return (A * a + C * b, B * a + D * b, A * c + C * d, B * c + D * d, A * e + C * f + E, B * e + D * f + F)


def apply(m: Affine, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def text_of(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _either(a: ET.Element | None, b: ET.Element | None) -> ET.Element | None:
    return a if a is not None else b  # an element without children is false: never `a or b`


def _colour(element: ET.Element | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if element is None:
        return default
    value = element.get("Value") or text_of(kid(element, "Value"))
    parts = numbers(value)
    if len(parts) >= 3:
        return (int(parts[0]) & 255, int(parts[1]) & 255, int(parts[2]) & 255)
    return default


class Resources(Protocol):
    """What a page's objects refer to (scanning.ofd.OfdFile has it)."""

    fonts: dict[str, str]  # font ID → part of its embedded file ('' when not embedded)
    font_families: dict[str, str]  # font ID → its FamilyName, else its FontName
    media: dict[str, str]  # picture ID → part
    draw_params: dict[str, ET.Element]
    composites: dict[str, ET.Element]


class Walk:
    """Objects of a page's content in drawing order, into page coordinates."""

    def __init__(self, ofd: Resources):
        self.ofd = ofd
        self.glyphs: list[Glyph] = []
        self.strokes: list[Stroke] = []
        self.pictures: list[Picture] = []
        self.problems: list[str] = []
        self.drawn = 0  # objects met so far, in drawing order

    def _next(self) -> int:
        self.drawn += 1
        return self.drawn

    def content(self, root: ET.Element) -> None:
        for layer in kids(kid(root, "Content"), "Layer"):
            self.objects(layer, IDENTITY, self.ofd.draw_params.get(layer.get("DrawParam", "")), 0)

    def objects(self, parent: ET.Element, m: Affine, param: ET.Element | None, depth: int) -> None:
        if depth > MAX_NESTING:
            return
        for obj in parent:
            name = local(obj.tag)
            if name == "PageBlock":
                self.objects(obj, m, param, depth + 1)
                continue
            here = compose(m, _placement(obj))
            if name == "CompositeObject":  # a reusable drawing (复合对象) placed like an object
                unit = self.ofd.composites.get(obj.get("ResourceID", ""))
                if unit is not None and kid(unit, "Content") is not None:
                    self.objects(kid(unit, "Content"), here, param, depth + 1)
                continue
            own = self.ofd.draw_params.get(obj.get("DrawParam", ""), param)
            if name == "TextObject":
                self.text(obj, here, own)
            elif name == "PathObject":
                self.path(obj, here, own)
            elif name == "ImageObject":
                part = self.ofd.media.get(obj.get("ResourceID", ""), "")
                corners = [apply(here, x, y) for x, y in ((0, 0), (1, 0), (0, 1), (1, 1))]
                xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                if part:
                    self.pictures.append(Picture(part, (min(xs), min(ys), max(xs), max(ys)), self._next()))
                else:
                    self.problems.append(f"image {obj.get('ResourceID')} is missing from the package")

    def text(self, obj: ET.Element, m: Affine, param: ET.Element | None) -> None:
        size = (numbers(obj.get("Size")) or [3.5])[0]
        scale = math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or 1.0
        font = self.ofd.fonts.get(obj.get("Font", ""), "")
        family = self.ofd.font_families.get(obj.get("Font", ""), "")
        order = self._next()
        colour = _colour(_either(kid(obj, "FillColor"), kid(param, "FillColor")), (0, 0, 0))
        visible = obj.get("Fill", "true") != "false" or obj.get("Stroke", "false") == "true"
        angle = round(math.degrees(math.atan2(m[1], m[0])), 3)  # y runs down: positive turns clockwise
        x = y = 0.0
        for code in kids(obj, "TextCode"):
            text = "".join(
                " " if c == "\t" else c for c in (code.text or "") if unicodedata.category(c) != "Cc" or c == "\t"
            )
            x = (numbers(code.get("X")) or [x])[0]
            y = (numbers(code.get("Y")) or [y])[0]
            dx = _deltas(code.get("DeltaX"), len(text) - 1)
            dy = _deltas(code.get("DeltaY"), len(text) - 1)
            cx, cy = x, y
            for i, ch in enumerate(text):
                step = dx[i] if i < len(dx) else _width(ch, size)
                px, py = apply(m, cx, cy)
                if not ch.isspace():
                    self.glyphs.append(
                        Glyph(ch, px, py, size * scale, step * scale, font, colour, visible, angle, family, order)
                    )
                cx += step
                cy += dy[i] if i < len(dy) else 0.0

    def path(self, obj: ET.Element, m: Affine, param: ET.Element | None) -> None:
        lines: list[list[tuple[float, float]]] = []
        tokens = text_of(kid(obj, "AbbreviatedData")).split()
        arity = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
        i, start = 0, None
        while i < len(tokens):
            op = tokens[i]
            n = arity.get(op)
            if n is None:
                i += 1
                continue
            args = numbers(" ".join(tokens[i + 1 : i + 1 + n]))
            i += 1 + n
            if op == "C":
                if lines and start is not None:
                    lines[-1].append(start)
                continue
            if len(args) < 2:
                continue
            point = apply(m, args[-2], args[-1])  # arcs to their end point: enough to view
            if op in ("S", "M") or not lines:
                lines.append([point])
                start = point
                continue
            if op in ("B", "Q") and len(args) == (6 if op == "B" else 4):  # curves flattened
                p0 = lines[-1][-1]
                controls = [apply(m, args[j], args[j + 1]) for j in range(0, len(args) - 2, 2)]
                lines[-1].extend(_curve(p0, controls, point))
            lines[-1].append(point)
        stroke = obj.get("Stroke", "true") != "false"
        fill = obj.get("Fill", "false") == "true"
        if not lines or not (stroke or fill):
            return
        width = (
            numbers(obj.get("LineWidth")) or numbers(param.get("LineWidth") if param is not None else "") or [0.353]
        )[0]
        colour = _colour(_either(kid(obj, "StrokeColor"), kid(param, "StrokeColor")), (0, 0, 0))
        fill_colour = _colour(_either(kid(obj, "FillColor"), kid(param, "FillColor")), (0, 0, 0)) if fill else None
        scale = math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or 1.0
        self.strokes.append(
            Stroke(
                tuple(tuple(line) for line in lines),
                width * scale if stroke else 0.0,
                colour,
                fill_colour,
                obj.get("Rule", "NonZero").lower() == "even-odd",
                self._next(),
            )
        )


CURVE_STEPS = 8  # straight pieces a curve is drawn with (a glyph's curve spans a few pixels)


def _curve(
    p0: tuple[float, float], controls: list[tuple[float, float]], p3: tuple[float, float]
) -> list[tuple[float, float]]:
    """The points inside a quadratic (one control) or cubic (two) Bézier curve from P0 to P3."""
    out = []
    for i in range(1, CURVE_STEPS):
        t = i / CURVE_STEPS
        u = 1 - t
        if len(controls) == 1:
            (cx, cy) = controls[0]
            out.append((u * u * p0[0] + 2 * u * t * cx + t * t * p3[0], u * u * p0[1] + 2 * u * t * cy + t * t * p3[1]))
        else:
            (ax, ay), (bx, by) = controls
            out.append(
                (
                    u**3 * p0[0] + 3 * u * u * t * ax + 3 * u * t * t * bx + t**3 * p3[0],
                    u**3 * p0[1] + 3 * u * u * t * ay + 3 * u * t * t * by + t**3 * p3[1],
                )
            )
    return out


def _placement(obj: ET.Element) -> Affine:
    """Object space to its parent's: the CTM, then the move to the Boundary's corner."""
    box = numbers(obj.get("Boundary"))
    ctm = numbers(obj.get("CTM"))
    a, b, c, d, e, f = ctm[:6] if len(ctm) >= 6 else IDENTITY
    return (a, b, c, d, e + (box[0] if len(box) == 4 else 0.0), f + (box[1] if len(box) == 4 else 0.0))


def _deltas(value: str | None, limit: int) -> list[float]:
    """DeltaX/DeltaY with the 'g COUNT VALUE' shorthand expanded (at most LIMIT values)."""
    tokens = (value or "").split()
    out: list[float] = []
    i = 0
    while i < len(tokens) and len(out) < limit:
        try:
            if tokens[i] == "g" and i + 2 < len(tokens):
                out.extend([float(tokens[i + 2])] * min(int(float(tokens[i + 1])), limit - len(out)))
                i += 3
            else:
                out.append(float(tokens[i]))
                i += 1
        except ValueError:
            i += 1
    return out


def _width(ch: str, size: float) -> float:
    return size if unicodedata.east_asian_width(ch) in ("W", "F") else size * 0.5
