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
