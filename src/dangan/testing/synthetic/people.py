"""Believable customers and business cases: names, 身份证 and 统一社会信用代码 numbers with valid check
characters, addresses, work-order numbers. Nothing here is a real person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from stdnum.cn import ric, uscc

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


def pick(rng: np.random.Generator, items: Sequence):
    return items[int(rng.integers(len(items)))]


def random_digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def make_person_name(rng: np.random.Generator, gender: str) -> str:
    """A common Chinese name: one surname, one or two given-name characters."""
    pool = GIVEN_MALE if gender == "男" else GIVEN_FEMALE
    given = "".join(pick(rng, pool) for _ in range(1 + int(rng.random() < 0.7)))
    return pick(rng, SURNAMES) + given


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
    org8 = random_digits(rng, 8)
    body = "91" + region_code + org8 + _org_code_check(org8)
    return body + uscc.calc_check_digit(body)


def make_address(rng: np.random.Generator, region: tuple[str, str, str, str], *, company: bool) -> str:
    province, city, district, _ = region
    street = f"{province}{city}{district}{pick(rng, ROADS)}{int(rng.integers(1, 400))}号"
    if company:
        return street + pick(rng, ("", "工业园", "科技园", "产业园")) + (f"{int(rng.integers(1, 9))}号厂房")
    floor, room = int(rng.integers(1, 19)), int(rng.integers(1, 5))
    return f"{street}{pick(rng, ESTATES)}{int(rng.integers(1, 30))}栋{int(rng.integers(1, 5))}单元{floor}{room:02d}室"


def make_customer(rng: np.random.Generator, kind: str = "person") -> CustomerProfile:
    """One customer: a household on 0.4kV, or a company on 10kV."""
    if kind not in ("person", "company"):
        raise ValueError(f"customer kind must be 'person' or 'company', got {kind!r}")
    region = pick(rng, REGIONS)
    gender = pick(rng, ("男", "女"))
    person = make_person_name(rng, gender)
    # stdnum knows region codes from 1983 on; adults born 1983-2000 keep the numbers valid
    birth = dt.date(int(rng.integers(1983, 2001)), int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    id_number = make_id_number(rng, region[3], birth, gender)
    account_no = str(int(rng.integers(1, 10))) + random_digits(rng, 9)
    phone = "1" + pick(rng, "3578") + random_digits(rng, 9)
    if kind == "person":
        return CustomerProfile(
            account_no=account_no,
            name=person,
            kind=kind,
            id_number=id_number,
            person_name=person,
            gender=gender,
            ethnicity=pick(rng, ETHNICITIES),
            birth_date=birth,
            address=make_address(rng, region, company=False),
            province=region[0],
            city=region[1],
            district=region[2],
            phone=phone,
            voltage="0.4kV",
            capacity_kva=int(pick(rng, (4, 6, 8, 10, 12, 16))),
        )
    industry, scope = pick(rng, INDUSTRIES)
    name = f"{region[1].removesuffix('市')}{pick(rng, TRADE_NAMES)}{industry}有限公司"
    return CustomerProfile(
        account_no=account_no,
        name=name,
        kind=kind,
        id_number=id_number,
        person_name=person,
        gender=gender,
        ethnicity=pick(rng, ETHNICITIES),
        birth_date=birth,
        address=make_address(rng, region, company=True),
        province=region[0],
        city=region[1],
        district=region[2],
        phone=phone,
        voltage="10kV",
        capacity_kva=int(pick(rng, (250, 315, 400, 500, 630, 800, 1000, 1250))),
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
    previous = make_person_name(rng, pick(rng, ("男", "女"))) if business_type == "GH" else ""
    reduced = int(customer.capacity_kva * 0.5) if business_type == "JR" else 0
    return CaseProfile(
        business_type, make_work_order_no(rng, day), customer, day, BUSINESS_TYPES[business_type][1], previous, reduced
    )
