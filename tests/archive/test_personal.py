"""Personal values: what the scheme marks personal, how they are found in OCR text and
masked (at most the last 4 characters), and which searches would single a person out."""

from __future__ import annotations

import pytest

from dangan.archive.business.scheme import SchemeError, load_scheme
from dangan.archive.personal import PersonalData, blank_values, mask_value

RIC = "420111199502103354"


@pytest.fixture(scope="module")
def personal() -> PersonalData:
    return load_scheme().personal


def test_the_shipped_scheme_marks_id_numbers_and_the_party_ids_of_a_transfer_personal(personal):
    assert {"id_number", "previous_party_id", "new_party_id"} <= personal.fields
    assert [d.name for d in personal.detectors] == ["cn_ric"]


def test_a_mask_shows_at_most_the_last_four_characters_and_keeps_the_length():
    assert mask_value(RIC) == "*" * 14 + "3354"
    assert mask_value("4201 1119 9502 1033 54") == "**** **** **** **33 54"
    assert mask_value("12345678") == "********"  # short: nothing shown at all
    assert mask_value("") == ""


def test_id_numbers_are_masked_in_text_even_when_ocr_put_spaces_inside(personal):
    text = f"公民身份号码 {RIC}\n户号 3401405288 工单 2024031500001234\n证件号 4201 1119 9502 1033 54"
    masked = personal.mask_text(text)
    assert RIC not in masked and "1119" not in masked and len(masked) == len(text)
    assert "3401405288" in masked and "2024031500001234" in masked  # not personal
    assert masked.count("3354") == 1 and "**33 54" in masked


def test_a_misread_number_the_fields_hold_is_masked_where_no_detector_would_see_it(personal):
    misread = "42011119950210335A"  # a wrong check character: no ID pattern matches it
    fields = {"id_number": {"value": misread, "raw": misread, "valid": False, "alternatives": [RIC]}}
    known = personal.field_values(fields)
    message = f"Check these fields against the paper: id_number {misread!r}: check character is A but should be 4"
    masked = personal.mask_text(message, known)
    assert misread not in masked and "1119" not in masked and "check character" in masked
    shown = personal.mask_fields(fields)["id_number"]
    assert shown["value"] == "*" * 14 + "335A" and shown["alternatives"] == ["*" * 14 + "3354"]
    assert shown["valid"] is False


def test_the_index_reads_the_text_without_personal_numbers(personal):
    text = f"身份证 {RIC} 户号 3401405288"
    numbers = personal.numbers_in(text)
    assert numbers == [RIC]
    blanked = blank_values(text, numbers)
    assert RIC not in blanked and "3401405288" in blanked and len(blanked) == len(text)


@pytest.mark.parametrize(
    "term",
    [RIC, "42011119950210335X".replace("X", "4"), "4201 1119 9502 1033 54", "42011119950210", "42011119850713"],
)
def test_a_personal_number_or_a_beginning_that_singles_someone_out_is_refused(personal, term):
    reason = personal.refusal([term])
    assert reason and "grant" in reason


@pytest.mark.parametrize(
    "term", ["3401405288", "340140", "2024031500001234", "20240315", "减容", "GD01-KH·2026-0000011", "3354"]
)
def test_account_numbers_work_orders_archive_numbers_and_words_are_not_refused(personal, term):
    assert personal.refusal([term]) is None


def test_the_logged_query_masks_personal_numbers_and_their_beginnings(personal):
    assert personal.mask_query(f"{RIC} 减容") == "*" * 14 + "3354 减容"
    assert personal.mask_query("42011119850713*") == "**********0713*"
    assert personal.mask_query("户号:3401405288") == "户号:3401405288"


def test_a_scheme_naming_an_unknown_detector_is_refused_with_the_line(tmp_path):
    from dangan.archive.business.scheme import DEFAULT_SCHEME_PATH

    text = DEFAULT_SCHEME_PATH.read_text(encoding="utf-8").replace(
        "find_in_text: [cn_ric]", "find_in_text: [cn_pasport]"
    )
    path = tmp_path / "scheme.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemeError) as e:
        load_scheme(path)
    assert "scheme.yaml:48: unknown detector 'cn_pasport' (cn_ric)" in str(e.value)
