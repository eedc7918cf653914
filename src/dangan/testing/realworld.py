"""Pages the way they really reach an archive room, with exact truth: not only ADF scans.

The synthetic folders (``dangan.testing.synthetic``) are clean A4 forms through a simulated
scanner. Real batches also hold what people photograph, export and fax, and copies pasted on a
sheet. Each class here is one kind of page that broke an earlier pipeline:

    sparse_licence     营业执照 copy at 200 dpi: ten lines in the top third, the rest empty
    licence_inset      a landscape licence copy pasted upright on a portrait sheet
    idcard_sides       both sides of an ID card on one sheet, little else
    screenshot         a form exported as PNG without any resolution tag
    phone_photo        a form photographed on a desk: perspective, uneven light, stored turned
                       90° with the EXIF orientation tag saying so
    exif_upside_down   an upright page stored upside down, EXIF orientation 3
    clean_72dpi        a clean Chinese text page at 72 dpi (a web page or e-mail printout)
    banner_form        an application whose title is white on a dark, full-width banner
    large_title        a contract with a very large title over a ruled table
    fax                a bilevel CCITT G4 TIFF at fax resolution (204 x 196 dpi)
    english            a letter in English (Latin script only)
    turned_*           sparse and inset pages fed turned 90/180/270, with and without skew

``generate_real_world_corpus(folder)`` writes them with ``truth.json`` (a list of
:class:`CorpusPage`); ``defect_pages()`` gives a good scan and one copy per scanning defect
with the QA flag it must raise. Fonts come from Debian's font packages; nothing is downloaded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dangan.testing.synthetic.forms import cn_date, sq_title
from dangan.testing.synthetic.people import CaseProfile, make_case, make_customer
from dangan.testing.synthetic.render import A4_MM, MM_PER_INCH, apply_seal, font, seal_layer
from dangan.testing.synthetic.scanner import degrade

_LATIN = "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"
_LATIN_BOLD = "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf"


@dataclass
class CorpusPage:
    """One stored file (one page) and what is on it."""

    file: str
    kind: str  # the class of page, see the module docstring
    text: str  # printed text, lines in reading order, cells of a row joined by a space
    doc_type: str | None  # document type code of the classification scheme, None if none
    rotation: int = 0  # clockwise degrees that bring the *displayed* image upright (EXIF applied)
    skew: float = 0.0
    account_no: str = ""  # 户号 printed with its label on the page ('' if not printed)
    customer_name: str = ""  # customer name printed with a name label ('' if not printed)
    business_type: str = ""  # for an application page: the business it applies for
    language: str = "zh"


class _Sheet:
    """A white sheet drawn in millimetres; remembers the lines it printed."""

    def __init__(self, dpi: float, size_mm: tuple[float, float] = A4_MM, paper=(255, 255, 255)) -> None:
        self.dpi = dpi
        self.image = Image.new("RGB", (self.px(size_mm[0]), self.px(size_mm[1])), paper)
        self.draw = ImageDraw.Draw(self.image)
        self.lines: list[str] = []

    def px(self, mm: float) -> int:
        return round(mm / MM_PER_INCH * self.dpi)

    def font(self, pt: float, face: str = "song") -> ImageFont.FreeTypeFont:
        size = max(6, round(pt / 72 * self.dpi))
        if face in ("latin", "latin_bold"):
            return ImageFont.truetype(_LATIN if face == "latin" else _LATIN_BOLD, size)
        return font(face, size)

    def text(self, x_mm, y_mm, text, pt, face="song", fill=(0, 0, 0), anchor="lm", record=True) -> None:
        self.draw.text((self.px(x_mm), self.px(y_mm)), text, font=self.font(pt, face), fill=fill, anchor=anchor)
        if record:
            self.lines.append(text)

    def row(self, y_mm, cells: list[tuple[float, str]], pt, face="song") -> None:
        """One printed row of several cells: a single truth line."""
        for x, t in cells:
            self.text(x, y_mm, t, pt, face, record=False)
        self.lines.append(" ".join(t for _, t in cells))


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, 12, *key])


def _company_case(rng: np.random.Generator, business: str = "XZ") -> CaseProfile:
    return make_case(rng, business, make_customer(rng, "company"))


def _person_case(rng: np.random.Generator, business: str = "XZ") -> CaseProfile:
    return make_case(rng, business, make_customer(rng, "person"))


# --------------------------------------------------------------------------------------------
# Page classes: each returns (image, truth) with truth.file left for the writer


def licence_lines(case: CaseProfile, rng: np.random.Generator) -> list[tuple[str, str]]:
    c = case.customer
    founded = dt.date(int(rng.integers(2003, 2020)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    return [
        ("统一社会信用代码", c.uscc),
        ("名称", c.name),
        ("类型", "有限责任公司（自然人投资或控股）"),
        ("法定代表人", c.person_name),
        ("注册资本", f"{int(rng.integers(1, 50)) * 100}万元整"),
        ("成立日期", cn_date(founded)),
        ("营业期限", "长期"),
        ("住所", c.address),
        ("登记机关", f"{c.city}市场监督管理局"),
    ]


def sparse_licence(seed: int) -> tuple[Image.Image, CorpusPage]:
    """A 营业执照 copy as offices print it: heading and nine lines at the top, nothing else."""
    rng = _rng(seed, 1)
    case = _company_case(rng)
    s = _Sheet(200)
    s.text(A4_MM[0] / 2, 22, "营业执照", 22, "hei_bold", anchor="mm")
    s.text(A4_MM[0] / 2, 32, "（副本）", 11, anchor="mm")
    y = 44
    for label, value in licence_lines(case, rng):
        s.row(y, [(28, label), (68, value)], 10.5)
        y += 7.5
    return s.image, CorpusPage("", "sparse_licence", "\n".join(s.lines), "ZG")


def _licence_picture(case: CaseProfile, rng: np.random.Generator, dpi: float) -> tuple[Image.Image, list[str]]:
    """The licence itself: landscape, framed, with a seal (the copy that gets pasted)."""
    s = _Sheet(dpi, (180.0, 120.0), paper=(250, 248, 240))
    s.draw.rectangle([s.px(3), s.px(3), s.px(177), s.px(117)], outline=(150, 90, 40), width=s.px(1.2))
    s.text(90, 16, "营业执照", 20, "hei_bold", anchor="mm")
    y = 32
    for label, value in licence_lines(case, rng)[:8]:
        s.row(y, [(12, label), (48, value[:24])], 9)
        y += 9.5
    ink = seal_layer(s.px(32), f"{case.customer.city}市场监督管理局", "", rng)
    return apply_seal(s.image, (s.px(150), s.px(100)), ink), s.lines


def licence_inset(seed: int) -> tuple[Image.Image, CorpusPage]:
    """A portrait sheet: a short heading, the landscape licence copy pasted upright, a signature."""
    rng = _rng(seed, 2)
    case = _company_case(rng)
    s = _Sheet(300)
    s.text(A4_MM[0] / 2, 22, "营业执照（副本）复印件", 16, "hei_bold", anchor="mm")
    picture, lines = _licence_picture(case, rng, 300)
    s.image.paste(picture, (s.px(15), s.px(34)))
    s.lines += lines
    s.text(30, 170, f"法定代表人（签字）：{case.customer.person_name}", 11)
    s.text(30, 180, f"日期：{cn_date(case.business_date)}", 11)
    return s.image, CorpusPage("", "licence_inset", "\n".join(s.lines), "ZG")


def idcard_sides(seed: int) -> tuple[Image.Image, CorpusPage]:
    """Front and back of an ID card copied on one sheet, a line of text under them."""
    rng = _rng(seed, 3)
    case = _person_case(rng)
    c = case.customer
    s = _Sheet(300)
    s.text(A4_MM[0] / 2, 20, "居民身份证复印件", 16, "hei_bold", anchor="mm")
    w, h = 85.6 * 1.3, 54.0 * 1.3
    x0 = (A4_MM[0] - w) / 2
    y0 = 32
    s.draw.rounded_rectangle([s.px(x0), s.px(y0), s.px(x0 + w), s.px(y0 + h)], s.px(4), fill=(232, 232, 232))
    s.draw.rectangle([s.px(x0 + w * 0.66), s.px(y0 + 8), s.px(x0 + w * 0.93), s.px(y0 + 46)], fill=(200, 200, 200))
    s.row(y0 + 9, [(x0 + 6, "姓名"), (x0 + 20, c.person_name)], 9.5)
    s.row(y0 + 17, [(x0 + 6, "性别"), (x0 + 20, c.gender), (x0 + 34, "民族"), (x0 + 48, c.ethnicity)], 9.5)
    s.text(x0 + 6, y0 + 25, f"出生 {c.birth_date.year}年{c.birth_date.month}月{c.birth_date.day}日", 9.5)
    addr = c.address
    s.row(y0 + 33, [(x0 + 6, "住址"), (x0 + 20, addr[:12])], 9.5)
    if addr[12:]:
        s.text(x0 + 20, y0 + 40, addr[12:24], 9.5)
    s.text(x0 + 6, y0 + h - 7, f"公民身份号码 {c.id_number}", 10)
    y0 += h + 10
    s.draw.rounded_rectangle([s.px(x0), s.px(y0), s.px(x0 + w), s.px(y0 + h)], s.px(4), fill=(232, 232, 232))
    s.text(x0 + w * 0.6, y0 + 12, "中华人民共和国", 11, "hei", anchor="mm")
    s.text(x0 + w * 0.6, y0 + 24, "居民身份证", 17, "hei_bold", anchor="mm")
    s.text(x0 + 16, y0 + h - 17, f"签发机关 {c.city}公安局", 9.5)
    issue = case.business_date.replace(year=case.business_date.year - 5)
    s.text(x0 + 16, y0 + h - 9, f"有效期限 {issue:%Y.%m.%d}-{issue.replace(year=issue.year + 20):%Y.%m.%d}", 9.5)
    return s.image, CorpusPage("", "idcard_sides", "\n".join(s.lines), "SF", customer_name=c.person_name)


def _application(s: _Sheet, case: CaseProfile, top: float, face: str = "song", pt: float = 11) -> float:
    """The body of an application form: labelled rows in a ruled table. Returns the y below it."""
    c = case.customer
    rows = [
        [("户名", c.name), ("户号", c.account_no)],
        [("用电地址", c.address)],
        [("联系人", c.person_name), ("联系电话", c.phone)],
        [("业务类型", case.business_name), ("申请容量", f"{c.capacity_kva} kVA")],
    ]
    left, right, mid = 20, A4_MM[0] - 20, A4_MM[0] / 2
    y, step = top, 11
    lw = max(1, s.px(0.25))
    for cells in rows:
        s.draw.line([s.px(left), s.px(y), s.px(right), s.px(y)], fill=(0, 0, 0), width=lw)
        out = []
        for i, (label, value) in enumerate(cells):
            x = left if i == 0 else mid
            out += [(x + 2, label), (x + 26, value if len(cells) > 1 else value[:28])]
        s.row(y + step / 2, out, pt, face)
        y += step
    s.draw.line([s.px(left), s.px(y), s.px(right), s.px(y)], fill=(0, 0, 0), width=lw)
    for x in (left, right):
        s.draw.line([s.px(x), s.px(top), s.px(x), s.px(y)], fill=(0, 0, 0), width=lw)
    s.text(left, y + 10, f"本人申请办理{case.business_name}业务，所填资料真实有效。", pt, face)
    s.text(left, y + 22, f"申请人（签章）：{c.person_name}    申请日期：{cn_date(case.business_date)}", pt, face)
    return y + 30


def screenshot(seed: int) -> tuple[Image.Image, CorpusPage]:
    """An application form exported from a PC: crisp anti-aliased text at screen resolution,
    PNG with no resolution recorded."""
    rng = _rng(seed, 4)
    case = _person_case(rng, "XZ")
    s = _Sheet(110)
    s.text(A4_MM[0] / 2, 20, sq_title(case), 18, "hei_bold", anchor="mm")
    s.text(20, 32, f"工单编号：{case.work_order_no}", 11, "hei")
    _application(s, case, 40, "hei")
    page = CorpusPage("", "screenshot", "\n".join(s.lines), "SQ", 0, 0.0, case.customer.account_no, case.customer.name)
    page.business_type = case.business_type
    return s.image, page


def _perspective_photo(page: Image.Image, rng: np.random.Generator, long_side: int = 2000) -> np.ndarray:
    """The sheet photographed on a desk: a little perspective, a dark desk round it, a light
    fall-off and sensor noise, at a phone's resolution."""
    arr = np.asarray(page.convert("RGB"))
    h, w = arr.shape[:2]
    out_h, out_w = long_side, round(long_side * w / h * 1.08)
    margin = np.array([out_w * 0.05, out_h * 0.04])
    jitter = rng.uniform(-0.015, 0.015, (4, 2)) * [out_w, out_h]
    dst = np.float32(
        [margin, [out_w - margin[0], margin[1]], [out_w - margin[0], out_h - margin[1]], [margin[0], out_h - margin[1]]]
        + jitter
    )
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(src, dst)
    desk = np.full((out_h, out_w, 3), (70, 58, 48), np.uint8)
    photo = cv2.warpPerspective(arr, m, (out_w, out_h), dst=desk, borderMode=cv2.BORDER_TRANSPARENT)
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    light = 1.0 - 0.18 * ((xx / out_w - 0.2) ** 2 + (yy / out_h - 0.1) ** 2)
    photo = photo.astype(np.float32) * light[..., None] * np.float32([1.0, 0.98, 0.93])
    photo += rng.normal(0, 3.0, photo.shape[:2])[..., None]
    return np.clip(photo, 0, 255).astype(np.uint8)


