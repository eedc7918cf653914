"""Identifier validators: check characters, shapes, plain reasons, repair proposals."""

import datetime as dt
import random

import pytest
from stdnum.iso7064 import mod_11_2 as stdnum_mod_11_2

from dangan.archive.identifiers import (
    InvalidIdentifier,
    is_valid_mod11_2,
    iso7064_mod11_2,
    mask_ric,
    repair_candidates_mod11_2,
    validate_account_number,
    validate_ric,
    validate_uscc,
    validate_work_order,
)

GB11643_EXAMPLE = "11010519491231002X"  # the standard's own example
TODAY = dt.date(2025, 6, 1)


def random_ric(rng: random.Random) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(25000))
    body = f"{rng.randrange(110000, 659999)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return body + iso7064_mod11_2(body)


# --- MOD 11-2 -------------------------------------------------------------------------------


def test_check_char_agrees_with_python_stdnum_on_random_payloads():
    rng = random.Random(11)
    for _ in range(500):
        payload = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 20)))
        assert iso7064_mod11_2(payload) == stdnum_mod_11_2.calc_check_digit(payload)


def test_known_vectors():
    assert iso7064_mod11_2(GB11643_EXAMPLE[:17]) == "X"
    assert iso7064_mod11_2("2024000123") == "9"  # the archive-number example GD01-KH·2024-0001239


@pytest.mark.parametrize("bad", ["", "12a4", "１２３"])
def test_check_char_refuses_non_digits(bad):
    with pytest.raises(InvalidIdentifier):
        iso7064_mod11_2(bad)


def test_every_single_substitution_and_adjacent_transposition_is_rejected():
    rng = random.Random(3)
    for _ in range(40):
        code = random_ric(rng)
        assert is_valid_mod11_2(code)
        for i in range(len(code)):
            for ch in "0123456789X" if i == len(code) - 1 else "0123456789":
                if ch != code[i]:
                    assert not is_valid_mod11_2(code[:i] + ch + code[i + 1 :])
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                assert not is_valid_mod11_2(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


def test_repair_candidates_contain_the_original_and_are_all_one_step_and_valid():
    rng = random.Random(5)
    for _ in range(50):
        code = random_ric(rng)
        i = rng.randrange(17)
        typo = code[:i] + str((int(code[i]) + rng.randint(1, 9)) % 10) + code[i + 1 :]
        candidates = repair_candidates_mod11_2(typo)
        assert code in candidates
        for cand in candidates:
            assert is_valid_mod11_2(cand)
            assert sum(a != b for a, b in zip(cand, typo)) == 1
        assert len(candidates) == len(set(candidates))
        # knowing which character OCR was unsure of narrows it to the one answer
        assert repair_candidates_mod11_2(typo, positions=[i]) == [code]


def test_valid_code_has_no_repairs_that_keep_it_unchanged():
    assert GB11643_EXAMPLE not in repair_candidates_mod11_2(GB11643_EXAMPLE)


# --- account number and work order ----------------------------------------------------------


def test_account_number_normalises_full_width_and_spaces():
    assert validate_account_number("３４０１ ４０５ ２８８") == "3401405288"
    assert validate_account_number("3401-405288") == "3401405288"


@pytest.mark.parametrize(
    "bad, words",
    [("340140528", "10 digits, has 9"), ("34014052881", "has 11"), ("34O1405288", "digits only"), ("", "empty")],
)
def test_account_number_reasons(bad, words):
    with pytest.raises(InvalidIdentifier) as exc:
        validate_account_number(bad)
    assert words in exc.value.reason


def test_work_order_ok_and_reasons():
    assert validate_work_order("2024031500001234", today=TODAY) == "2024031500001234"
    cases = {
        "2024133100001234": "not a date",
        "2026010100001234": "future",
        "1975010100001234": "before",
        "202403150000123": "16 digits",
        "2024031500000000": "serial",
    }
    for value, words in cases.items():
        with pytest.raises(InvalidIdentifier) as exc:
            validate_work_order(value, today=TODAY)
        assert words in exc.value.reason, value


# --- 身份证 ------------------------------------------------------------------------------------


def test_ric_valid_and_lowercase_x():
    assert validate_ric(GB11643_EXAMPLE.lower(), today=TODAY) == GB11643_EXAMPLE
    assert validate_ric("110105 19491231 002X", today=TODAY) == GB11643_EXAMPLE


def test_ric_reason_says_which_part_is_wrong():
    def reason(value):
        with pytest.raises(InvalidIdentifier) as exc:
            validate_ric(value, today=TODAY)
        return exc.value.reason

    assert "18 characters" in reason(GB11643_EXAMPLE[:-1])
    assert "first 17" in reason("11010519491231A02X")
    body = "110105194902300" + "02"  # 30 February
    assert "birth date" in reason(body + iso7064_mod11_2(body))
    future = "110105209901010" + "02"
    assert "not plausible" in reason(future + iso7064_mod11_2(future))
    assert "check character is 1 but should be X" in reason(GB11643_EXAMPLE[:-1] + "1")


def test_mask_ric():
    assert mask_ric("320104199003071234") == "3201**********1234"
    assert mask_ric(GB11643_EXAMPLE) == "1101**********002X"


# --- 统一社会信用代码 ----------------------------------------------------------------------------


def test_uscc():
    assert validate_uscc("91110000600037341l") == "91110000600037341L"
    with pytest.raises(InvalidIdentifier) as exc:
        validate_uscc("91110000600037341M")
    assert "check character" in exc.value.reason
    with pytest.raises(InvalidIdentifier) as exc:
        validate_uscc("9111000060003734IL")
    assert "not used" in exc.value.reason and "I" in exc.value.reason
    with pytest.raises(InvalidIdentifier) as exc:
        validate_uscc("9111000060003734")
    assert "18 characters" in exc.value.reason
