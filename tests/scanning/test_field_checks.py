"""A key field the engine was unsure of, or two pages of a folder disagreeing, goes to the QA
queue with both candidates."""

from __future__ import annotations

import numpy as np

from dangan.scanning.field_checks import check_field_confidence, folder_disagreements, weakest_character
from dangan.scanning.fields import extract_fields, extract_fields_step
from dangan.scanning.page import PageState, PipelineOptions, Word
from dangan.scanning.pipeline import run_pipeline
from dangan.testing import realworld

OPTIONS = PipelineOptions()


def _page_with(line: str, unsure: dict[int, tuple[float, str]]) -> PageState:
    """A page whose OCR read LINE, character i with confidence and runner-up UNSURE[i]."""
    words = tuple(
        Word(ch, 40 * i, 0, 38, 40, unsure.get(i, (99.0, ""))[0], 0, unsure.get(i, (99.0, ""))[1])
        for i, ch in enumerate(line)
        if ch != " "
    )
    page = PageState(source="t", page_no=1, image=np.zeros((1, 1, 3), np.uint8), dpi=300, text=line, words=words)
    return extract_fields_step(page, OPTIONS)


def test_an_unsure_character_in_the_name_sends_the_page_to_qa_with_both_readings():
    # 户名 任颖佳: the engine chose 宁 for 颖 with 31% and had 颖 as its second choice
    page = check_field_confidence(_page_with("户名 任宁佳 户号 3401405288", {4: (31.0, "颖")}), OPTIONS)
    name = page.fields["customer_name"]
    assert name.value == "任宁佳" and "任颖佳" in name.alternatives and name.confidence <= 0.31
    (flag,) = [f for f in page.flags if f.code == "field_uncertain"]
    assert flag.severity == "fail" and "任宁佳" in flag.message and "任颖佳" in flag.message
    assert "3401405288" not in flag.message  # the sure 户号 is not doubted


def test_sure_fields_raise_nothing_and_the_check_can_run_twice():
    page = check_field_confidence(_page_with("户名 任颖佳 户号 3401405288", {}), OPTIONS)
    assert not [f for f in page.flags if f.code == "field_uncertain"]
    twice = check_field_confidence(
        check_field_confidence(_page_with("户名 任宁佳", {4: (20.0, "颖")}), OPTIONS), OPTIONS
    )
    assert len([f for f in twice.flags if f.code == "field_uncertain"]) == 1


def test_weakest_character_finds_the_value_across_words():
    words = (
        Word("户", 0, 0, 10, 10, 99, 0),
        Word("号", 10, 0, 10, 10, 99, 0),
        Word("3401405288", 30, 0, 90, 10, 42, 0),
    )
    assert weakest_character("3401405288", words) == (42, 0, "")
    assert weakest_character("9999999999", words) is None


def test_a_wrong_name_read_by_tesseract_on_a_real_page_does_not_pass_silently():
    # Tesseract's chi_sim misreads names on ID cards (刘凯杰 → 刘如杰): whatever it reads, a wrong
    # name must come with a doubt the operator sees
    image, truth = realworld.idcard_sides(seed=0)
    options = PipelineOptions(engine="tesseract")
    page = run_pipeline(PageState(source="id", page_no=1, image=np.asarray(image), dpi=300), options)
    name = page.fields.get("customer_name")
    if name is not None and name.value != truth.customer_name:
        assert any(f.code == "field_uncertain" and f.severity == "fail" for f in page.flags), page.flags


def _fields(text: str) -> dict:
    return {k: {"value": p.value, "label": p.label, "valid": p.valid} for k, p in extract_fields(text).items()}


def test_two_pages_of_a_folder_naming_different_holders_are_both_shown_the_other_reading():
    pages = [
        (1, _fields("户名 长沙鑫源物流有限公司 户号 3401405288")),  # the application
        (2, _fields("居民身份证复印件\n姓名 王建国")),  # the legal representative's ID: not the holder
        (5, _fields("用电人：长沙僵源物流有限公司\n户号：3401405288")),  # the contract, misread
        (6, _fields("户名：长沙鑫源物流有限公司")),
    ]
    flags = folder_disagreements(pages)
    assert set(flags) == {5}  # the majority reading stands; only the odd page is queued
    (flag,) = flags[5]
    assert flag.severity == "fail" and "长沙僵源物流有限公司" in flag.message and "长沙鑫源物流有限公司" in flag.message
    assert "1, 6" in flag.message


def test_a_tie_queues_both_pages_and_a_different_account_number_too():
    pages = [(1, _fields("户名 王建国 户号 3401405288")), (2, _fields("户名：王建囯\n户号：3401405238"))]
    flags = folder_disagreements(pages)
    assert set(flags) == {1, 2}
    assert all(len(f) == 2 for f in flags.values())  # name and 户号 each


def test_a_transfer_folder_holds_two_names_by_nature():
    pages = [(1, _fields("原户名：孙静\n户名 梁浩鑫")), (2, _fields("户名：孙静"))]
    assert folder_disagreements(pages, business_type="GH") == {}
    assert folder_disagreements(pages) != {}