def phone_photo(seed: int) -> tuple[Image.Image, CorpusPage]:
    """An application photographed with a phone held sideways: stored pixels turned 90°,
    EXIF orientation 6 says so; no dpi."""
    rng = _rng(seed, 5)
    case = _person_case(rng, "GH")
    s = _Sheet(200)
    s.text(A4_MM[0] / 2, 20, sq_title(case), 18, "hei_bold", anchor="mm")
    s.text(20, 32, f"工单编号：{case.work_order_no}", 11)
    _application(s, case, 40, "song", 12)
    photo = _perspective_photo(s.image, rng)
    stored = np.ascontiguousarray(np.rot90(photo, k=1))  # sensor frame: turned 90° counter-clockwise
    page = CorpusPage("", "phone_photo", "\n".join(s.lines), "SQ", 0, 0.0, case.customer.account_no, case.customer.name)
    page.business_type = case.business_type
    return Image.fromarray(stored), page


def exif_upside_down(seed: int) -> tuple[Image.Image, CorpusPage]:
    """An application scanned upside down by an app that records EXIF orientation 3 instead of
    turning the pixels."""
    rng = _rng(seed, 6)
    case = _person_case(rng, "XH")
    s = _Sheet(200)
    s.text(A4_MM[0] / 2, 20, sq_title(case), 18, "hei_bold", anchor="mm")
    _application(s, case, 34, "kai", 12)
    scan = degrade(s.image, rng, speckle=0.0002, dpi=200)
    page = CorpusPage(
        "", "exif_upside_down", "\n".join(s.lines), "SQ", 0, 0.0, case.customer.account_no, case.customer.name
    )
    page.business_type = case.business_type
    return scan.rotate(180), page


