"""Field proposals from OCR text: labels tolerant to OCR, values checked, never silently fixed."""

import datetime as dt
import os
import random
import shutil

import numpy as np
import pytest

from dangan.archive.identifiers import iso7064_mod11_2, validate_ric
from dangan.archive.records.numbering import ArchiveNumber
from dangan.scanning.field_values import parse_capacity_value
from dangan.scanning.fields import extract_fields, extract_fields_step
from dangan.scanning.page import PageState, PipelineOptions

ID_OK = "11010519491231002X"
FORM = """低压居民生活用电登记表
户号：3401405288        户名：张三
公民身份号码：11010519491231002X
用电地址：江苏省南京市玄武区北京东路12号
联系电话：13912345678   申请容量：8 kW
申请日期：2024年3月15日   工单编号：2024031500001234
档号：GD01-KH·2024-0001239
"""


def values(text):
    return {k: p.value for k, p in extract_fields(text).items()}


def random_ric(rng):
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(25000))
    body = f"{rng.randrange(110000, 659999)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + iso7064_mod11_2(body)


def test_clean_form():
    fields = extract_fields(FORM)
    assert {k: p.value for k, p in fields.items()} == {
        "account_number": "3401405288",
        "customer_name": "张三",
        "id_number": ID_OK,
        "address": "江苏省南京市玄武区北京东路12号",
        "phone": "13912345678",
        "applied_capacity": "8 kW",
        "capacity": "8 kW",
        "application_date": "2024-03-15",
        "date": "2024-03-15",
        "work_order": "2024031500001234",
        "archive_number": "GD01-KH·2024-0001239",
    }
    assert all(p.valid and p.confidence >= 0.9 for p in fields.values())


def test_tesseract_style_spacing_and_full_width():
    text = "户 号 ： ３４０１４０５２８８ 户 名 ： 张 三 性 别 ： 男\n用 电 地 址 ： 南 京 市 鼓 楼 区 中 山 路 8 号"
    assert values(text) == {"account_number": "3401405288", "customer_name": "张三", "address": "南京市鼓楼区中山路8号"}


@pytest.mark.parametrize("label", ["户号", "用户编号", "客户编号"])
def test_account_labels(label):
    assert values(f"{label}:3401405288")["account_number"] == "3401405288"


def test_one_garbled_label_character_is_tolerated_with_lower_confidence():
    exact = extract_fields("工单编号：2024031500001234")["work_order"]
    garbled = extract_fields("工单编亏：2024031500001234")["work_order"]
    assert garbled.value == exact.value and garbled.valid
    assert garbled.confidence < exact.confidence
    assert "garbled" in garbled.reason
    # 2-character labels only with a value that confirms them
    assert extract_fields("户亏：3401405288")["account_number"].value == "3401405288"
    assert "customer_name" not in extract_fields("尸名：张三")


def test_label_words_inside_sentences_are_not_labels():
    assert "address" not in extract_fields("本人申请在上述用电地址安装电能表一块")


def test_longest_label_wins():
    fields = extract_fields("客户名称：南京某某食品有限公司\n客户编号：3401405288")
    assert fields["customer_name"].value == "南京某某食品有限公司"
    assert fields["account_number"].value == "3401405288"


def test_id_number_ocr_lookalikes_are_read_as_digits_and_reported():
    p = extract_fields("公民身份号码：11O1O5 l949 l23l 002x")["id_number"]
    assert p.value == ID_OK and p.valid
    assert "look-alike" in p.reason
    assert p.confidence < extract_fields(f"公民身份号码：{ID_OK}")["id_number"].confidence


def test_invalid_check_character_is_never_silently_fixed():
    rng = random.Random(2)
    for _ in range(200):
        good = random_ric(rng)
        i = rng.randrange(17)
        typo = good[:i] + str((int(good[i]) + rng.randint(1, 9)) % 10) + good[i + 1 :]
        p = extract_fields(f"身份证号码：{typo}")["id_number"]
        assert p.value == typo and not p.valid
        assert "check character" in p.reason or "birth date" in p.reason
        assert p.confidence <= 0.3
        assert len(p.alternatives) <= 1
        for alt in p.alternatives:
            assert validate_ric(alt) == alt
            assert sum(a != b for a, b in zip(alt, typo)) == 1


