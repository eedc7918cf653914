"""Small, realistic-enough test pages for the cleanup and quality steps.

Pages are rendered with PIL in the fonts an archive room actually sees (Song, Hei, Kai):
a form with a big centred title, left-aligned labels, a ruled table, a paragraph with
Chinese punctuation and a signature line. Helpers then damage them the way scanners do
(rotation, skew, black ADF borders, speckle noise, blur, a red seal, yellowed paper).
"""

from __future__ import annotations

import math
import random
from functools import cache

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from dangan.scanning.page import PageState

A4_MM = (210, 297)

FONT_FILES = {
    "song": ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    "hei": ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    "kai": ("/usr/share/fonts/truetype/arphic/ukai.ttc", "AR PL UKai CN"),
}

TITLES = ["低压居民用电申请表", "客户用电业务受理单", "供用电合同", "用电变更申请书", "电费缴纳凭证"]
LABELS = ["客户名称", "用电地址", "户号", "联系电话", "申请容量", "用电类别", "证件号码", "受理日期"]
VALUES = [
    "张伟",
    "李秀英",
    "王建国",
    "北京市朝阳区建国路八十八号",
    "上海市浦东新区世纪大道一百号",
    "0123456789",
    "13812345678",
    "8 千瓦",
    "居民生活用电",
    "2023年5月12日",
    "110105198001011234",
]
PARAGRAPH = (
    "本人申请办理低压居民新装用电业务，所提供的资料真实有效。如有虚假，愿承担相应责任。"
    "供电企业应当按照国家规定的电能质量标准向用户供电，用户应当按时缴纳电费，"
    "不得擅自改变用电类别或者转供电。本合同一式两份，双方各执一份，自签字盖章之日起生效。"
)


@cache
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path, wanted = FONT_FILES[name]
    for index in range(10):
        f = ImageFont.truetype(path, size, index=index)
        if f.getname()[0] == wanted:
            return f
    raise LookupError(wanted)


def mm(value: float, dpi: int) -> int:
    return round(value / 25.4 * dpi)