NEWS = (
    "国家能源局发布数据显示，今年前三季度全社会用电量同比增长，第一产业用电量增长较快，",
    "第二产业和第三产业用电量保持平稳增长。城乡居民生活用电量同比增长，充电服务业用电量",
    "增长明显。各地供电企业持续优化营商环境，压减办电环节和时间，推行线上办电和一证办电，",
    "居民客户办电实现零跑腿，小微企业低压接电实现零投资。供电服务热线受理客户诉求，",
    "工单办结率和客户满意率稳步提升。下一步将加强电网建设，保障迎峰度冬期间电力可靠供应。",
)


def clean_72dpi(seed: int) -> tuple[Image.Image, CorpusPage]:
    """A clean text page from a web page or e-mail, 72 dpi: small characters, no noise at all."""
    s = _Sheet(72, (190.0, 120.0))
    s.text(95, 12, "前三季度全社会用电量稳步增长", 18, "hei_bold", anchor="mm")
    y = 26
    for line in NEWS[seed % 2 :] + NEWS[: seed % 2]:
        s.text(8, y, line, 11.5, "song")
        y += 8
    return s.image, CorpusPage("", "clean_72dpi", "\n".join(s.lines), None)


def banner_form(seed: int) -> tuple[Image.Image, CorpusPage]:
    """An application whose title is printed white on a dark banner across the top edge."""
    rng = _rng(seed, 8)
    case = _company_case(rng, "JR")
    s = _Sheet(300)
    s.draw.rectangle([0, 0, s.image.width, s.px(30)], fill=(28, 44, 90))
    s.text(A4_MM[0] / 2, 15, sq_title(case), 20, "hei_bold", fill=(255, 255, 255), anchor="mm")
    s.text(20, 40, f"工单编号：{case.work_order_no}", 11)
    _application(s, case, 48, "song")
    scan = degrade(s.image, rng, speckle=0.0002, dpi=300)
    page = CorpusPage("", "banner_form", "\n".join(s.lines), "SQ", 0, 0.0, case.customer.account_no, case.customer.name)
    page.business_type = case.business_type
    return scan, page


