"""What each of the utility's forms says for one case: titles, form rows, clauses, signatures.
(Long because it is content: one function per form of the classification scheme.)"""

from __future__ import annotations

import datetime as dt

import numpy as np

from dangan.testing.synthetic.people import (
    DOC_TITLES,
    PRINTED_TITLES,
    REGIONS,
    ROADS,
    CaseProfile,
    CustomerProfile,
    make_id_number,
    make_person_name,
    pick,
    random_digits,
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
            (make_person_name(rng, pick(rng, ("男", "女"))), 1),
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
    agent_gender = pick(rng, ("男", "女"))
    agent = make_person_name(rng, agent_gender)
    region = pick(rng, REGIONS)
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
    title = pick(rng, PRINTED_TITLES["CQ"])
    year = int(rng.integers(2008, 2023))
    area = f"{rng.uniform(55, 160):.2f}"
    province_short = {"江苏省": "苏", "安徽省": "皖", "浙江省": "浙", "山东省": "鲁", "湖北省": "鄂", "河南省": "豫"}[
        c.province
    ]
    cert = f"{province_short}（{year}）{c.city.removesuffix('市')}市不动产权第{random_digits(rng, 7)}号"
    rows = [
        [("权利人", 1), (c.name, 3)],
        [("共有情况", 1), ("单独所有", 3)],
        [("坐落", 1), (c.address, 3)],
        [
            ("不动产单元号", 1),
            (_unit_number(rng), 3),
        ],
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
    return make_person_name(rng, pick(rng, ("男", "女")))


def _content_kc(case: CaseProfile, rng: np.random.Generator) -> list[tuple]:
    c = case.customer
    line_name = f"10kV{pick(rng, ROADS)[:2]}{pick(rng, ('线', '一线', '二线'))}"
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
        [("缴费方式", 1), ("银行转账", 1), ("票据号码", 1), (random_digits(rng, 8), 1)],
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
    contract_no = f"{c.account_no[:4]}-{date.year}-{random_digits(rng, 6)}"
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
    meter_no = "3330001" + random_digits(rng, 13)
    rows = [
        [("户名", 1), (c.name, 1), ("户号", 1), (c.account_no, 1)],
        [("装表地址", 1), (c.address, 3)],
        [("电能表资产号", 1), (meter_no, 3)],
        [("电能表型号", 1), ("DDZY102-Z", 1), ("电流规格", 1), ("5(60)A", 1)],
        [("互感器变比", 1), ("直接接入", 1), ("倍率", 1), ("1", 1)],
        [("装表示数", 1), ("0.00", 1), ("封印号", 1), (f"F{random_digits(rng, 9)}", 1)],
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
        [("封停设备", 1), (f"1号变压器 {stopped} kVA", 1), ("封印号", 1), (f"F{random_digits(rng, 9)}", 1)],
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
        [("启封设备", 1), (f"1号变压器 {c.capacity_kva} kVA", 1), ("原封印号", 1), (f"F{random_digits(rng, 9)}", 1)],
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
        [("电能表资产号", 1), ("3330001" + random_digits(rng, 13), 3)],
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


def _unit_number(rng) -> str:
    """不动产单元号: 6+6 digits, GB, 5 digits, F, 8 digits."""
    d = lambda n: random_digits(rng, n)
    return f"{d(6)}{d(6)}GB{d(5)}F{d(8)}"