def render_form(
    dpi: int = 300,
    face: str = "song",
    seed: int = 0,
    *,
    title: bool = True,
    table: bool = True,
    paragraph: bool = True,
    paper=(255, 255, 255),
) -> np.ndarray:
    """An upright A4 customer form, RGB uint8."""
    rnd = random.Random(seed)
    w, h = mm(A4_MM[0], dpi), mm(A4_MM[1], dpi)
    img = Image.new("RGB", (w, h), paper)
    d = ImageDraw.Draw(img)
    ink = (20, 20, 20)
    body = font(face, max(8, int(dpi * 11 / 72)))  # 11 pt
    left, y = mm(25, dpi), mm(25, dpi)
    if title:
        tf = font(face, int(dpi * 20 / 72))
        t = rnd.choice(TITLES)
        tw = d.textlength(t, font=tf)
        d.text(((w - tw) / 2, y), t, font=tf, fill=ink)
        y += int(dpi * 20 / 72 * 2.2)
    line_h = int(dpi * 11 / 72 * 1.9)
    for label in rnd.sample(LABELS, 6):
        d.text((left, y), f"{label}：{rnd.choice(VALUES)}", font=body, fill=ink)
        y += line_h
    if table:
        y += line_h // 2
        cols = [left, left + mm(40, dpi), left + mm(100, dpi), w - mm(25, dpi)]
        rows = 4
        for r in range(rows + 1):
            d.line([(cols[0], y + r * line_h), (cols[-1], y + r * line_h)], fill=ink, width=max(1, dpi // 100))
        for c in cols:
            d.line([(c, y), (c, y + rows * line_h)], fill=ink, width=max(1, dpi // 100))
        for r in range(rows):
            for ci in range(3):
                d.text(
                    (cols[ci] + mm(2, dpi), y + r * line_h + line_h // 5), rnd.choice(VALUES)[:8], font=body, fill=ink
                )
        y += rows * line_h + line_h
    if paragraph:
        per_line = int((w - 2 * left) / body.size) - 1
        text = PARAGRAPH[rnd.randrange(0, 20) :]
        first = True
        while text:
            indent = 2 if first else 0
            n = per_line - indent
            d.text((left + indent * body.size, y), text[:n], font=body, fill=ink)
            text, first = text[n:], False
            y += line_h
    y = max(y + line_h, h - mm(60, dpi))
    d.text((w - mm(95, dpi), y), "客户签字：", font=body, fill=ink)
    d.line([(w - mm(65, dpi), y + body.size), (w - mm(25, dpi), y + body.size)], fill=ink, width=max(1, dpi // 150))
    d.text((w - mm(95, dpi), y + line_h), "日期：2023年5月12日", font=body, fill=ink)
    return np.asarray(img)


def rotate_upright_by(img: np.ndarray, clockwise: int) -> np.ndarray:
    """Turn an upright page *counter*-clockwise by `clockwise` degrees, so that the page
    needs a clockwise turn of `clockwise` to be upright again."""
    codes = {0: None, 90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    return img.copy() if codes[clockwise] is None else cv2.rotate(img, codes[clockwise])


def skew(img: np.ndarray, degrees: float, fill=(255, 255, 255)) -> np.ndarray:
    """Rotate content counter-clockwise by `degrees` (text lines rise to the right), as a
    sheet fed crooked would be; same canvas size."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def speckle(img: np.ndarray, density: float = 0.01, sigma: float = 18.0, seed: int = 0) -> np.ndarray:
    """Dirty flatbed: Gaussian sensor noise plus pepper-and-salt speckles."""
    rng = np.random.default_rng(seed)
    out = img.astype(np.float32) + rng.normal(0, sigma, img.shape[:2])[..., None]
    mask = rng.random(img.shape[:2])
    out[mask < density / 2] = 0
    out[mask > 1 - density / 2] = 255
    return np.clip(out, 0, 255).astype(np.uint8)


def black_border(img: np.ndarray, left: int, top: int, right: int, bottom: int, slant: int = 0) -> np.ndarray:
    """ADF scan of a sheet smaller than the scan area: the page pasted on black, with an
    optionally slanted right edge (the sheet fed a little crooked)."""
    h, w = img.shape[:2]
    out = np.full((h + top + bottom, w + left + right, 3), 12, np.uint8)
    out[top : top + h, left : left + w] = img
    if slant:
        for yy in range(out.shape[0]):
            cut = left + w - int(slant * yy / out.shape[0])
            out[yy, cut:] = 12
    return out


def red_seal(img: np.ndarray, centre: tuple[int, int], dpi: int = 300, colour=(215, 40, 45)) -> np.ndarray:
    """A 42 mm round company seal: ring, star and arc text, multiplied onto the page like ink."""
    r = mm(21, dpi)
    size = 2 * r + 8
    layer = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(layer)
    c = size // 2
    d.ellipse([c - r, c - r, c + r, c + r], outline=255, width=max(2, mm(1.2, dpi)))
    star = [
        (
            c + r * 0.28 * math.cos(math.pi / 2 + k * 4 * math.pi / 5),
            c - r * 0.28 * math.sin(math.pi / 2 + k * 4 * math.pi / 5),
        )
        for k in range(5)
    ]
    d.polygon(star, fill=255)
    f = font("song", mm(6, dpi))
    text = "国网某市供电公司业务专用章"
    for i, ch in enumerate(text):
        a = math.radians(200 - i * 220 / (len(text) - 1))
        glyph = Image.new("L", (f.size * 2, f.size * 2), 0)
        ImageDraw.Draw(glyph).text((f.size // 2, f.size // 2), ch, font=f, fill=255)
        glyph = glyph.rotate(math.degrees(a) - 90, resample=Image.BILINEAR)
        gx = int(c + r * 0.72 * math.cos(a)) - f.size
        gy = int(c - r * 0.72 * math.sin(a)) - f.size
        layer.paste(glyph, (gx, gy), glyph)
    alpha = np.asarray(layer, np.float32)[..., None] / 255.0 * 0.9
    out = img.astype(np.float32)
    x0, y0 = centre[0] - c, centre[1] - c
    # clip to the page: a seal may hang over the edge (a half seal across two sheets)
    ax0, ay0 = max(0, -x0), max(0, -y0)
    x0, y0 = max(0, x0), max(0, y0)
    region = out[y0 : y0 + size - ay0, x0 : x0 + size - ax0]
    alpha = alpha[ay0 : ay0 + region.shape[0], ax0 : ax0 + region.shape[1]]
    tint = np.array(colour, np.float32) / 255.0
    region[:] = region * (1 - alpha) + region * tint * alpha  # ink multiplies: black text stays black
    return np.clip(out, 0, 255).astype(np.uint8)


def blank_back(
    dpi: int = 300, seed: int = 0, *, bleed: bool = True, holes: bool = True, paper=(246, 244, 238)
) -> np.ndarray:
    """The back of a form: off-white paper, faint noise, mirrored bleed-through, two punch holes."""
    page = np.full((mm(297, dpi), mm(210, dpi), 3), paper, np.uint8)
    if bleed:
        ghost = cv2.flip(render_form(dpi, seed=seed), 1).astype(np.float32)
        page = (page.astype(np.float32) * (1 - (255 - ghost) / 255 * 0.12)).astype(np.uint8)
    page = speckle(page, density=0.0005, sigma=4, seed=seed)
    if holes:
        for yy in (mm(120, dpi), mm(200, dpi)):
            cv2.circle(page, (mm(12, dpi), yy), mm(3, dpi), (30, 30, 30), -1)
    return page


def page_of(image: np.ndarray, dpi: int = 300, **kw) -> PageState:
    return PageState(source="test.tif", page_no=1, image=np.ascontiguousarray(image), dpi=dpi, **kw)


@pytest.fixture(scope="session")
def form_300() -> np.ndarray:
    return render_form(300, "song", seed=1)


@pytest.fixture(scope="session")
def form_150() -> np.ndarray:
    return render_form(150, "song", seed=2)