def large_title(seed: int) -> tuple[Image.Image, CorpusPage]:
    """A contract cover with very large title characters over a ruled table."""
    rng = _rng(seed, 9)
    case = _person_case(rng, "XZ")
    c = case.customer
    s = _Sheet(300)
    s.text(A4_MM[0] / 2, 40, "中国国家电网", 40, "song_bold", anchor="mm")
    s.text(A4_MM[0] / 2, 68, "居民供用电合同", 36, "hei_bold", anchor="mm")
    y = 95
    lw = max(1, s.px(0.3))
    for label, value in (("户名", c.name), ("户号", c.account_no), ("用电地址", c.address[:22])):
        s.draw.line([s.px(20), s.px(y), s.px(190), s.px(y)], fill=(0, 0, 0), width=lw)
        s.row(y + 6, [(24, label), (60, value)], 12)
        y += 12
    s.draw.line([s.px(20), s.px(y), s.px(190), s.px(y)], fill=(0, 0, 0), width=lw)
    for x in (20, 55, 190):
        s.draw.line([s.px(x), s.px(95), s.px(x), s.px(y)], fill=(0, 0, 0), width=lw)
    scan = degrade(s.image, rng, speckle=0.0002, dpi=300)
    return scan, CorpusPage("", "large_title", "\n".join(s.lines), "HT", 0, 0.0, c.account_no, c.name)


