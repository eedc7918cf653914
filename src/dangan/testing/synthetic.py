"""Synthetic scanned customer files with exact ground truth.

Builds believable customers and business cases, renders the utility's paper forms as A4 page
images (title, form grid, clauses, signatures, red seals), degrades them like an ADF scanner
would (skew, upside-down sheets, dust, paper tone, blur, JPEG loss) and writes them as
scanner-style PDFs or single images, always together with the truth: which document each page
belongs to and the exact text printed on it.

Conventions of the truth:
- ``rotation``: clockwise degrees that must be applied to the stored page to make it upright
  (same meaning as ``PageState.rotation``). 180 = the sheet went through upside down.
- ``skew``: degrees the page content was turned counter-clockwise (PIL/OpenCV sign);
  undoing it means rotating by ``-skew``.
- ``lines``: printed text in reading order; cells of one form row are joined by one space.
  Seal text is not part of ``lines`` (it is reported in ``seal_text``).

Everything is deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from stdnum.cn import ric, uscc

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
# Customers and cases

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志文博晨亮成峰"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英华红梅琳燕萍雪慧颖倩婷琴云莉兰凤洁佳欣悦晶月雯怡"
ETHNICITIES = ("汉",) * 18 + ("回", "满")

# (province, city, district, 6-digit administrative code used in 身份证 numbers)
REGIONS = (
    ("江苏省", "南京市", "玄武区", "320102"),
    ("江苏省", "南京市", "秦淮区", "320104"),
    ("江苏省", "南京市", "鼓楼区", "320106"),
    ("江苏省", "南京市", "建邺区", "320105"),
    ("江苏省", "南京市", "雨花台区", "320114"),
    ("安徽省", "合肥市", "蜀山区", "340104"),
    ("安徽省", "合肥市", "包河区", "340111"),
    ("安徽省", "合肥市", "庐阳区", "340103"),
    ("浙江省", "杭州市", "西湖区", "330106"),
    ("浙江省", "杭州市", "上城区", "330102"),
    ("山东省", "济南市", "历下区", "370102"),
    ("山东省", "济南市", "槐荫区", "370104"),
    ("湖北省", "武汉市", "武昌区", "420106"),
    ("湖北省", "武汉市", "洪山区", "420111"),
    ("河南省", "郑州市", "金水区", "410105"),
    ("河南省", "郑州市", "中原区", "410102"),
)
ROADS = (
    "中山路",
    "人民路",
    "解放路",
    "建设路",
    "和平路",
    "长江路",
    "黄河路",
    "文化路",
    "新华街",
    "胜利街",
    "光明路",
    "东风路",
    "青年路",
    "北京东路",
    "学府路",
    "工农路",
    "幸福大街",
    "望江路",
)
ESTATES = (
    "阳光花园",
    "翠苑小区",
    "锦绣家园",
    "金色港湾",
    "幸福里",
    "名仕华庭",
    "绿地新城",
    "和谐家园",
    "书香苑",
    "梧桐苑",
    "紫金花园",
    "滨江明珠",
    "桂花园",
    "馨园小区",
    "东方御府",
    "丽景湾",
)
TRADE_NAMES = (
    "宏达",
    "华兴",
    "恒通",
    "鑫源",
    "永盛",
    "瑞丰",
    "金鼎",
    "泰和",
    "新锐",
    "诚信",
    "润泽",
    "中联",
    "天成",
    "博远",
    "盛世",
    "海纳",
)
INDUSTRIES = (
    ("机械制造", "通用机械设备制造、加工、销售"),
    ("食品", "食品生产、加工及销售"),
    ("纺织", "纺织品、服装生产及销售"),
    ("电子科技", "电子产品研发、生产、销售及技术服务"),
    ("建材", "建筑材料生产、销售"),
    ("物流", "普通货物道路运输、仓储服务"),
    ("塑料制品", "塑料制品制造、销售"),
    ("精密铸造", "金属铸件生产、加工、销售"),
)

BUSINESS_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "XZ": ("新装", ("SQ", "SF", "CQ", "KC", "FA", "HT", "ZB")),
    "ZT": ("暂停", ("SQ", "ZG", "JQ", "FT")),
    "GH": ("过户", ("SQ", "SF", "CQ", "JQ", "HT")),
    "XH": ("销户", ("SQ", "SF", "JQ", "CB")),
    "JR": ("减容", ("SQ", "ZG", "JQ", "FT")),
}

DOC_TITLES: dict[str, str] = {
    "SQ": "用电申请书",
    "SF": "居民身份证复印件",
    "ZG": "营业执照（副本）复印件",
    "WT": "授权委托书",
    "CQ": "房屋所有权证复印件",
    "KC": "现场勘查工作单",
    "FA": "供电方案答复单",
    "FY": "业务费用缴费凭证",
    "JG": "竣工检验意见单",
    "HT": "供用电合同",
    "ZB": "装表接电工作单",
    "JQ": "电费结清证明",
    "FT": "加封（封停）工作单",
    "QF": "启封工作单",
    "CB": "拆表工作单",
    "SM": "客户承诺书",
}
# Every title any document type may print on its first page (the classifier's OCR hints).
PRINTED_TITLES: dict[str, tuple[str, ...]] = {
    **{code: (title,) for code, title in DOC_TITLES.items()},
    "SQ": ("用电申请书", "低压居民生活用电登记表", "暂停（减容）用电申请表", "变更用电申请表", "销户申请表"),
    "CQ": ("房屋所有权证复印件", "不动产权证书"),
}


@dataclass(frozen=True)
class CustomerProfile:
    """One electricity customer. For a company, ``id_number`` is its legal representative's."""

    account_no: str  # 户号, 10 digits
    name: str  # 户名: person's name or company name
    kind: str  # 'person' | 'company'
    id_number: str  # 公民身份号码 (valid GB 11643)
    person_name: str  # the natural person (customer, or legal representative)
    gender: str
    ethnicity: str
    birth_date: dt.date
    address: str  # 用电地址
    province: str
    city: str
    district: str
    phone: str
    voltage: str  # '0.4kV' | '10kV'
    capacity_kva: int
    uscc: str = ""  # 统一社会信用代码, companies only
    industry: str = ""
    business_scope: str = ""


@dataclass(frozen=True)
class CaseProfile:
    """One business case (业务工单) of one customer and the documents it produced."""

    business_type: str  # XZ, ZT, GH, XH, JR
    work_order_no: str  # 工单编号, 16 digits = YYYYMMDD + serial
    customer: CustomerProfile
    business_date: dt.date
    doc_types: tuple[str, ...]
    previous_owner: str = ""  # 过户: the old account holder
    new_capacity_kva: int = 0  # 减容: running capacity after the reduction

    @property
    def business_name(self) -> str:
        return BUSINESS_TYPES[self.business_type][0]