def test_a_unique_plausible_repair_is_offered():
    # 8 misread as 3 where no other OCR-plausible single change gives a valid number
    good = "110105194912310021"[:17]
    good += iso7064_mod11_2(good)
    offered = 0
    rng = random.Random(4)
    for _ in range(3000):
        code = random_ric(rng)
        i = rng.randrange(17)
        if code[i] != "8":
            continue
        typo = code[:i] + "3" + code[i + 1 :]
        p = extract_fields(f"身份证号：{typo}")["id_number"]
        if p.alternatives:
            offered += 1
            assert p.alternatives == (code,)
            assert code in p.reason
    assert offered >= 1


def test_id_number_without_label_on_an_id_card_copy():
    p = extract_fields("中华人民共和国\n居民身份证\n11010519491231002X")["id_number"]
    assert p.value == ID_OK and p.valid and p.label == ""


def test_id_number_reasons_for_length_and_birth_date():
    assert "18 characters" in extract_fields("身份证号：1101051949123100")["id_number"].reason
    assert "birth date" in extract_fields("身份证号：110105194913310028")["id_number"].reason


def test_uscc():
    p = extract_fields("统一社会信用代码：9111 0000 6000 3734 1L")["uscc"]
    assert p.value == "91110000600037341L" and p.valid
    bad = extract_fields("统一社会信用代码：91110000600037341M")["uscc"]
    assert not bad.valid and "check character" in bad.reason


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2024年3月15日", "2024-03-15"),
        ("2024 年 3 月 5 日", "2024-03-05"),
        ("2024-03-15", "2024-03-15"),
        ("2024.3.15", "2024-03-15"),
        ("2024/12/01", "2024-12-01"),
        ("二〇二四年三月十五日", "2024-03-15"),
        ("二〇二三年十二月三十一日", "2023-12-31"),
    ],
)
def test_dates_to_iso(text, iso):
    assert values(f"封停日期：{text}")["seal_date"] == iso
    assert values(f"备注 {text} 前完成")["date"] == iso


def test_impossible_date_is_invalid():
    p = extract_fields("启封日期：2024年2月30日")["unseal_date"]
    assert not p.valid and "calendar" in p.reason


@pytest.mark.parametrize(
    "text, key, value",
    [
        ("运行容量：315千伏安", "running_capacity", "315 kVA"),
        ("变压器容量 : 630 KVA", "transformer_capacity", "630 kVA"),
        ("申请容量：12.5千瓦", "applied_capacity", "12.5 kW"),
        ("合同容量：1,250 kVA", "contract_capacity", "1.25 kVA"),
    ],
)
def test_capacity(text, key, value):
    assert values(text)[key] == value


def test_capacity_without_unit_is_invalid_and_value_parses():
    p = extract_fields("申请运行容量：200")["applied_capacity"]
    assert not p.valid and "unit" in p.reason
    assert parse_capacity_value("315 kVA") == (315.0, "kVA")


def test_archive_number_variants_and_check():
    for ocr in ("GD01-KH.2024-0001239", "GD01-KH•2024-0001239", "GD01-KH2024-0001239", "GD01 - KH · 2024 - 000123 9"):
        assert values(f"档号：{ocr}")["archive_number"] == "GD01-KH·2024-0001239"
    p = extract_fields("档号：GD01-KH·2024-0001238")["archive_number"]
    assert not p.valid and "check character" in p.reason
    # found without a label too (labels on boxes and folders)
    number = str(ArchiveNumber("SZ02", "KH", 2023, 4567))
    assert values(f"卷内备考表 {number.replace('·', '.')}")["archive_number"] == number


def test_phone():
    assert values("联系电话：139 1234 5678")["phone"] == "13912345678"
    assert values("电话：025-84561234")["phone"] == "025-84561234"
    assert not extract_fields("电话：1391234567")["phone"].valid


def test_wrong_length_account_is_proposed_as_invalid():
    p = extract_fields("户号：34014052881")["account_number"]
    assert p.value == "34014052881" and not p.valid and "10 digits" in p.reason


