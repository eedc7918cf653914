"""Validators for the identifiers that appear in customer files.

Every validator takes what a person typed or OCR read, returns the normalised form, or raises
``InvalidIdentifier`` with a plain reason. Nothing here "fixes" a wrong value silently:
``repair_candidates_mod11_2`` only *proposes* corrections for a person to confirm.

Conventions (shared across dangan):
- 户号 (account number): 10 digits.
- 工单编号 (work order): 16 digits = business date YYYYMMDD + 8-digit serial.
- 公民身份号码 (GB 11643): 17 digits + ISO 7064 MOD 11-2 check character (0-9 or X).
- 统一社会信用代码 (GB 32100): 18 characters, mod-31 check character.
- Archive number ``{fonds}-KH·{year}-{serial:06d}{check}``, check = MOD 11-2 over ``{year}{serial}``.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

from stdnum.cn import uscc as _uscc
from stdnum.exceptions import ValidationError as _StdnumError

from dangan.errors import DanganError
from dangan.i18n import N_, _

__all__ = [
    "InvalidIdentifier",
    "is_valid_mod11_2",
    "iso7064_mod11_2",
    "mask_ric",
    "repair_candidates_mod11_2",
    "validate_account_number",
    "validate_ric",
    "validate_uscc",
    "validate_work_order",
]

# Weights of ISO 7064 MOD 11-2 are 2^(n-i) mod 11; GB 11643 lists them explicitly for 17 digits.
_MOD11_2_CHECK_CHARS = "0123456789X"
_EARLIEST_BUSINESS_YEAR = 1980  # work orders before computerised billing do not exist
_EARLIEST_BIRTH_YEAR = 1900


# the identifiers by name, for messages (the kind itself stays English: code reads it)
KINDS = {
    "account number": N_("account number"),
    "work-order number": N_("work-order number"),
    "ID number": N_("ID number"),
    "credit code": N_("credit code"),
}


class InvalidIdentifier(DanganError, ValueError):
    """An identifier failed validation. ``kind`` names the identifier, ``reason`` says why in
    the current language (shown to operators), ``value`` is what was given."""

    def __init__(self, kind: str, value: str, reason: str, *, check_character: bool = False) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason  # in the current language
        self.check_character = check_character  # only the check character is wrong: one misread character
        named = _(KINDS[kind]) if kind in KINDS else kind
        super().__init__(f"{named} {value!r}: {reason}")


# --- normalisation --------------------------------------------------------------------------


def _compact(s: str) -> str:
    """Full-width → half-width (NFKC), drop spaces and the separators people type."""
    s = unicodedata.normalize("NFKC", s or "")
    return re.sub(r"[\s\-_/]", "", s)


# --- ISO 7064 MOD 11-2 ----------------------------------------------------------------------


def _mod11_2_sum(digits: str) -> int:
    # Pure-system recursion: p = (p + d) * 2 mod 11, same as weighting by powers of two.
    p = 0
    for ch in digits:
        p = ((p + int(ch)) * 2) % 11
    return p


def iso7064_mod11_2(digits: str) -> str:
    """Check character (``0``-``9`` or ``X``) for a string of decimal digits."""
    if not digits or not digits.isascii() or not digits.isdigit():
        raise InvalidIdentifier("MOD 11-2 payload", digits, _("must be a non-empty string of digits 0-9"))
    return _MOD11_2_CHECK_CHARS[(12 - _mod11_2_sum(digits)) % 11]


def is_valid_mod11_2(code: str) -> bool:
    """True when the last character of ``code`` is the MOD 11-2 check of the digits before it."""
    code = _compact(code).upper()
    if len(code) < 2 or not code[:-1].isascii() or not code[:-1].isdigit():
        return False
    return code[-1] == iso7064_mod11_2(code[:-1])


def repair_candidates_mod11_2(code: str, positions: range | list[int] | None = None) -> list[str]:
    """Every code that differs from ``code`` in exactly one character and has a valid check.

    Proposals for a person to confirm, never an automatic fix: MOD 11-2 detects every single
    substitution but cannot say *where* it happened, so a 17-digit payload usually has one
    candidate per position. Callers narrow the list (``positions`` = low-confidence OCR
    characters, or structural checks such as a valid birth date).
    """
    code = _compact(code).upper()
    if len(code) < 2:
        return []
    last = len(code) - 1
    wanted = range(len(code)) if positions is None else positions
    found: list[str] = []
    for i in wanted:
        if not 0 <= i <= last:
            continue
        alphabet = _MOD11_2_CHECK_CHARS if i == last else "0123456789"
        for ch in alphabet:
            if ch == code[i]:
                continue
            candidate = code[:i] + ch + code[i + 1 :]
            if is_valid_mod11_2(candidate):
                found.append(candidate)
    return found


# --- business identifiers -------------------------------------------------------------------


def validate_account_number(s: str) -> str:
    """户号: exactly 10 digits. Returns the digits."""
    value = _compact(s)
    if not value:
        raise InvalidIdentifier("account number", s, _("is empty"))
    if not value.isascii() or not value.isdigit():
        raise InvalidIdentifier("account number", s, _("must contain digits only"))
    if len(value) != 10:
        raise InvalidIdentifier("account number", s, _("must have 10 digits, has {n}").format(n=len(value)))
    return value


def _date_or_none(yyyymmdd: str) -> _dt.date | None:
    try:
        return _dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def validate_work_order(s: str, *, today: _dt.date | None = None) -> str:
    """工单编号: 16 digits, the first 8 a real business date not in the future."""
    today = today or _dt.date.today()
    value = _compact(s)
    if not value.isascii() or not value.isdigit():
        raise InvalidIdentifier("work-order number", s, _("must contain digits only"))
    if len(value) != 16:
        raise InvalidIdentifier("work-order number", s, _("must have 16 digits, has {n}").format(n=len(value)))
    date = _date_or_none(value[:8])
    if date is None:
        raise InvalidIdentifier(
            "work-order number", s, _("starts with {value}, which is not a date YYYYMMDD").format(value=value[:8])
        )
    if date.year < _EARLIEST_BUSINESS_YEAR:
        raise InvalidIdentifier(
            "work-order number",
            s,
            _("date {value} is before {year}").format(value=date.isoformat(), year=_EARLIEST_BUSINESS_YEAR),
        )
    if date > today:
        raise InvalidIdentifier(
            "work-order number", s, _("date {value} is in the future").format(value=date.isoformat())
        )
    if value[8:] == "0" * 8:
        raise InvalidIdentifier("work-order number", s, _("serial part is 00000000"))
    return value


def validate_ric(s: str, *, today: _dt.date | None = None) -> str:
    """公民身份号码 (GB 11643-1999): 18 characters, birth date, MOD 11-2 check character.

    The 6-digit region code is not checked against a table: codes are renumbered over the years
    and an outdated table would reject real people.
    """
    today = today or _dt.date.today()
    value = _compact(s).upper()
    if len(value) != 18:
        raise InvalidIdentifier("ID number", s, _("must have 18 characters, has {n}").format(n=len(value)))
    if not value[:17].isascii() or not value[:17].isdigit():
        raise InvalidIdentifier("ID number", s, _("the first 17 characters must be digits"))
    if value[17] not in _MOD11_2_CHECK_CHARS:
        raise InvalidIdentifier("ID number", s, _("the last character must be a digit or X"))
    birth = _date_or_none(value[6:14])
    if birth is None:
        raise InvalidIdentifier(
            "ID number", s, _("birth date {value} (characters 7-14) is not a real date").format(value=value[6:14])
        )
    if birth.year < _EARLIEST_BIRTH_YEAR or birth > today:
        raise InvalidIdentifier(
            "ID number", s, _("birth date {value} is not plausible").format(value=birth.isoformat())
        )
    expected = iso7064_mod11_2(value[:17])
    if value[17] != expected:
        raise InvalidIdentifier(
            "ID number",
            s,
            _("check character is {value} but should be {expected}: a character was misread or mistyped").format(
                value=value[17], expected=expected
            ),
            check_character=True,
        )
    return value


def validate_uscc(s: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters from 0-9 and A-Z without I, O, Z, S, V."""
    value = _compact(s).upper()
    if len(value) != 18:
        raise InvalidIdentifier("credit code", s, _("must have 18 characters, has {n}").format(n=len(value)))
    if not value[:8].isascii() or not value[:8].isdigit():
        raise InvalidIdentifier("credit code", s, _("characters 1-8 (authority, type, region) must be digits"))
    bad = sorted({c for c in value[8:] if c not in _uscc._alphabet})
    if bad:
        raise InvalidIdentifier(
            "credit code", s, _("contains characters not used in credit codes: {choices}").format(choices="".join(bad))
        )
    expected = _uscc.calc_check_digit(value[:17])
    if value[17] != expected:
        raise InvalidIdentifier(
            "credit code",
            s,
            _("check character is {value} but should be {expected}").format(value=value[17], expected=expected),
            check_character=True,
        )
    try:
        return _uscc.validate(value)
    except _StdnumError as exc:  # pragma: no cover - the checks above cover stdnum's rules
        raise InvalidIdentifier("credit code", s, str(exc)) from exc


def mask_ric(s: str) -> str:
    """Show an ID number as ``3201**********1234`` (first 4, last 4): enough to compare, not to misuse."""
    value = _compact(s).upper()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