def _pick(rng: np.random.Generator, items: Sequence):
    return items[int(rng.integers(len(items)))]


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def make_person_name(rng: np.random.Generator, gender: str) -> str:
    """A common Chinese name: one surname, one or two given-name characters."""
    pool = GIVEN_MALE if gender == "男" else GIVEN_FEMALE
    given = "".join(_pick(rng, pool) for _ in range(1 + int(rng.random() < 0.7)))
    return _pick(rng, SURNAMES) + given


def make_id_number(rng: np.random.Generator, region_code: str, birth: dt.date, gender: str) -> str:
    """A valid 18-character 公民身份号码 (GB 11643, MOD 11-2); odd sequence digit = male."""
    seq = int(rng.integers(0, 100)) * 10 + int(rng.integers(0, 5)) * 2 + (1 if gender == "男" else 0)
    body = f"{region_code}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check char


_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _org_code_check(code8: str) -> str:
    """GB 11714 check character of an 8-character organisation code."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(code8, (3, 7, 9, 10, 5, 8, 4, 2)))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: np.random.Generator, region_code: str) -> str:
    """A valid 统一社会信用代码 (GB 32100): 9=市场监管, 1=企业, region, org code, check."""
    org8 = _digits(rng, 8)
    body = "91" + region_code + org8 + _org_code_check(org8)
    return body + uscc.calc_check_digit(body)


def make_address(rng: np.random.Generator, region: tuple[str, str, str, str], *, company: bool) -> str:
    province, city, district, _ = region
    street = f"{province}{city}{district}{_pick(rng, ROADS)}{int(rng.integers(1, 400))}号"
    if company:
        return street + _pick(rng, ("", "工业园", "科技园", "产业园")) + (f"{int(rng.integers(1, 9))}号厂房")
    floor, room = int(rng.integers(1, 19)), int(rng.integers(1, 5))
    return f"{street}{_pick(rng, ESTATES)}{int(rng.integers(1, 30))}栋{int(rng.integers(1, 5))}单元{floor}{room:02d}室"


def make_customer(rng: np.random.Generator, kind: str = "person") -> CustomerProfile:
    """One customer: a household on 0.4kV, or a company on 10kV."""
    if kind not in ("person", "company"):
        raise ValueError(f"customer kind must be 'person' or 'company', got {kind!r}")
    region = _pick(rng, REGIONS)
    gender = _pick(rng, ("男", "女"))
    person = make_person_name(rng, gender)
    # stdnum knows region codes from 1983 on; adults born 1983-2000 keep the numbers valid
    birth = dt.date(int(rng.integers(1983, 2001)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    id_number = make_id_number(rng, region[3], birth, gender)
    account_no = str(int(rng.integers(1, 10))) + _digits(rng, 9)
    phone = "1" + _pick(rng, "3578") + _digits(rng, 9)
    if kind == "person":
        return CustomerProfile(
            account_no=account_no,
            name=person,
            kind=kind,
            id_number=id_number,
            person_name=person,
            gender=gender,
            ethnicity=_pick(rng, ETHNICITIES),
            birth_date=birth,
            address=make_address(rng, region, company=False),
            province=region[0],
            city=region[1],
            district=region[2],
            phone=phone,
            voltage="0.4kV",
            capacity_kva=int(_pick(rng, (4, 6, 8, 10, 12, 16))),
        )
    industry, scope = _pick(rng, INDUSTRIES)
    name = f"{region[1].removesuffix('市')}{_pick(rng, TRADE_NAMES)}{industry}有限公司"
    return CustomerProfile(
        account_no=account_no,
        name=name,
        kind=kind,
        id_number=id_number,
        person_name=person,
        gender=gender,
        ethnicity=_pick(rng, ETHNICITIES),
        birth_date=birth,
        address=make_address(rng, region, company=True),
        province=region[0],
        city=region[1],
        district=region[2],
        phone=phone,
        voltage="10kV",
        capacity_kva=int(_pick(rng, (250, 315, 400, 500, 630, 800, 1000, 1250))),
        uscc=make_uscc(rng, region[3]),
        industry=industry,
        business_scope=scope,
    )


def make_customers(n: int, seed: int = 0, *, company_share: float = 0.3) -> list[CustomerProfile]:
    """``n`` distinct customers (unique 户号), about ``company_share`` of them companies."""
    if n < 0:
        raise ValueError("number of customers must not be negative")
    rng = np.random.default_rng(seed)
    customers: list[CustomerProfile] = []
    seen: set[str] = set()
    while len(customers) < n:
        c = make_customer(rng, "company" if rng.random() < company_share else "person")
        if c.account_no not in seen:
            seen.add(c.account_no)
            customers.append(c)
    return customers


def make_work_order_no(rng: np.random.Generator, business_date: dt.date) -> str:
    """16-digit 工单编号: business date YYYYMMDD + 8-digit serial."""
    return f"{business_date:%Y%m%d}{int(rng.integers(1, 10**8)):08d}"


def make_case(rng: np.random.Generator, business_type: str, customer: CustomerProfile) -> CaseProfile:
    if business_type not in BUSINESS_TYPES:
        raise ValueError(f"unknown business type {business_type!r}; known: {sorted(BUSINESS_TYPES)}")
    day = dt.date(2023, 1, 3) + dt.timedelta(days=int(rng.integers(0, 540)))
    previous = make_person_name(rng, _pick(rng, ("男", "女"))) if business_type == "GH" else ""
    reduced = int(customer.capacity_kva * 0.5) if business_type == "JR" else 0
    return CaseProfile(
        business_type, make_work_order_no(rng, day), customer, day, BUSINESS_TYPES[business_type][1], previous, reduced
    )


# --------------------------------------------------------------------------------------------
# Document content: each document type is a list of layout blocks (table-driven rendering)


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _company_of(c: CustomerProfile) -> str:
    return f"国网{c.city.removesuffix('市')}供电公司"


def _days(case: CaseProfile, n: int) -> dt.date:
    return case.business_date + dt.timedelta(days=n)


def sq_title(case: CaseProfile) -> str:
    """Which variant of the application form a business case prints."""
    if case.business_type in ("ZT", "JR"):
        return "暂停（减容）用电申请表"
    if case.business_type == "GH":
        return "变更用电申请表"
    if case.business_type == "XH":
        return "销户申请表"
    return "低压居民生活用电登记表" if case.customer.kind == "person" and case.business_type == "XZ" else "用电申请书"


def _head(case: CaseProfile) -> tuple:
    return ("meta", f"工单编号：{case.work_order_no}", f"户号：{case.customer.account_no}")


def _usage(c: CustomerProfile) -> str:
    return "居民生活用电" if c.kind == "person" else "一般工商业用电"


def _content_sq(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    id_label = "证件号码" if c.kind == "person" else "统一社会信用代码"
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("用电地址", 1), (c.address, 3)],
        [
            ("证件类型", 1),
            ("居民身份证" if c.kind == "person" else "营业执照", 1),
            (id_label, 1),
            (c.id_number if c.kind == "person" else c.uscc, 1),
        ],
        [("联系人", 1), (c.person_name, 1), ("联系电话", 1), (c.phone, 1)],
        [("用电类别", 1), (_usage(c), 1), ("供电电压", 1), (c.voltage, 1)],
    ]
    bt = case.business_type
    if bt == "XZ":
        rows.append([("业务类型", 1), ("新装", 1), ("申请容量", 1), (f"{c.capacity_kva} kVA", 1)])
        body = (
            f"本人（单位）因生活（生产）需要，申请在上述地址新装用电，申请容量{c.capacity_kva}kVA。"
            "本人承诺所提供的资料真实、合法、有效，并同意按照供电企业的规定办理相关手续，"
            "按时交纳电费及相关费用。"
        )
    elif bt in ("ZT", "JR"):
        after = case.new_capacity_kva or 0
        rows.append([("原合同容量", 1), (f"{c.capacity_kva} kVA", 1), ("申请后运行容量", 1), (f"{after} kVA", 1)])
        rows.append([("申请类型", 1), (case.business_name, 1), ("申请起始日期", 1), (cn_date(_days(case, 5)), 1)])
        body = (
            f"我单位因生产经营调整，申请办理{case.business_name}业务，涉及受电变压器一台，"
            f"自{cn_date(_days(case, 5))}起执行。我单位已结清全部电费及违约金，"
            "并知悉暂停（减容）期间的基本电费计收规定。"
        )
    elif bt == "GH":
        rows.append([("原户名", 1), (case.previous_owner, 1), ("新户名", 1), (c.name, 1)])
        rows.append([("变更事项", 1), ("过户", 1), ("申请容量", 1), (f"{c.capacity_kva} kVA", 1)])
        body = (
            f"因房屋产权转移，原户名{case.previous_owner}的用电户申请过户至{c.name}名下。"
            "原户已结清全部电费，新户承诺承继原供用电合同的权利义务，并重新签订供用电合同。"
        )
    else:  # XH
        rows.append([("业务类型", 1), ("销户", 1), ("原合同容量", 1), (f"{c.capacity_kva} kVA", 1)])
        body = (
            "本人（单位）因不再用电，申请办理销户，拆除计量装置并终止供用电合同。"
            "本人已结清全部电费，同意以拆表示数作为最终结算依据，余款退至本人账户。"
        )
    office = [
        [
            ("受理人", 1),
            (make_person_name(rng, _pick(rng, ("男", "女"))), 1),
            ("受理日期", 1),
            (cn_date(case.business_date), 1),
        ],
        [("受理单位", 1), (f"{_company_of(c)}{c.district}营业厅", 3)],
    ]
    return [
        ("title", sq_title(case)),
        _head(case),
        ("table", rows),
        ("para", body),
        ("sign", f"申请人（签章）：{c.person_name}", f"申请日期：{cn_date(case.business_date)}"),
        ("gap",),
        ("line", "以下由供电企业填写"),
        ("table", office),
    ]


def _wrap_card_text(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def _content_sf(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    issue = dt.date(int(rng.integers(2012, 2022)), c.birth_date.month, c.birth_date.day)
    front = [
        f"姓名 {c.person_name}",
        f"性别 {c.gender} 民族 {c.ethnicity}",
        f"出生 {c.birth_date.year} 年 {c.birth_date.month} 月 {c.birth_date.day} 日",
    ]
    addr = _wrap_card_text(c.address, 11)
    front += [f"住址 {addr[0]}", *addr[1:], f"公民身份号码 {c.id_number}"]
    issuer = f"{c.city}公安局{c.district.removesuffix('区')}分局"
    back = [
        "中华人民共和国",
        "居民身份证",
        f"签发机关 {issuer}",
        f"有效期限 {issue:%Y.%m.%d}-{issue.replace(year=issue.year + 20):%Y.%m.%d}",
    ]
    return [
        ("title", DOC_TITLES["SF"]),
        _head(case),
        ("idcard", front, back),
        ("para", "本复印件与原件一致，仅供办理用电业务使用，他用无效。"),
        ("sign", f"客户签名：{c.person_name}", f"日期：{cn_date(case.business_date)}"),
    ]


def _content_zg(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    founded = dt.date(int(rng.integers(2003, 2020)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    lines = [
        f"统一社会信用代码 {c.uscc}",
        f"名称 {c.name}",
        "类型 有限责任公司（自然人投资或控股）",
        f"法定代表人 {c.person_name}",
        f"经营范围 {c.business_scope}",
        f"注册资本 {int(rng.integers(1, 50)) * 100}万元整",
        f"成立日期 {cn_date(founded)}",
        "营业期限 长期",
        f"住所 {c.address}",
    ]
    return [
        ("title", DOC_TITLES["ZG"]),
        _head(case),
        ("licence", lines, f"登记机关 {c.city}市场监督管理局", cn_date(founded), f"{c.city}市场监督管理局"),
        ("para", "此复印件与原件一致，仅供办理用电业务使用。"),
        ("sign", f"法定代表人（签字）：{c.person_name}", f"日期：{cn_date(case.business_date)}"),
    ]


def _content_wt(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    agent_gender = _pick(rng, ("男", "女"))
    agent = make_person_name(rng, agent_gender)
    region = _pick(rng, REGIONS)
    birth = dt.date(int(rng.integers(1983, 2001)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    agent_id = make_id_number(rng, region[3], birth, agent_gender)
    rows = [
        [("委托人", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("受托人", 1), (agent, 1), ("证件号码", 1), (agent_id, 1)],
        [("用电地址", 1), (c.address, 3)],
    ]
    body = (
        f"兹委托{agent}（公民身份号码：{agent_id}）作为我方代理人，全权代表我方前往供电营业厅"
        f"办理{case.business_name}用电业务的申请、资料提交、签字确认等相关事宜。"
        "受托人在办理上述事项过程中所签署的有关文件，我方均予以承认。"
        f"委托期限自{cn_date(case.business_date)}起至业务办结之日止。"
    )
    return [
        ("title", DOC_TITLES["WT"]),
        _head(case),
        ("table", rows),
        ("para", body),
        ("sign", f"委托人（签章）：{c.person_name}", f"受托人（签字）：{agent}"),
        ("line", f"日期：{cn_date(case.business_date)}"),
    ]


def _content_cq(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    title = _pick(rng, PRINTED_TITLES["CQ"])
    year = int(rng.integers(2008, 2023))
    area = f"{rng.uniform(55, 160):.2f}"
    province_short = {"江苏省": "苏", "安徽省": "皖", "浙江省": "浙", "山东省": "鲁", "湖北省": "鄂", "河南省": "豫"}[
        c.province
    ]
    cert = f"{province_short}（{year}）{c.city.removesuffix('市')}市不动产权第{_digits(rng, 7)}号"
    rows = [
        [("权利人", 1), (c.name, 3)],
        [("共有情况", 1), ("单独所有", 3)],
        [("坐落", 1), (c.address, 3)],
        [("不动产单元号", 1), (f"{_digits(rng, 6)}{_digits(rng, 6)}GB{_digits(rng, 5)}F{_digits(rng, 8)}", 3)],
        [("权利类型", 1), ("国有建设用地使用权/房屋所有权", 3)],
        [("用途", 1), ("城镇住宅用地/住宅" if c.kind == "person" else "工业用地/工业", 3)],
        [("面积", 1), (f"房屋建筑面积{area}平方米", 3)],
        [("使用期限", 1), (f"{year}年1月1日起{year + 69}年12月31日止", 3)],
    ]
    return [
        ("title", title),
        _head(case),
        ("line", cert),
        ("table", rows),
        ("para", "本复印件与原件核对一致，产权人同意在上述地址办理用电业务。"),
        ("sign", f"产权人（签字）：{c.person_name}", f"日期：{cn_date(case.business_date)}"),
    ]


def _surveyor(rng: np.random.Generator) -> str:
    return make_person_name(rng, _pick(rng, ("男", "女")))


def _content_kc(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    line_name = f"10kV{_pick(rng, ROADS)[:2]}{_pick(rng, ('线', '一线', '二线'))}"
    pole = int(rng.integers(1, 60))
    metering = "低供低计" if c.voltage == "0.4kV" else "高供高计"
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("用电地址", 1), (c.address, 3)],
        [("申请容量", 1), (f"{c.capacity_kva} kVA", 1), ("供电电压", 1), (c.voltage, 1)],
        [("电源点", 1), (f"{line_name}{pole}号杆", 1), ("计量方式", 1), (metering, 1)],
        [("勘查日期", 1), (cn_date(_days(case, 2)), 1), ("勘查人员", 1), (_surveyor(rng), 1)],
    ]
    body = (
        f"经现场勘查，客户用电地址位于{line_name}供电区域内，周边配电设施满足接入条件。"
        f"建议由{line_name}{pole}号杆引出低压线路接入，电能表安装于户外计量箱内，"
        "计量箱采用防窃电封印。现场无影响接电的障碍，具备供电条件。"
    )
    return [
        ("title", DOC_TITLES["KC"]),
        _head(case),
        ("table", rows),
        ("line", "勘查意见："),
        ("para", body),
        ("sign", "勘查人（签字）：", f"日期：{cn_date(_days(case, 2))}"),
    ]


def _content_fa(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    metering = "低供低计" if c.voltage == "0.4kV" else "高供高计"
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("用电地址", 1), (c.address, 3)],
        [("供电电压", 1), (c.voltage, 1), ("供电容量", 1), (f"{c.capacity_kva} kVA", 1)],
        [("用电类别", 1), (_usage(c), 1), ("计量方式", 1), (metering, 1)],
        [("电价执行", 1), ("按国家核定电价执行", 1), ("方案有效期", 1), ("一年", 1)],
    ]
    paras = [
        (
            f"贵户于{cn_date(case.business_date)}提出的用电申请已受理。经现场勘查和研究，"
            "现将供电方案答复如下：同意按上述供电电压和容量供电，产权分界点为计量箱出线端，"
            "分界点电源侧产权属供电企业，负荷侧产权属客户。"
        ),
        (
            "请贵户在方案有效期内按本方案要求完成受电工程建设，逾期未实施的，本方案自动失效。"
            "如对本方案有异议，请于收到本答复单之日起十日内提出。"
        ),
    ]
    return [
        ("title", DOC_TITLES["FA"]),
        _head(case),
        ("table", rows),
        ("para", paras[0]),
        ("para", paras[1]),
        ("sign", f"供电单位：{_company_of(c)}", f"答复日期：{cn_date(_days(case, 5))}"),
    ]


def _content_fy(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    amount = int(rng.integers(2, 60)) * 100
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("收费项目", 1), ("高可靠性供电费", 1), ("金额（元）", 1), (f"{amount}.00", 1)],
        [("缴费方式", 1), ("银行转账", 1), ("票据号码", 1), (_digits(rng, 8), 1)],
        [("收款单位", 1), (_company_of(c), 3)],
    ]
    return [
        ("title", DOC_TITLES["FY"]),
        _head(case),
        ("table", rows),
        ("para", f"今收到{c.name}交来业务费用人民币{amount}元整，特此证明。"),
        ("sign", "收款人（签章）：", f"收款日期：{cn_date(_days(case, 6))}"),
    ]


def _content_jg(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("工程地址", 1), (c.address, 3)],
        [("检验项目", 1), ("受电装置安装", 1), ("检验结果", 1), ("合格", 1)],
        [("检验项目", 1), ("接地电阻测试", 1), ("检验结果", 1), ("合格", 1)],
        [("检验项目", 1), ("继电保护整定", 1), ("检验结果", 1), ("合格", 1)],
    ]
    return [
        ("title", DOC_TITLES["JG"]),
        _head(case),
        ("table", rows),
        ("line", "检验意见："),
        ("para", "经对客户受电工程进行竣工检验，工程建设符合供电方案及国家、行业技术标准要求，资料齐全，同意接电。"),
        ("sign", "检验人员（签字）：", f"检验日期：{cn_date(_days(case, 10))}"),
    ]


HT_CLAUSES = (
    "第一条 用电地址：{address}。",
    "第二条 用电性质：{usage}，合同约定容量{capacity}kVA，供电电压{voltage}。",
    (
        "第三条 供电方式：供电人以{voltage}电压等级向用电人供电，正常情况下供电人应连续向用电人供电。"
        "因供电设施计划检修需要停电时，供电人应当提前七日公告停电区域和停电时间。"
    ),
    (
        "第四条 计量方式：电能计量装置安装在产权分界点处，以其计量结果作为双方电费结算的依据。"
        "用电人应妥善保护计量装置及封印，不得擅自移动、更换或开启。"
    ),
    (
        "第五条 电价及电费结算：按照政府价格主管部门批准的电价和收费标准计收电费。"
        "供电人按月抄表，用电人应在规定的期限内交清电费。"
    ),
    "第六条 用电人逾期交纳电费的，应按照国家有关规定承担电费违约金。经催交仍未交纳的，供电人可依法按程序中止供电。",
    "第七条 供电质量：在电力系统正常运行情况下，供电人供到用电人受电点的电压偏差、频率偏差应符合国家标准。",
    (
        "第八条 产权分界点：以计量箱出线端为分界点，分界点电源侧设施属供电人，负荷侧设施属用电人，"
        "双方各自负责其产权范围内设施的运行维护和安全管理。"
    ),
    "第九条 用电人不得擅自改变用电类别、超过合同约定容量用电或私自向外转供电。",
    "第十条 违约责任：任何一方违反本合同约定，给对方造成损失的，应依法承担赔偿责任。",
    "第十一条 争议解决：双方发生争议时，应友好协商解决；协商不成的，可向供电设施所在地人民法院提起诉讼。",
    "第十二条 合同有效期：本合同自双方签字盖章之日起生效，有效期五年。合同期满后双方均未提出异议的，本合同继续有效。",
    "第十三条 本合同未尽事宜，按照《中华人民共和国民法典》《电力供应与使用条例》等有关规定执行。",
    "第十四条 本合同一式两份，供电人和用电人各执一份，具有同等法律效力。",
)


def _content_ht(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    """A residential supply contract over 2 or 3 pages; the company seal sits on the signature."""
    c = case.customer
    date = _days(case, 12)
    values = {"address": c.address, "usage": _usage(c), "capacity": c.capacity_kva, "voltage": c.voltage}
    clauses = [t.format(**values) for t in HT_CLAUSES]
    n_pages = 2 + int(rng.random() < 0.5)
    contract_no = f"{c.account_no[:4]}-{date.year}-{_digits(rng, 6)}"
    rows = [
        [("供电人", 1), (_company_of(c), 3)],
        [("用电人", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("签订地点", 1), (f"{c.city}{c.district}供电营业厅", 1), ("签订日期", 1), (cn_date(date), 1)],
    ]
    intro = (
        "为明确供电人与用电人在电力供应与使用中的权利和义务，根据《中华人民共和国民法典》"
        "《中华人民共和国电力法》等法律法规，经双方协商一致，订立本合同。"
    )
    blocks: list[tuple] = [
        ("title", DOC_TITLES["HT"]),
        ("meta", f"合同编号：{contract_no}", f"工单编号：{case.work_order_no}"),
        ("table", rows),
        ("para", intro),
    ]
    cuts = (6, 14) if n_pages == 2 else (5, 10, 14)
    start = 0
    for page, cut in enumerate(cuts):
        if page:
            blocks.append(("pagebreak",))
        blocks += [("para", clause) for clause in clauses[start:cut]]
        start = cut
    blocks += [
        ("gap",),
        ("sign", f"供电人（盖章）：{_company_of(c)}", f"用电人（签章）：{c.person_name}"),
        ("seal", _company_of(c), "合同专用章"),
        ("sign", f"日期：{cn_date(date)}", f"日期：{cn_date(date)}"),
    ]
    return blocks


def _content_zb(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    meter_no = "3330001" + _digits(rng, 13)
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("装表地址", 1), (c.address, 3)],
        [("电能表资产号", 1), (meter_no, 3)],
        [("电能表型号", 1), ("DDZY102-Z", 1), ("电流规格", 1), ("5(60)A", 1)],
        [("互感器变比", 1), ("直接接入", 1), ("倍率", 1), ("1", 1)],
        [("装表示数", 1), ("0.00", 1), ("封印号", 1), (f"F{_digits(rng, 9)}", 1)],
        [("装表日期", 1), (cn_date(_days(case, 14)), 1), ("接电日期", 1), (cn_date(_days(case, 14)), 1)],
    ]
    return [
        ("title", DOC_TITLES["ZB"]),
        _head(case),
        ("table", rows),
        ("para", "电能表已按规定安装并加封，接线正确，经通电检查运行正常。客户已确认装表示数。"),
        ("sign", f"装表人员（签字）：{_surveyor(rng)}", f"客户确认（签字）：{c.person_name}"),
    ]


def _content_jq(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    body = (
        f"兹证明户名{c.name}（户号：{c.account_no}），用电地址{c.address}，"
        f"截至{cn_date(case.business_date)}止，已结清全部电费及电费违约金，无欠费记录。"
    )
    return [
        ("title", DOC_TITLES["JQ"]),
        _head(case),
        ("para", body),
        ("para", "本证明仅用于办理用电变更业务，自开具之日起十五日内有效。"),
        ("gap",),
        ("sign", f"开具单位：{_company_of(c)}", f"日期：{cn_date(case.business_date)}"),
    ]


def _content_ft(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    seal_date = _days(case, 5)
    after = case.new_capacity_kva
    stopped = c.capacity_kva - after if after else c.capacity_kva
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("用电地址", 1), (c.address, 3)],
        [("业务类型", 1), (case.business_name, 1), ("供电电压", 1), (c.voltage, 1)],
        [("封停设备", 1), (f"1号变压器 {stopped} kVA", 1), ("封印号", 1), (f"F{_digits(rng, 9)}", 1)],
        [("原运行容量", 1), (f"{c.capacity_kva} kVA", 1), ("封停后运行容量", 1), (f"{after} kVA", 1)],
        [
            ("加封日期", 1),
            (cn_date(seal_date), 1),
            ("计划启封日期", 1),
            (cn_date(seal_date + dt.timedelta(days=90)), 1),
        ],
    ]
    return [
        ("title", DOC_TITLES["FT"]),
        _head(case),
        ("table", rows),
        (
            "para",
            (
                f"已按客户申请于{cn_date(seal_date)}对上述设备实施加封，封印完好。"
                "自加封之日起按封停后运行容量计收基本电费。"
            ),
        ),
        ("sign", f"现场人员（签字）：{_surveyor(rng)}", f"客户确认（签字）：{c.person_name}"),
    ]


def _content_qf(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    day = _days(case, 30)
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("用电地址", 1), (c.address, 3)],
        [("启封设备", 1), (f"1号变压器 {c.capacity_kva} kVA", 1), ("原封印号", 1), (f"F{_digits(rng, 9)}", 1)],
        [("启封日期", 1), (cn_date(day), 1), ("恢复运行容量", 1), (f"{c.capacity_kva} kVA", 1)],
    ]
    return [
        ("title", DOC_TITLES["QF"]),
        _head(case),
        ("table", rows),
        ("para", f"经核对封印完好，已于{cn_date(day)}启封，设备恢复运行，自启封之日起恢复计收基本电费。"),
        ("sign", f"现场人员（签字）：{_surveyor(rng)}", f"客户确认（签字）：{c.person_name}"),
    ]


def _content_cb(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    reading = f"{rng.uniform(1000, 30000):.2f}"
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("用电地址", 1), (c.address, 3)],
        [("电能表资产号", 1), ("3330001" + _digits(rng, 13), 3)],
        [("拆表示数", 1), (reading, 1), ("拆表原因", 1), (case.business_name, 1)],
        [("拆表日期", 1), (cn_date(_days(case, 3)), 1), ("封印状态", 1), ("完好", 1)],
    ]
    return [
        ("title", DOC_TITLES["CB"]),
        _head(case),
        ("table", rows),
        ("para", f"电能表已拆除，拆表示数为{reading}，经客户确认无误，作为最终电费结算依据。"),
        ("sign", f"拆表人员（签字）：{_surveyor(rng)}", f"客户确认（签字）：{c.person_name}"),
    ]


def _content_sm(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    items = [
        "一、本人（单位）所提供的用电申请资料真实、合法、有效，如有虚假，愿承担相应法律责任。",
        "二、本人（单位）将严格遵守《电力供应与使用条例》等规定，安全、合理、节约用电。",
        "三、按时足额交纳电费，不私自增加用电容量，不转供电，不窃电。",
        "四、受电设施产权范围内的安全责任由本人（单位）承担。",
    ]
    return [
        ("title", DOC_TITLES["SM"]),
        _head(case),
        ("para", f"本人（单位）{c.name}，户号{c.account_no}，现就办理{case.business_name}用电业务郑重承诺如下："),
        *[("para", item) for item in items],
        ("sign", f"承诺人（签章）：{c.person_name}", f"日期：{cn_date(case.business_date)}"),
    ]


CONTENT = {
    "SQ": _content_sq,
    "SF": _content_sf,
    "ZG": _content_zg,
    "WT": _content_wt,
    "CQ": _content_cq,
    "KC": _content_kc,
    "FA": _content_fa,
    "FY": _content_fy,
    "JG": _content_jg,
    "HT": _content_ht,
    "ZB": _content_zb,
    "JQ": _content_jq,
    "FT": _content_ft,
    "QF": _content_qf,
    "CB": _content_cb,
    "SM": _content_sm,
}


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


# --------------------------------------------------------------------------------------------
# Scanner degradation


def degrade(
    image: Image.Image | np.ndarray,
    rng: np.random.Generator,
    *,
    skew_deg: float = 0.0,
    rotate: int = 0,
    speckle: float = 0.0,
    jpeg_quality: int | None = None,
    blur: float = 0.0,
    dpi: int = 300,
    paper_tone: bool = True,
) -> Image.Image:
    """Make a clean page look like an ADF scan.

    skew_deg: content turned counter-clockwise by this many degrees, corners filled white.
    rotate: 0/90/180/270 — the sheet is fed so that turning the result *clockwise* by
        ``rotate`` degrees makes it upright (the truth ``rotation``).
    speckle: fraction of the page area hit by dust specks and pepper noise (0.0005 is light).
    blur: Gaussian sigma in pixels at 300 dpi (scaled to ``dpi``).
    jpeg_quality: round-trip through JPEG at this quality.
    """
    if rotate not in (0, 90, 180, 270):
        raise ValueError(f"rotate must be 0, 90, 180 or 270, got {rotate}")
    if not 0.0 <= speckle < 0.2:
        raise ValueError("speckle is a fraction of the page area, expected 0 <= speckle < 0.2")
    arr = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.uint8)
    if arr.ndim == 2:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    scale = dpi / 300.0
    if skew_deg:
        arr = _skew(arr, skew_deg)
    if paper_tone:
        arr = _paper_and_light(arr, rng)
    if speckle:
        arr = _speckle(arr, rng, speckle, scale)
    if blur:
        arr = cv2.GaussianBlur(arr, (0, 0), blur * scale)
    if rotate:
        # rotating counter-clockwise by `rotate` means clockwise `rotate` restores it
        arr = np.ascontiguousarray(np.rot90(arr, k=rotate // 90))
    out = Image.fromarray(arr)
    if jpeg_quality:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=int(jpeg_quality))
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out


def _skew(arr: np.ndarray, degrees: float) -> np.ndarray:
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(
        arr, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255)
    )


def _paper_and_light(arr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slightly warm grey paper and a smooth illumination fall-off across the sheet."""
    h, w = arr.shape[:2]
    small = rng.uniform(0.95, 1.0, (4, 3))
    tone = (rng.uniform(0.97, 0.99), rng.uniform(0.96, 0.985), rng.uniform(0.93, 0.97))
    channels = []
    for ch, t in enumerate(tone):
        # gain as uint8 (255 = 1.0) keeps a 300 dpi page free of float temporaries
        gain = cv2.resize(np.round(small * t * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
        channels.append(cv2.multiply(np.ascontiguousarray(arr[..., ch]), gain, scale=1 / 255))
    return cv2.merge(channels)


def _speckle(arr: np.ndarray, rng: np.random.Generator, amount: float, scale: float) -> np.ndarray:
    """Dust specks (small dark blobs), isolated pepper pixels and a few white drop-outs."""
    h, w = arr.shape[:2]
    out = arr.copy()
    n_pixels = int(amount * h * w)
    ys, xs = rng.integers(0, h, n_pixels), rng.integers(0, w, n_pixels)
    out[ys, xs] = rng.integers(0, 90, (n_pixels, 1)).astype(np.uint8)
    n_salt = n_pixels // 4
    ys, xs = rng.integers(0, h, n_salt), rng.integers(0, w, n_salt)
    out[ys, xs] = 250
    for _ in range(int(amount * 20000) + 2):
        r = max(1, int(rng.integers(1, 4) * scale))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        grey = int(rng.integers(20, 110))
        cv2.circle(out, centre, r, (grey, grey, grey), -1)
    return out


# --------------------------------------------------------------------------------------------
# Streaming PDF writer (one page in memory at a time)


def encode_jpeg(image: Image.Image, quality: int = 85, dpi: int = 300) -> tuple[bytes, int, int, str]:
    """JPEG bytes plus width, height and PDF colour space of a page image."""
    mode = "L" if image.mode in ("1", "L", "LA") else "RGB"
    buf = io.BytesIO()
    image.convert(mode).save(buf, "JPEG", quality=quality, dpi=(dpi, dpi), optimize=False)
    return buf.getvalue(), image.width, image.height, "/DeviceGray" if mode == "L" else "/DeviceRGB"


class _PdfStream:
    """Minimal PDF 1.4 writer: objects go to disk as they come; only offsets stay in memory."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.offsets: dict[int, int] = {}
        self.next_id = 3  # 1 = catalog, 2 = page tree, written at the end
        self.page_ids: list[int] = []
        self.fh.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def obj(self, oid: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[oid] = self.fh.tell()
        self.fh.write(b"%d 0 obj\n" % oid + body)
        if stream is not None:
            self.fh.write(b"\nstream\n")
            self.fh.write(stream)
            self.fh.write(b"\nendstream")
        self.fh.write(b"\nendobj\n")

    def add_page(self, jpeg: bytes, width: int, height: int, colour: str, dpi: float) -> None:
        img_id, content_id, page_id = self.next_id, self.next_id + 1, self.next_id + 2
        self.next_id += 3
        w_pt, h_pt = width * 72.0 / dpi, height * 72.0 / dpi
        self.obj(
            img_id,
            (
                f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                f"/ColorSpace {colour} /BitsPerComponent 8 /Filter /DCTDecode "
                f"/Length {len(jpeg)} >>"
            ).encode(),
            jpeg,
        )
        content = f"q {w_pt:.4f} 0 0 {h_pt:.4f} 0 0 cm /Im0 Do Q".encode()
        self.obj(content_id, f"<< /Length {len(content)} >>".encode(), content)
        self.obj(
            page_id,
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.4f} {h_pt:.4f}] "
                f"/Resources << /XObject << /Im0 {img_id} 0 R >> >> /Contents {content_id} 0 R >>"
            ).encode(),
        )
        self.page_ids.append(page_id)

    def close(self) -> None:
        kids = " ".join(f"{p} 0 R" for p in self.page_ids)
        self.obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.page_ids)} >>".encode())
        self.obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref_at = self.fh.tell()
        size = self.next_id
        self.fh.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
        for oid in range(1, size):
            self.fh.write(f"{self.offsets[oid]:010d} 00000 n \n".encode())
        self.fh.write(f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode())


def write_pdf(path: str | Path, pages: Iterable[Image.Image], dpi: int = 300, *, jpeg_quality: int = 85) -> int:
    """Write page images as a scanner-style PDF (one JPEG per page), streaming; returns pages written.

    Each page is encoded and written before the next is pulled from ``pages``, so a generator
    keeps memory flat however long the file is. Page size = pixels / dpi, so ``pdftoppm -r dpi``
    gives the original pixels back.
    """
    return write_pdf_jpegs(path, (encode_jpeg(p, jpeg_quality, dpi) for p in pages), dpi)


def write_pdf_jpegs(path: str | Path, jpegs: Iterable[tuple[bytes, int, int, str]], dpi: int = 300) -> int:
    """Like :func:`write_pdf` for pages already JPEG-encoded (see :func:`encode_jpeg`)."""
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        pdf = _PdfStream(fh)
        for jpeg, width, height, colour in jpegs:
            pdf.add_page(jpeg, width, height, colour, dpi)
        if not pdf.page_ids:
            raise ValueError("a PDF needs at least one page")
        pdf.close()
    tmp.replace(path)  # never leave a half-written PDF under the real name
    return len(pdf.page_ids)


# --------------------------------------------------------------------------------------------
# Truth records


@dataclass
class PageTruth:
    """What is on one stored page, for scoring the pipeline."""

    file: str
    page_no: int  # 1-based within the file
    doc_type: str | None  # None for a blank back page
    title: str
    text: str
    rotation: int
    skew: float
    is_blank: bool = False
    has_seal: bool = False
    seal_text: str = ""
    dpi: int = 300
    font: str = ""
    doc_index: int = 0  # which document of the file (1-based); a blank back belongs to the one before
    doc_page: int = 1
    account_no: str = ""
    id_number: str = ""
    uscc: str = ""
    work_order_no: str = ""
    customer_name: str = ""
    image_format: str = "PDF"

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text else []


@dataclass
class CaseTruth:
    business_type: str
    business_name: str
    account_no: str
    work_order_no: str
    customer_name: str
    customer_kind: str
    address: str
    id_number: str
    uscc: str
    business_date: str
    doc_types: list[str]


@dataclass
class FileTruth:
    file: str
    case: CaseTruth
    pages: list[PageTruth] = field(default_factory=list)


@dataclass
class BatchTruth:
    seed: int
    dpi: int
    files: list[FileTruth]

    @property
    def pages(self) -> list[PageTruth]:
        return [p for f in self.files for p in f.pages]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> BatchTruth:
        data = json.loads(text)
        files = [
            FileTruth(f["file"], CaseTruth(**f["case"]), [PageTruth(**p) for p in f["pages"]]) for f in data["files"]
        ]
        return cls(data["seed"], data["dpi"], files)


def case_truth(case: CaseProfile) -> CaseTruth:
    c = case.customer
    return CaseTruth(
        case.business_type,
        case.business_name,
        c.account_no,
        case.work_order_no,
        c.name,
        c.kind,
        c.address,
        c.id_number,
        c.uscc,
        case.business_date.isoformat(),
        list(case.doc_types),
    )


def _page_truth(page: RenderedPage, case: CaseProfile, **kw) -> PageTruth:
    c = case.customer
    return PageTruth(
        doc_type=page.doc_type,
        title=page.title,
        text=page.text,
        has_seal=page.has_seal,
        seal_text=page.seal_text,
        dpi=page.dpi,
        font=page.face,
        doc_page=page.doc_page,
        account_no=c.account_no,
        id_number=c.id_number,
        uscc=c.uscc,
        work_order_no=case.work_order_no,
        customer_name=c.name,
        **kw,
    )


# --------------------------------------------------------------------------------------------
# The demo batch: one PDF per customer folder

DEMO_CASES = (
    ("XZ", "person"),
    ("ZT", "company"),
    ("GH", "person"),
    ("XZ", "person"),
    ("XH", "person"),
    ("JR", "company"),
)


def demo_cases(seed: int = 0) -> list[CaseProfile]:
    """Six cases over six customers: every demo business type, persons and companies."""
    rng = np.random.default_rng([seed, 1])
    cases, seen = [], set()
    for business_type, kind in DEMO_CASES:
        customer = make_customer(rng, kind)
        while customer.account_no in seen:
            customer = make_customer(rng, kind)
        seen.add(customer.account_no)
        cases.append(make_case(rng, business_type, customer))
    return cases


def generate_demo_batch(out_dir: str | Path, seed: int = 0, *, dpi: int = 300, jpeg_quality: int = 80) -> BatchTruth:
    """Write ``folder-NN.pdf`` (one scanned customer folder per case) and ``truth.json``.

    Pages are 300 dpi JPEG-in-PDF; some are skewed 0.5-2 degrees, all carry light dust and paper
    tone; exactly one blank back page (with show-through) and exactly one upside-down page.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 2])
    cases = demo_cases(seed)
    # the blank back follows the ID-card copy of one case; another case has the upside-down sheet
    with_sf = [i for i, c in enumerate(cases) if "SF" in c.doc_types]
    blank_case = with_sf[int(rng.integers(len(with_sf)))]
    flip_case = (blank_case + 1 + int(rng.integers(len(cases) - 1))) % len(cases)
    files = []
    for n, case in enumerate(cases, start=1):
        name = f"folder-{n:02d}.pdf"
        truth = FileTruth(name, case_truth(case))
        # every document has at least one page, so pages 2..len(doc_types) always exist
        flip_at = int(rng.integers(2, len(case.doc_types) + 1)) if n == flip_case + 1 else -1
        pages = _demo_pages(case, seed, dpi, rng, truth, blank=(n == blank_case + 1), flip_at=flip_at)
        write_pdf(out / name, pages, dpi, jpeg_quality=jpeg_quality)
        files.append(truth)
    batch = BatchTruth(seed, dpi, files)
    (out / "truth.json").write_text(batch.to_json(), encoding="utf-8")
    return batch


