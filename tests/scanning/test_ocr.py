"""Both OCR engines on a real rendered page: text in reading order, word boxes where the words are."""

import numpy as np
import pytest

from dangan.scanning.ocr import get_engine, join_line
from dangan.scanning.page import PipelineOptions, Word
from tests.conftest import render_page

LINES = ["供用电合同", "户号：3401405288", "用电地址：江苏省南京市玄武区中山路18号"]


@pytest.fixture(scope="module")
def page():
    return np.asarray(render_page(LINES))


@pytest.mark.parametrize("engine", ["tesseract", "rapidocr"])
def test_engine_reads_the_page_in_order_with_boxes(engine, page):
    result = get_engine(engine).recognise(page, PipelineOptions(engine=engine))
    lines = result.text.splitlines()
    assert "3401405288" in result.text and "供用电合同" in lines[0]
    assert lines.index(next(l for l in lines if "3401405288" in l)) < lines.index(next(l for l in lines if "地址" in l))
    digits = [w for w in result.words if w.text.startswith("3") or "340" in w.text]
    assert digits, result.words
    assert all(0 <= w.left < page.shape[1] and 0 <= w.top < page.shape[0] for w in result.words)
    assert result.confidence and result.confidence > 50
    assert engine in result.engine


def test_cells_far_apart_keep_a_space_and_cjk_neighbours_touch():
    w = lambda text, left: Word(text, left, 0, 40, 40, 90.0, 0)
    assert join_line([w("户", 0), w("名", 42), w("王", 400), w("建", 442), w("国", 484)]) == "户名 王建国"
    assert join_line([w("容量", 0), w("400", 82), w("kVA", 180)]) == "容量400 kVA"
    assert join_line([w("3", 0), w("4", 20), w("0", 40)]) == "340"  # one run split into characters


def test_pp_ocr_is_the_default_engine():
    assert PipelineOptions().engine == "rapidocr"
    with pytest.raises(ValueError, match="unknown OCR engine"):
        PipelineOptions(engine="abbyy")


def test_the_cells_of_a_form_row_read_left_to_right_on_one_line():
    from dangan.testing import realworld

    image, truth = realworld.screenshot(seed=1)
    result = get_engine("rapidocr").recognise(np.asarray(image), PipelineOptions())
    row = next(line for line in truth.text.splitlines() if line.startswith("户名"))
    assert row in result.text.splitlines()  # 户名 <name> 户号 <number>: one line, in order, a space per cell


def test_each_chinese_character_has_its_own_box_on_its_ink(page):
    result = get_engine("rapidocr").recognise(page, PipelineOptions())
    gray = page.min(axis=2)
    cjk = [w for w in result.words if "\u4e00" <= w.text <= "\u9fff"]
    assert len(cjk) >= 20
    on_ink = [(gray[w.top : w.top + w.height, w.left : w.left + w.width] < 128).any() for w in cjk]
    assert all(on_ink)
    widths = sorted(w.width for w in cjk)
    assert widths[-1] < 2 * widths[len(widths) // 2]  # one character, not a run spread


def test_tesseract_reads_a_latin_page_with_its_latin_model():
    from pathlib import Path

    from dangan.scanning.sources import inspect, read_page

    real = Path(__file__).resolve().parent.parent / "data" / "real"
    raw = read_page(inspect(real / "eurotext.tif"), 1)
    result = get_engine("tesseract").recognise(raw.image, PipelineOptions(engine="tesseract"))
    assert "-l eng" in result.engine
    assert "quick" in result.text and "brown" in result.text and "website.com" in result.text


def test_without_its_models_pp_ocr_falls_back_to_tesseract(monkeypatch, tmp_path, page):
    from dangan.tools import ppocr

    # the models are missing (a broken install): the true boundary here is the file system
    monkeypatch.setattr(ppocr, "models_dir", lambda: tmp_path)
    for cached in (ppocr.detector, ppocr.recogniser, ppocr.direction_classifier):
        cached.cache_clear()
    try:
        engine = get_engine("rapidocr")
        assert engine.name == "tesseract"
        assert "3401405288" in engine.recognise(page, PipelineOptions()).text
    finally:
        for cached in (ppocr.detector, ppocr.recogniser, ppocr.direction_classifier):
            cached.cache_clear()


def test_a_two_column_form_reads_across_each_row():
    from PIL import Image, ImageDraw, ImageFont

    from tests.conftest import SONG

    rows = [
        ("户名：长沙鑫源电器有限公司", "户号：3401405288"),
        ("用电地址：岳麓区麓山路8号", "联系电话：13812345678"),
        ("法定代表人：王建国先生", "证件号码：430104198001011234"),
        ("申请容量：400千伏安整", "用电类别：一般工商业用电"),
        ("供电电压：10千伏交流", "受理日期：2024年3月18日"),
        ("经办人：李小红女士同志", "受理编号：GD20240318001"),
    ]
    im = Image.new("RGB", (2480, 1100), "white")
    draw, font = ImageDraw.Draw(im), ImageFont.truetype(SONG, 50, index=2)
    for i, (left, right) in enumerate(rows):  # long cells in two aligned columns, like prose
        draw.text((270, 150 + 90 * i), left, font=font, fill="black")
        draw.text((1300, 150 + 90 * i), right, font=font, fill="black")
    lines = get_engine("rapidocr").recognise(np.asarray(im), PipelineOptions()).text.splitlines()
    assert lines == [f"{left} {right}" for left, right in rows]


def test_a_page_set_in_two_columns_reads_column_by_column():
    from pathlib import Path

    from dangan.scanning.sources import inspect, read_page

    real = Path(__file__).resolve().parent.parent / "data" / "real"
    brochure = read_page(inspect(real / "ccitt.pdf"), 1).image[1300:1760]  # the two-column part
    text = get_engine("rapidocr").recognise(brochure, PipelineOptions()).text
    left = "To record a sequence, simply press RECORD and PLAY,\nthen play your MIDI keyboard"
    right = "DELETE BARS operates the same way to remove\nunwanted sections.\nCreating a Song"
    assert left in text and right in text
    assert text.index("added into the track") < text.index("find the desired bar number")


def test_a_name_is_read_in_simplified_chinese():
    from pathlib import Path

    import cv2

    from dangan.scanning.ocr import simplified
    from dangan.tools.ppocr import TextLine

    # a form cell from a generated folder that PP-OCR reads as 徐靜 (its dictionary has both forms)
    cell = cv2.imread(str(Path(__file__).resolve().parent.parent / "data" / "cell-xu-jing.png"))
    assert get_engine("rapidocr").recognise(cell, PipelineOptions()).text == "户名 徐静"
    line = lambda text: TextLine(np.zeros((4, 2)), text, 0.9, tuple(range(len(text))))
    assert simplified(line("乾隆年間發電")).text == "乾隆年间发电"  # by phrase: 乾隆 is a name
    assert simplified(line("户号3401405288")).text == "户号3401405288"
