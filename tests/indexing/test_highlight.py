from dataclasses import dataclass

from dangan.indexing.highlight import Box, locate


@dataclass
class W:
    text: str
    left: int
    top: int
    width: int
    height: int
    line: int


def line_of_chars(text, line, top, left=100, size=20):
    """One OCR word per character, like Tesseract on Chinese."""
    return [W(ch, left + i * size, top, size, size, line) for i, ch in enumerate(text)]


def test_phrase_over_single_char_words_gives_one_union_box():
    words = line_of_chars("签订供用电合同", line=1, top=50)
    assert locate(words, ["供用电合同"]) == [Box(140, 50, 100, 20, 1, "供用电合同")]


def test_phrase_wrapping_onto_next_line_gives_one_box_per_line():
    words = line_of_chars("甲方供用", line=1, top=50) + line_of_chars("电合同乙方", line=2, top=80, left=100)
    boxes = locate(words, ["供用电合同"])
    assert [(b.line, b.left, b.top, b.width) for b in boxes] == [(1, 140, 50, 40), (2, 100, 80, 60)]


def test_number_inside_a_longer_word_boxes_that_word():
    words = [W("户号：3401405288", 10, 10, 200, 22, 3), W("王建国", 230, 10, 60, 22, 3)]
    assert locate(words, ["340140"]) == [Box(10, 10, 200, 22, 3, "340140")]


def test_every_occurrence_is_boxed_and_case_width_insensitive():
    words = (
        line_of_chars("合同", line=1, top=0) + [W("ＨＴ", 200, 0, 30, 20, 1)] + line_of_chars("合同", line=2, top=40)
    )
    boxes = locate(words, ["合同", "ht"])
    assert [(b.line, b.left, b.text) for b in boxes] == [(1, 100, "合同"), (1, 200, "ht"), (2, 100, "合同")]


def test_garbled_occurrence_only_when_tolerant():
    words = line_of_chars("供用电台同", line=1, top=0)
    assert locate(words, ["供用电合同"]) == []
    boxes = locate(words, ["供用电合同"], tolerant=True)
    assert boxes == [Box(100, 0, 100, 20, 1, "供用电合同", tolerant=True)]


def test_no_match_no_boxes():
    assert locate(line_of_chars("无关", 1, 0), ["合同"]) == []
