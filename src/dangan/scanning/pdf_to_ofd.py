"""A born-digital PDF page as OFD content of its own, for the OFD/A export, converted through
poppler's SVG (`pdftocairo -svg`, one page): glyphs, lines and fills become PathObjects (curves
kept as curves, the fill rule kept), pictures ImageObjects with the bytes poppler hands on (a
JPEG stays the JPEG; a picture with a soft mask becomes a PNG with the mask as its alpha, one
under a rectangular clip is cut to it). The drawing carries no text: the export lays the page's
exact text (its text layer, a box per character) invisible over it, as a scan's OCR text. A page
whose drawing uses what this does not carry (patterns, gradients, filters, masks other than one
picture, clips that are not an upright rectangle, a clip cutting a path, rotated transforms)
gives None, and the export writes its rendering as before.

Why SVG and not the PDF's own fonts as OFD text: a PDF's fonts are subsets with encodings of
their own (CID, no Unicode), which OFD's TextCode (Unicode text) cannot name glyph by glyph
without CGTransform; glyph outlines draw exactly what the PDF draws, and the text stays exact
in the invisible layer. Measured (bench/ofd_export.py): drawn back at 150 dpi, a converted page
differs from poppler's drawing of the original by a mean grey level of about 0.1.
"""

from __future__ import annotations

import base64
import io
import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

from dangan.archive.audit.ofd_export import VectorPage, mm_text, ofd_element, ofd_name
from dangan.scanning.ofd_content import IDENTITY, Affine, compose, local, numbers
from dangan.tools import ToolError, ToolFailed
from dangan.tools.pdftocairo import svg_page

NewId = Callable[[], int]
MM_PER_PT = 25.4 / 72


SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"
UNSUPPORTED = ("pattern", "linearGradient", "radialGradient", "filter")
Rect = tuple[float, float, float, float]  # left, top, right, bottom on the page, in points
CLIP_SLACK_PT = 1.5  # what a clip cuts off within this of its edge is not missed


class Unsupported(Exception):
    """The page's drawing uses what the conversion does not carry."""


def pdf_page(path: str | Path, number: int, new_id: NewId, timeout: float = 60) -> VectorPage | None:
    """Page NUMBER of the PDF at PATH as OFD content; None when poppler cannot convert it or
    its drawing uses what the conversion does not carry (the export writes its rendering)."""
    with tempfile.TemporaryDirectory(prefix="dangan-svg-") as tmp:
        svg = Path(tmp) / "page.svg"
        try:
            svg_page(path, number, svg, timeout=timeout)
            root = ET.parse(svg).getroot()
        except (ToolError, ToolFailed, OSError, ET.ParseError):
            return None
    try:
        return _SvgPage(root, new_id).page()
    except Unsupported:
        return None


def _matrix(value: str | None) -> Affine:
    m = IDENTITY
    for kind, args in re.findall(r"(matrix|translate|scale)\s*\(([^)]*)\)", value or ""):
        v = [float(x) for x in re.split(r"[\s,]+", args.strip()) if x]
        if kind == "matrix" and len(v) == 6:
            t: Affine = (v[0], v[1], v[2], v[3], v[4], v[5])
        elif kind == "translate":
            t = (1.0, 0.0, 0.0, 1.0, v[0], v[1] if len(v) > 1 else 0.0)
        elif kind == "scale":
            t = (v[0], 0.0, 0.0, v[1] if len(v) > 1 else v[0], 0.0, 0.0)
        else:
            raise Unsupported(kind)
        m = compose(m, t)
    if re.search(r"rotate|skew", value or ""):
        raise Unsupported("transform")
    return m


def _style(element: ET.Element, inherited: dict[str, str]) -> dict[str, str]:
    style = dict(inherited)
    for name in ("fill", "fill-rule", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "opacity"):
        if element.get(name) is not None:
            style[name] = element.get(name, "")
    for item in (element.get("style") or "").split(";"):
        if ":" in item:
            k, v = item.split(":", 1)
            style[k.strip()] = v.strip()
    for k in ("stroke-linecap", "stroke-linejoin", "stroke-miterlimit"):
        if element.get(k) is not None:
            style[k] = element.get(k, "")
    return style