def fax(seed: int) -> tuple[Image.Image, CorpusPage]:
    """An application received by fax: bilevel, 204 x 196 dpi (pixels not square), G4 TIFF."""
    rng = _rng(seed, 10)
    case = _person_case(rng, "ZT")
    s = _Sheet(200)
    s.text(A4_MM[0] / 2, 20, sq_title(case), 18, "hei_bold", anchor="mm")
    s.text(20, 32, f"工单编号：{case.work_order_no}", 12)
    _application(s, case, 40, "song", 12)
    grey = np.asarray(s.image.convert("L"))
    h, w = grey.shape
    grey = cv2.resize(grey, (round(w * 204 / 200), round(h * 196 / 200)), interpolation=cv2.INTER_AREA)
    bilevel = Image.fromarray(np.where(grey > 150, 255, 0).astype(np.uint8)).convert("1")
    page = CorpusPage("", "fax", "\n".join(s.lines), "SQ", 0, 0.0, case.customer.account_no, case.customer.name)
    page.business_type = case.business_type
    return bilevel, page


LETTER = (
    "Dear Customer Service Team,",
    "We write to confirm the transfer of our electricity account to the new",
    "owner of the property at 88 Harbour Road, effective from 1 March 2024.",
    "Please close the old account after the final meter reading and send the",
    "settlement of any remaining balance to the address given below.",
    "The meter number is 4021 7735 and the account holder is Mr Wang Jianguo.",
    "Thank you for your assistance.",
    "Yours faithfully,",
    "Harbour Trading Limited",
)