def _demo_pages(
    case: CaseProfile, seed: int, dpi: int, rng: np.random.Generator, truth: FileTruth, *, blank: bool, flip_at: int
) -> Iterator[Image.Image]:
    """Yield degraded pages of one folder one at a time, appending their truth as they go."""
    page_no = 0
    for doc_index, doc_type in enumerate(case.doc_types, start=1):
        for page in render_document(doc_type, case, dpi=dpi, seed=seed):
            page_no += 1
            skew = round(float(rng.uniform(0.5, 2.0) * rng.choice((-1, 1))), 2) if rng.random() < 0.5 else 0.0
            rotation = 180 if page_no == flip_at else 0
            # image noise has its own stream so the truth does not depend on the dpi
            noise = np.random.default_rng([seed, 5, int(case.work_order_no), page_no])
            yield degrade(page.image, noise, skew_deg=skew, rotate=rotation, speckle=0.0003, dpi=dpi)
            truth.pages.append(
                _page_truth(
                    page, case, file=truth.file, page_no=page_no, rotation=rotation, skew=skew, doc_index=doc_index
                )
            )
            if blank and doc_type == "SF":
                page_no += 1
                noise = np.random.default_rng([seed, 5, int(case.work_order_no), page_no])
                yield degrade(render_blank_back(page.image, noise), noise, speckle=0.0002, dpi=dpi)
                truth.pages.append(
                    PageTruth(
                        file=truth.file,
                        page_no=page_no,
                        doc_type=None,
                        title="",
                        text="",
                        rotation=0,
                        skew=0.0,
                        is_blank=True,
                        dpi=dpi,
                        doc_index=doc_index,
                        doc_page=page.doc_page + 1,
                        account_no=case.customer.account_no,
                        work_order_no=case.work_order_no,
                        customer_name=case.customer.name,
                    )
                )