def _colour(value: str) -> tuple[int, int, int] | None:
    value = value.strip().lower()
    if value in ("", "none"):
        return None
    if value.startswith("url("):
        raise Unsupported("paint server")
    if value.startswith("#") and len(value) in (4, 7):
        h = value[1:] if len(value) == 7 else "".join(c * 2 for c in value[1:])
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    m = re.fullmatch(r"rgb\(([^)]*)\)", value)
    if m:
        out = []
        for part in m.group(1).split(","):
            part = part.strip()
            out.append(round(float(part[:-1]) * 2.55) if part.endswith("%") else round(float(part)))
        return (out[0], out[1], out[2])
    return {"black": (0, 0, 0), "white": (255, 255, 255)}.get(value, (0, 0, 0))


def _path_ops(d: str, m: Affine) -> list[str]:
    """SVG path data (absolute or relative M L H V C Q Z, as cairo writes) as OFD
    AbbreviatedData in page millimetres through M."""
    tokens = re.findall(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", d)
    out: list[str] = []
    i, cmd = 0, ""
    x = y = sx = sy = 0.0

    def pt(px: float, py: float) -> str:
        x, y = m[0] * px + m[2] * py + m[4], m[1] * px + m[3] * py + m[5]
        return f"{mm_text(x * MM_PER_PT)} {mm_text(y * MM_PER_PT)}"

    def take(n: int) -> list[float]:
        nonlocal i
        values = [float(t) for t in tokens[i : i + n]]
        if len(values) < n:
            raise Unsupported("path data")
        i += n
        return values

    while i < len(tokens):
        if tokens[i].isalpha():
            cmd = tokens[i]
            i += 1
            if cmd in "Zz":
                out.append("C")
                x, y = sx, sy
                continue
        rel = cmd.islower()
        ox, oy = (x, y) if rel else (0.0, 0.0)
        c = cmd.upper()
        if c == "M":
            a = take(2)
            x, y = ox + a[0], oy + a[1]
            sx, sy = x, y
            out += ["M", pt(x, y)]
            cmd = "l" if rel else "L"  # further pairs are lines
        elif c == "L":
            a = take(2)
            x, y = ox + a[0], oy + a[1]
            out += ["L", pt(x, y)]
        elif c == "H":
            x = ox + take(1)[0]
            out += ["L", pt(x, y)]
        elif c == "V":
            y = oy + take(1)[0]
            out += ["L", pt(x, y)]
        elif c == "C":
            a = take(6)
            out += ["B", pt(ox + a[0], oy + a[1]), pt(ox + a[2], oy + a[3]), pt(ox + a[4], oy + a[5])]
            x, y = ox + a[4], oy + a[5]
        elif c == "Q":
            a = take(4)
            out += ["Q", pt(ox + a[0], oy + a[1]), pt(ox + a[2], oy + a[3])]
            x, y = ox + a[2], oy + a[3]
        else:
            raise Unsupported(f"path command {cmd}")
    return out


class _SvgPage:
    def __init__(self, root: ET.Element, new_id: NewId):
        self.root, self.new_id = root, new_id
        self.defs = {e.get("id", ""): e for e in root.iter() if e.get("id")}
        vb = numbers(root.get("viewBox"))
        if len(vb) != 4:
            raise Unsupported("no viewBox")
        self.width, self.height = vb[2] * MM_PER_PT, vb[3] * MM_PER_PT
        self.out = VectorPage(ET.Element(ofd_name("Area")), [], with_text=True)
        ofd_element(self.out.area, "PhysicalBox", f"0 0 {mm_text(self.width)} {mm_text(self.height)}")
        self.layer = ET.Element(ofd_name("Layer"), {"ID": str(new_id()), "Type": "Body"})
        self.out.layers.append(self.layer)
        self.last: tuple[tuple, ET.Element] | None = None  # the fill-only path glyphs are added to
        self.page_box = (-1.0, -1.0, vb[2] + 1, vb[3] + 1)

    def page(self) -> VectorPage:
        if any(local(e.tag) in UNSUPPORTED for e in self.root.iter()):
            raise Unsupported("patterns, gradients or filters")
        self._children(self.root, (1.0, 0.0, 0.0, 1.0, -numbers(self.root.get("viewBox"))[0], 0.0), {}, None)
        return self.out

    def _children(self, parent: ET.Element, m: Affine, style: dict[str, str], clip: Rect | None) -> None:
        for child in parent:
            self._element(child, m, style, clip)

    def _element(
        self, e: ET.Element, m: Affine, inherited: dict[str, str], clip: Rect | None, mask: bytes | None = None
    ) -> None:
        """CLIP: the rectangle a clip smaller than the page keeps (pictures are cut to it, a path
        must lie inside it); MASK: the grey picture a soft mask gives the picture drawn here."""
        name = local(e.tag)
        if name in ("defs", "clipPath", "mask", "symbol", "title", "desc", "metadata", "style"):
            return
        if e.get("clip-path"):
            clip = _intersect(clip, self._clip(e.get("clip-path", ""), m))
        if e.get("filter"):
            raise Unsupported("filter")
        if e.get("mask"):
            if name not in ("use", "image") or mask is not None:
                raise Unsupported("mask")
            mask = self._mask(e.get("mask", ""))
        here = compose(m, _matrix(e.get("transform")))
        style = _style(e, inherited)
        if name in ("g", "svg"):
            self._children(e, here, style, clip)
        elif name == "use":
            target = self.defs.get(_href(e).lstrip("#"))
            if target is None:
                return
            moved = compose(here, (1.0, 0.0, 0.0, 1.0, float(e.get("x", 0)), float(e.get("y", 0))))
            if mask is not None and local(target.tag) != "image":
                raise Unsupported("mask")
            if local(target.tag) in ("symbol", "g"):
                self._children(target, moved, _style(target, style), clip)
            else:
                self._element(target, moved, style, clip, mask)
        elif name == "path":
            self._path(e.get("d", ""), here, style, clip)
        elif name == "rect":
            x, y = float(e.get("x", 0)), float(e.get("y", 0))
            w, h = float(e.get("width", 0)), float(e.get("height", 0))
            self._path(f"M {x} {y} L {x + w} {y} L {x + w} {y + h} L {x} {y + h} Z", here, style, clip)
        elif name == "image":
            self._image(e, here, clip, mask)
        elif name in ("text", "line", "polyline", "polygon", "circle", "ellipse"):
            raise Unsupported(name)  # cairo writes none of these; another producer may

    def _mask(self, ref: str) -> bytes:
        """A soft mask that is one picture (as cairo writes a PDF's SMask): its bytes, whose
        grey is the alpha of the picture it masks; any other mask is not carried."""
        image = self._only(ref, ("use", "image"), "mask")
        if local(image.tag) == "use":
            image = self.defs.get(_href(image).lstrip("#"), image)
        picture = _embedded_picture(image)
        if picture is None:
            raise Unsupported("mask")
        return picture[1]

    def _defined(self, ref: str) -> ET.Element | None:
        """The element a `url(#id)` reference names."""
        return self.defs.get(ref.strip()[4:-1].lstrip("#")) if ref.startswith("url(") else None

    def _only(self, ref: str, tags: tuple[str, ...], what: str) -> ET.Element:
        """The one child of a TAGS kind in the element REF names; anything else is not carried."""
        found = self._defined(ref)
        kids = [] if found is None else [k for k in found if local(k.tag) in tags]
        if len(kids) != 1:
            raise Unsupported(what)
        return kids[0]

    def _clip(self, ref: str, m: Affine) -> Rect | None:
        """The rectangle a clip keeps, on the page; None when it holds the whole page (it
        changes nothing). A clip that is not one rectangle is not carried."""
        p = self._only(ref, ("path", "rect"), "clip")
        if local(p.tag) == "rect":
            xs = [float(p.get("x", 0)), float(p.get("x", 0)) + float(p.get("width", 0))]
            ys = [float(p.get("y", 0)), float(p.get("y", 0)) + float(p.get("height", 0))]
            values = xs + ys  # four numbers: a rectangle (below: more than ten is more than one)
        else:
            values = [float(v) for v in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)", p.get("d", ""))]
            if re.search(r"[CcQqAa]", p.get("d", "")) or len(values) < 8:
                raise Unsupported("clip")
            xs, ys = values[0::2], values[1::2]
        c = compose(m, _matrix(p.get("transform")))
        corners = [(c[0] * x + c[2] * y + c[4], c[1] * x + c[3] * y + c[5]) for x in xs for y in ys]
        left, top = min(a for a, _ in corners), min(b for _, b in corners)
        right, bottom = max(a for a, _ in corners), max(b for _, b in corners)
        x0, y0, x1, y1 = self.page_box
        if left <= x0 + 3 and top <= y0 + 3 and right >= x1 - 3 and bottom >= y1 - 3:
            return None
        if abs(c[1]) > 1e-6 or abs(c[2]) > 1e-6 or len(values) > 10:  # turned, or more than a rectangle
            raise Unsupported("clip")
        return (left, top, right, bottom)

    def _path(self, d: str, m: Affine, style: dict[str, str], clip: Rect | None = None) -> None:
        if float(style.get("opacity", 1) or 1) < 1:
            raise Unsupported("opacity")
        fill = _colour(style.get("fill", "black"))
        stroke = _colour(style.get("stroke", "none"))
        if fill is None and stroke is None:
            return
        ops = _path_ops(d, m)
        if not ops:
            return
        if clip is not None:  # a path the clip cuts is not carried; one inside it is unchanged
            points = [float(v) / MM_PER_PT for v in " ".join(ops).split() if not v.isalpha()]
            bounds = (min(points[0::2]), min(points[1::2]), max(points[0::2]), max(points[1::2]))
            if not _inside(bounds, clip):
                raise Unsupported("a clip cutting a drawing")
        rule = "Even-Odd" if style.get("fill-rule", "nonzero") == "evenodd" else "NonZero"
        key = (fill, rule, float(style.get("fill-opacity", 1) or 1))
        if stroke is None and self.last is not None and self.last[0] == key:
            data = self.last[1].find(ofd_name("AbbreviatedData"))
            assert data is not None
            data.text = f"{data.text} {' '.join(ops)}"
            return
        attrs = {
            "ID": str(self.new_id()),
            "Boundary": f"0 0 {mm_text(self.width)} {mm_text(self.height)}",
            "Stroke": "true" if stroke else "false",
            "Fill": "true" if fill else "false",
            "Rule": rule,
        }
        scale = math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or 1.0
        if stroke:
            attrs["LineWidth"] = mm_text(float(style.get("stroke-width", 1) or 1) * scale * MM_PER_PT)
            cap = style.get("stroke-linecap", "butt")
            join = style.get("stroke-linejoin", "miter")
            attrs["Cap"] = {"round": "Round", "square": "Square"}.get(cap, "Butt")
            attrs["Join"] = {"round": "Round", "bevel": "Bevel"}.get(join, "Miter")
            attrs["MiterLimit"] = style.get("stroke-miterlimit", "10")
        obj = ET.SubElement(self.layer, ofd_name("PathObject"), attrs)
        if stroke:
            ET.SubElement(obj, ofd_name("StrokeColor"), _alpha({"Value": " ".join(map(str, stroke))}, style, "stroke"))
        if fill:
            ET.SubElement(obj, ofd_name("FillColor"), _alpha({"Value": " ".join(map(str, fill))}, style, "fill"))
        ofd_element(obj, "AbbreviatedData", " ".join(ops))
        self.last = (key, obj) if stroke is None else None

    def _image(self, e: ET.Element, m: Affine, clip: Rect | None = None, mask: bytes | None = None) -> None:
        picture = _embedded_picture(e)
        if picture is None:
            raise Unsupported("image")
        fmt, data = picture
        w, h = float(e.get("width", 0)), float(e.get("height", 0))
        x, y = float(e.get("x", 0)), float(e.get("y", 0))
        c = compose(m, (w, 0.0, 0.0, h, x, y))  # the unit square onto the picture's place, in points
        if mask is not None:  # the mask first: it covers the whole picture
            data, fmt = _masked(data, mask), "PNG"
        if clip is not None and not _inside(_bounds(c), clip):
            data, c = _cut(data, c, clip)
            fmt = "PNG"
        rid = str(self.new_id())
        media = ET.Element(ofd_name("MultiMedia"), {"ID": rid, "Type": "Image", "Format": fmt})
        name = f"v{rid}.{'png' if fmt == 'PNG' else 'jpg'}"
        ofd_element(media, "MediaFile", name)
        self.out.files[name] = data
        self.out.resources.setdefault("MultiMedias", []).append(media)
        # the unit square of an OFD image onto the picture's place on the page, in mm
        ctm = " ".join(mm_text(v * MM_PER_PT) for v in c)
        ET.SubElement(
            self.layer,
            ofd_name("ImageObject"),
            {
                "ID": str(self.new_id()),
                "ResourceID": rid,
                "Boundary": f"0 0 {mm_text(self.width)} {mm_text(self.height)}",
                "CTM": ctm,
            },
        )
        self.last = None


def _href(e: ET.Element) -> str:
    return e.get(XLINK) or e.get("href") or ""


def _embedded_picture(e: ET.Element) -> tuple[str, bytes] | None:
    """The picture an <image> carries inline (cairo writes every picture as a data URI): its
    format (PNG or JPEG) and bytes; None for anything else."""
    href = _href(e)
    found = re.match(r"data:image/(png|jpeg|jpg);base64,", href)
    if local(e.tag) != "image" or found is None:
        return None
    return ("PNG" if found.group(1) == "png" else "JPEG"), base64.b64decode(href[found.end() :])


def _alpha(attrs: dict[str, str], style: dict[str, str], kind: str) -> dict[str, str]:
    opacity = float(style.get(f"{kind}-opacity", 1) or 1)
    if opacity < 1:
        attrs["Alpha"] = str(round(opacity * 255))
    return attrs


def _bounds(c: Affine) -> Rect:
    xs = [c[4], c[0] + c[4], c[2] + c[4], c[0] + c[2] + c[4]]
    ys = [c[5], c[1] + c[5], c[3] + c[5], c[1] + c[3] + c[5]]
    return (min(xs), min(ys), max(xs), max(ys))


def _inside(box: Rect, clip: Rect) -> bool:
    s = CLIP_SLACK_PT
    return box[0] >= clip[0] - s and box[1] >= clip[1] - s and box[2] <= clip[2] + s and box[3] <= clip[3] + s


def _intersect(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None or b is None:
        return a or b
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _cut(data: bytes, c: Affine, clip: Rect) -> tuple[bytes, Affine]:
    """A picture placed upright by C (the unit square onto the page) cut to CLIP, as PNG, and
    where the part kept goes; a turned or mirrored picture under a clip is not carried."""
    from PIL import Image

    if abs(c[1]) > 1e-9 or abs(c[2]) > 1e-9 or c[0] <= 0 or c[3] <= 0:
        raise Unsupported("a clip cutting a turned picture")
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        width, height = im.size
        left = max(0, math.floor((clip[0] - c[4]) / c[0] * width))
        top = max(0, math.floor((clip[1] - c[5]) / c[3] * height))
        right = min(width, math.ceil((clip[2] - c[4]) / c[0] * width))
        bottom = min(height, math.ceil((clip[3] - c[5]) / c[3] * height))
        if right <= left or bottom <= top:
            raise Unsupported("a clip holding none of a picture")
        kept = im.crop((left, top, right, bottom))
        buf = io.BytesIO()
        kept.save(buf, format="PNG")
    sx, sy = c[0] / width, c[3] / height
    return buf.getvalue(), (sx * (right - left), 0.0, 0.0, sy * (bottom - top), c[4] + sx * left, c[5] + sy * top)


def _masked(data: bytes, mask: bytes) -> bytes:
    """The picture with its soft mask's grey as its alpha (stretched to the picture's size, as a
    PDF SMask of another resolution is), as PNG."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im, Image.open(io.BytesIO(mask)) as alpha:
        rgba = im.convert("RGBA")
        rgba.putalpha(alpha.convert("L").resize(rgba.size))
        buf = io.BytesIO()
        rgba.save(buf, format="PNG")
    return buf.getvalue()