def english(seed: int) -> tuple[Image.Image, CorpusPage]:
    s = _Sheet(300)
    y = 30
    for line in LETTER:
        s.text(25, y, line, 12, "latin")
        y += 9
    rng = _rng(seed, 11)
    return degrade(s.image, rng, speckle=0.0002, dpi=300), CorpusPage(
        "", "english", "\n".join(s.lines), None, language="en"
    )


# --------------------------------------------------------------------------------------------
# Writing the corpus


def _save(image: Image.Image, path: Path, fmt: str, dpi: float | tuple | None, exif_orientation: int = 0) -> None:
    kw: dict = {}
    if dpi is not None:
        kw["dpi"] = dpi if isinstance(dpi, tuple) else (dpi, dpi)
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        kw["exif"] = exif.tobytes()
    if fmt == "JPEG":
        image.convert("RGB").save(path, "JPEG", quality=85, **kw)
    elif fmt == "TIFF":
        image.save(path, "TIFF", compression="group4", **kw)
    else:
        image.save(path, "PNG", **kw)


def generate_real_world_corpus(out_dir: str | Path, seed: int = 0) -> list[CorpusPage]:
    """Write one or two pages of every class, and the turned variants, with ``truth.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages: list[CorpusPage] = []

    def write(image: Image.Image, page: CorpusPage, name: str, fmt: str, dpi, exif: int = 0) -> None:
        page.file = name
        _save(image, out / name, fmt, dpi, exif)
        pages.append(page)

    for i in range(2):
        img, p = sparse_licence(seed + i)
        write(degrade(img, _rng(seed + i, 20), speckle=0.0002, dpi=200), p, f"sparse-licence-{i}.png", "PNG", 200)
        img, p = licence_inset(seed + i)
        write(degrade(img, _rng(seed + i, 21), speckle=0.0002, dpi=300), p, f"licence-inset-{i}.jpg", "JPEG", 300)
        img, p = idcard_sides(seed + i)
        write(degrade(img, _rng(seed + i, 22), speckle=0.0002, dpi=300), p, f"idcard-sides-{i}.jpg", "JPEG", 300)
    img, p = screenshot(seed)
    write(img, p, "screenshot.png", "PNG", None)
    img, p = phone_photo(seed)
    write(img, p, "phone-photo.jpg", "JPEG", None, exif=6)
    img, p = exif_upside_down(seed)
    write(img, p, "exif-upside-down.jpg", "JPEG", 200, exif=3)
    for i in range(2):
        img, p = clean_72dpi(seed + i)
        write(img, p, f"clean-72dpi-{i}.png", "PNG", 72)
    img, p = banner_form(seed)
    write(img, p, "banner-form.png", "PNG", 300)
    img, p = large_title(seed)
    write(img, p, "large-title.png", "PNG", 300)
    img, p = fax(seed)
    write(img, p, "fax.tif", "TIFF", (204, 196))
    img, p = english(seed)
    write(img, p, "english.png", "PNG", 300)
    # Orientation: sparse and inset sheets fed turned, some also crooked.
    turns = ((90, 0.0), (180, 1.5), (270, -2.0), (90, 2.5))
    for i, (turn, skew) in enumerate(turns):
        make = sparse_licence if i % 2 == 0 else idcard_sides
        img, p = make(seed + 10 + i)
        dpi = 200 if make is sparse_licence else 300
        scan = degrade(img, _rng(seed + i, 23), skew_deg=skew, rotate=turn, speckle=0.0002, dpi=dpi)
        p.kind, p.rotation, p.skew = f"turned_{p.kind}", turn, skew
        write(scan, p, f"turned-{turn}-{i}.png", "PNG", dpi)
    (out / "truth.json").write_text(
        json.dumps([asdict(p) for p in pages], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return pages


def load_real_world_truth(path: str | Path) -> list[CorpusPage]:
    return [CorpusPage(**p) for p in json.loads(Path(path).read_text(encoding="utf-8"))]


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    """Image bytes in FMT (tests build files in memory)."""
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Scanning defects, each with the QA flag it must raise


@dataclass
class DefectPage:
    name: str
    image: Image.Image
    dpi: int
    flag: str  # the flag code the page must raise ('' for a good page)
    severity: str  # 'fail' (the QA queue) or 'warn'


def defect_pages(seed: int = 0) -> list[DefectPage]:
    """An application form scanned well, and the same form with one defect each."""
    rng = _rng(seed, 30)
    case = _person_case(rng, "XZ")

    def sheet(dpi: float) -> Image.Image:
        s = _Sheet(dpi)
        s.text(A4_MM[0] / 2, 20, sq_title(case), 18, "hei_bold", anchor="mm")
        s.text(20, 32, f"工单编号：{case.work_order_no}", 11)
        _application(s, case, 40, "song")
        return s.image

    good = sheet(300)
    arr = np.asarray(good).astype(np.float32)
    mm = 300 / 25.4
    sealed = apply_seal(
        good, (round(150 * mm), round(98 * mm)), seal_layer(round(42 * mm), "国网某市供电公司业务专用章", "", rng)
    )
    corner = np.asarray(good).copy()
    h, w = corner.shape[:2]
    tri = np.array([[w, h], [w - int(0.75 * w), h], [w, h - int(0.75 * h)]], np.int32)
    cv2.fillPoly(corner, [tri], (10, 10, 10))  # a folded-back corner showing the black lid

    def blurred(mm_sigma: float) -> Image.Image:
        return Image.fromarray(cv2.GaussianBlur(np.asarray(good), (0, 0), mm_sigma * mm))

    return [
        DefectPage("good", good, 300, "", ""),
        DefectPage("150-dpi", sheet(150), 150, "low_dpi", "fail"),
        DefectPage("240-dpi", sheet(240), 240, "low_dpi", "warn"),
        DefectPage("crooked", degrade(good, rng, skew_deg=7.5, paper_tone=False), 300, "skew", "fail"),
        DefectPage("blurred", blurred(0.3), 300, "blur", "fail"),
        DefectPage("soft", blurred(0.2), 300, "blur", "warn"),
        DefectPage("dark", Image.fromarray((arr * 0.5).astype(np.uint8)), 300, "too_dark", "fail"),
        DefectPage("faint", Image.fromarray((200 + arr * 55 / 255).astype(np.uint8)), 300, "faint", "fail"),
        DefectPage("grey-seal", sealed.convert("L").convert("RGB"), 300, "seal_not_colour", "fail"),
        DefectPage("folded-corner", Image.fromarray(corner), 300, "black_area", "warn"),
    ]