def test_step_fills_fields_and_flags_invalid_identifiers():
    page = PageState(
        source="x.tif",
        page_no=1,
        image=np.zeros((4, 4, 3), np.uint8),
        dpi=300,
        text=FORM.replace("002X", "0021"),
        fields={"kept": 1},
    )
    out = extract_fields_step(page, PipelineOptions())
    assert out.fields["kept"] == 1 and out.fields["account_number"].value == "3401405288"
    assert [f.code for f in out.flags] == ["field_invalid"] and "id_number" in out.flags[0].message
    assert page.fields == {"kept": 1} and page.flags == ()  # input untouched


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_real_tesseract_output():
    pytesseract = pytest.importorskip("pytesseract")
    from PIL import Image, ImageDraw, ImageFont

    os.environ["OMP_THREAD_LIMIT"] = "1"
    font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 46, index=2)  # SC face
    lines = FORM.strip().splitlines()
    img = Image.new("L", (2480, 200 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((200, 100 + 90 * i), line, font=font, fill=0)
    text = pytesseract.image_to_string(img, lang="chi_sim", config="--psm 6")
    got = values(text)
    for key in ("account_number", "id_number", "work_order", "phone", "application_date", "archive_number"):
        assert got.get(key) == values(FORM)[key], (key, text)


def test_a_signature_line_qualifier_between_label_and_colon():
    for line in (
        "申请人（签章）：马敏桂 申请日期：2023年2月14日",
        "产权人(签字) :郑玲娟日期: 2023年9月4日",
        "申请人〈(签章) :郑玲娟申请日期: 2023年9月4日",
    ):
        name = extract_fields(line)["customer_name"]
        assert name.valid and name.value in ("马敏桂", "郑玲娟"), line


def test_a_form_cell_gap_stands_for_the_colon_but_spaced_out_text_does_not():
    # our OCR text keeps a space only where a ruled cell ends: 户名 | 杭州润泽食品有限公司
    fields = extract_fields("户名 杭州润泽食品有限公司 户号 1929078997\n用电地址 浙江省杭州市上城区黄河路147号")
    assert fields["customer_name"].value == "杭州润泽食品有限公司"
    assert fields["address"].value.startswith("浙江省杭州市")
    # raw Tesseract puts a space between every character: a bare label word inside a line is not a label
    assert "customer_name" not in extract_fields("本 户 户 名 变 更 为 杭 州 润 泽 食 品 有 限 公 司")
    # one opening the line, with a name-shaped value after it, is (an ID card prints 姓名张伟)
    assert extract_fields("姓名张伟")["customer_name"].value == "张伟"
    assert "customer_name" not in extract_fields("申请人已结清全部电费及违约金")
    # and what follows a label must still look like its value
    assert not extract_fields("本人申请在上述 地址 新装用电")["address"].valid


def test_the_work_order_format_comes_from_the_scheme_and_letters_stay_letters_unless_it_says_digits():
    # digits only (the default, 16 digits): an O read for a 0 is repaired, and said so
    digits = extract_fields("工单编号：2O24031500001234")["work_order"]
    assert digits.value == "2024031500001234" and digits.valid and "look-alike" in digits.reason
    # a scheme whose work orders carry letters: nothing is "corrected"
    lettered = extract_fields("工单编号：GD2024031500001234", r"[A-Z]{2}\d{16}")["work_order"]
    assert lettered.value == "GD2024031500001234" and lettered.valid and not lettered.reason
    garbled = extract_fields("工单编号：GD2O24031500001234", r"[A-Z]{2}\d{16}")["work_order"]
    assert garbled.value == "GD2O24031500001234" and not garbled.valid
    # and the pipeline takes the format from its options
    page = extract_fields_step(
        PageState(source="t", page_no=1, image=np.zeros((1, 1, 3), np.uint8), dpi=300, text="工单编号：SO24000001"),
        PipelineOptions(work_order_pattern=r"[A-Z]{2}\d{8}"),
    )
    assert page.fields["work_order"].value == "SO24000001" and page.fields["work_order"].valid