# --------------------------------------------------------------------------------------------
# OCR benchmark corpus: single-page images


def generate_ocr_corpus(out_dir: str | Path, n_pages: int = 60, seed: int = 0) -> list[PageTruth]:
    """``n_pages`` single-page PNG/JPEG scans covering every document type, fonts, dpi and damage.

    Writes ``truth.json`` (list of page truths) beside the images and returns the same list.
    """
    if n_pages < 1:
        raise ValueError("the corpus needs at least one page")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 3])
    doc_types = list(CONTENT)
    business_for = {d: [b for b, (_, docs) in BUSINESS_TYPES.items() if d in docs] or ["XZ"] for d in doc_types}
    upside_down = set(rng.choice(n_pages, size=max(1, round(n_pages / 10)), replace=False).tolist())
    truths = []
    for i in range(n_pages):
        doc_type = doc_types[i % len(doc_types)]
        business = _pick(rng, business_for[doc_type])
        kind = "company" if doc_type == "ZG" or business in ("ZT", "JR") else "person"
        case = make_case(rng, business, make_customer(rng, kind))
        face = BODY_FACES[(i // len(doc_types) + i) % len(BODY_FACES)]
        dpi = 300 if i % 2 == 0 else 200
        pages = render_document(
            doc_type, case, dpi=dpi, face=face, title_face=_pick(rng, ("hei_bold", "song_bold", face)), seed=seed + i
        )
        # contracts alternate between the titled first page and the sealed signature page
        page = pages[-1] if doc_type == "HT" and (i // len(doc_types)) % 2 == 0 else pages[0]
        skew = round(float(rng.uniform(-4, 4)), 2)
        rotation = 180 if i in upside_down else 0
        jpeg = rng.random() < 0.5
        image = degrade(
            page.image,
            rng,
            skew_deg=skew,
            rotate=rotation,
            speckle=float(rng.uniform(0, 0.001)),
            blur=float(rng.choice((0.0, 0.0, 0.6, 1.0))),
            dpi=dpi,
            jpeg_quality=None if jpeg else int(rng.integers(40, 80)),
        )
        name = f"page-{i + 1:03d}.{'jpg' if jpeg else 'png'}"
        if jpeg:
            image.save(out / name, "JPEG", quality=int(rng.integers(60, 90)), dpi=(dpi, dpi))
        else:
            image.save(out / name, "PNG", dpi=(dpi, dpi))
        truths.append(
            _page_truth(
                page,
                case,
                file=name,
                page_no=1,
                rotation=rotation,
                skew=skew,
                doc_index=1,
                image_format="JPEG" if jpeg else "PNG",
            )
        )
    (out / "truth.json").write_text(
        json.dumps([asdict(t) for t in truths], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return truths


def load_corpus_truth(path: str | Path) -> list[PageTruth]:
    """Read the ``truth.json`` written by :func:`generate_ocr_corpus`."""
    return [PageTruth(**p) for p in json.loads(Path(path).read_text(encoding="utf-8"))]


# --------------------------------------------------------------------------------------------
# Long PDFs for memory benchmarks


def write_long_pdf(path: str | Path, n_pages: int = 200, seed: int = 0, *, dpi: int = 300) -> int:
    """A long scanner-style PDF made quickly by cycling a handful of pre-encoded degraded pages."""
    if n_pages < 1:
        raise ValueError("n_pages must be at least 1")
    rng = np.random.default_rng([seed, 4])
    case = demo_cases(seed)[0]
    pool = []
    for doc_type in case.doc_types[:4]:
        page = render_document(doc_type, case, dpi=dpi, seed=seed)[0]
        image = degrade(page.image, rng, skew_deg=float(rng.uniform(-1.5, 1.5)), speckle=0.0003, dpi=dpi)
        pool.append(encode_jpeg(image, 80, dpi))
    return write_pdf_jpegs(path, (pool[i % len(pool)] for i in range(n_pages)), dpi)
