"""Values of the fields OCR proposes, each parsed and checked by its own rule: 户号 (10 digits),
工单编号 (the scheme's format), 身份证号 (GB 11643), 信用代码 (GB 32100), phone numbers, dates in
figures or in Chinese numerals, capacities with their unit, names, addresses, archive numbers.

A parser takes the text after a label and returns a :class:`Parsed` value or None when the
text does not look like that field at all. Look-alike letters are read as digits only in
identifiers that are digits only, and every such repair is counted and said.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from dangan.archive.identifiers import (
    InvalidIdentifier,
    repair_candidates_mod11_2,
    validate_account_number,
    validate_ric,
    validate_uscc,
    validate_work_order,
)
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK}]")
COLONS = ":;"  # NFKC maps '：' to ':'; OCR sometimes reads a colon as ';'


def join_cjk(s: str) -> str:
    """Remove spaces OCR put between CJK characters, or between CJK characters and digits."""
    return re.sub(f"(?<=[{CJK}0-9])\\s+(?=[{CJK}])|(?<=[{CJK}])\\s+(?=[0-9])", "", s)


# OCR letters that stand for digits in numeric identifiers.
DIGIT_LOOKALIKES = {
    "O": "0",
    "o": "0",
    "D": "0",
    "Q": "0",
    "l": "1",
    "I": "1",
    "|": "1",
    "i": "1",
    "Z": "2",
    "z": "2",
    "S": "5",
    "s": "5",
    "B": "8",
}
# Digits OCR mistakes for one another (for ranking check-character repairs).
_DIGIT_CONFUSIONS = {
    frozenset(p)
    for p in ("08", "06", "09", "38", "35", "56", "58", "68", "89", "17", "14", "49", "27", "12", "13", "0X", "4X")
}


@dataclass
class Parsed:
    value: str
    valid: bool
    reason: str = ""
    repairs: int = 0  # OCR look-alike characters replaced
    alternatives: tuple[str, ...] = ()
    raw: str = ""


_RUN_RE = re.compile(r"[0-9A-Za-z|×](?:[ \t]?[0-9A-Za-z|×])*")


def _leading_run(region: str) -> str | None:
    """The identifier-like run at the start of a value region (letters, digits, single spaces)."""
    region = region.lstrip(" \t" + COLONS)
    m = _RUN_RE.match(region)
    return m.group(0) if m else None


def digits_from_run(run: str, length: int, allow_x_last: bool = False) -> tuple[str, int, str]:
    """Normalise look-alikes to digits; take space-separated groups until ``length`` chars.

    Returns (candidate, repairs, raw used)."""
    groups = run.split()
    taken, raw_used = "", []
    for g in groups:
        taken += g
        raw_used.append(g)
        if len(taken) >= length:
            break
    out, repairs = [], 0
    for pos, ch in enumerate(taken):
        if allow_x_last and pos == len(taken) - 1 and ch in "xX×":
            out.append("X")
            repairs += ch != "X"
        elif ch.isdigit():
            out.append(ch)
        elif ch in DIGIT_LOOKALIKES:
            out.append(DIGIT_LOOKALIKES[ch])
            repairs += 1
        else:
            out.append(ch)
    return "".join(out), repairs, " ".join(raw_used)


def _repair_note(repairs: int) -> str:
    return f"{repairs} OCR look-alike character(s) read as digits" if repairs else ""


def join_notes(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _parse_account(region: str) -> Parsed | None:
    run = _leading_run(region)
    if not run:
        return None
    value, repairs, raw = digits_from_run(run, 10)
    if sum(c.isdigit() for c in value) < 6:
        return None
    try:
        return Parsed(validate_account_number(value), True, _repair_note(repairs), repairs, raw=raw)
    except InvalidIdentifier as exc:
        return Parsed(value, False, join_notes(exc.reason, _repair_note(repairs)), repairs, raw=raw)


DEFAULT_WORK_ORDER = r"\d{16}"  # archive.identifiers: YYYYMMDD + 8-digit serial
_DIGITS_ONLY = re.compile(r"(?:(?:\\d|\[0-9\])(?:\{\d+(?:,\d*)?\}|[+*?])?)+")


def digits_only(pattern: str) -> bool:
    """Whether a work-order PATTERN admits digits and nothing else (\\d{16}, [0-9]{8}\\d{8})."""
    return _DIGITS_ONLY.fullmatch(pattern) is not None


def _parse_work_order(region: str, pattern: str = DEFAULT_WORK_ORDER) -> Parsed | None:
    """A work order in the scheme's format. Look-alike letters (O, l, S…) are read as digits
    only when the format is digits only: a format with letters keeps every letter as read."""
    run = _leading_run(region)
    if not run:
        return None
    if not digits_only(pattern):
        value = "".join(run.split())
        if re.fullmatch(pattern, value):
            return Parsed(value, True, raw=run)
        return Parsed(value, False, f"does not match the work-order format {pattern}", raw=run)
    length = sum(int(n) for n in re.findall(r"\{(\d+)", pattern)) or 16
    value, repairs, raw = digits_from_run(run, length)
    if sum(c.isdigit() for c in value) < min(10, length):
        return None
    try:
        if pattern == DEFAULT_WORK_ORDER:
            value = validate_work_order(value)
        elif not re.fullmatch(pattern, value):
            raise InvalidIdentifier("work-order number", value, f"does not match the work-order format {pattern}")
        return Parsed(value, True, _repair_note(repairs), repairs, raw=raw)
    except InvalidIdentifier as exc:
        return Parsed(value, False, join_notes(exc.reason, _repair_note(repairs)), repairs, raw=raw)


def ric_structure_ok(code: str) -> bool:
    """Everything but the check character: shape and birth date."""
    try:
        validate_ric(code[:17] + "0")
        return True
    except InvalidIdentifier as exc:
        return exc.check_character


def _plausible_repairs(code: str, structure_ok: Callable[[str], bool]) -> list[str]:
    """Single-character repairs that pass the structure and swap digits OCR really confuses."""
    out = []
    for cand in repair_candidates_mod11_2(code):
        i = next(k for k, (a, b) in enumerate(zip(code, cand)) if a != b)
        if frozenset((code[i], cand[i])) in _DIGIT_CONFUSIONS and structure_ok(cand):
            out.append(cand)
    return out


def _parse_ric(region: str) -> Parsed | None:
    run = _leading_run(region)
    if not run:
        return None
    value, repairs, raw = digits_from_run(run, 18, allow_x_last=True)
    return check_ric(value, repairs, raw)


def check_ric(value: str, repairs: int, raw: str) -> Parsed | None:
    if sum(c.isdigit() for c in value) < 14:
        return None
    try:
        return Parsed(validate_ric(value), True, _repair_note(repairs), repairs, raw=raw)
    except InvalidIdentifier as exc:
        alternatives: tuple[str, ...] = ()
        reason = exc.reason
        if exc.check_character:
            repairs_found = _plausible_repairs(value, ric_structure_ok)
            if len(repairs_found) == 1:
                alternatives = tuple(repairs_found)
                reason += f"; one likely OCR slip would give {repairs_found[0]} (please compare with the paper)"
        return Parsed(value, False, join_notes(reason, _repair_note(repairs)), repairs, alternatives, raw)


_USCC_LOOKALIKES = {"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"}


def _parse_uscc(region: str) -> Parsed | None:
    run = _leading_run(region)
    if not run:
        return None
    taken, raw = _digits_prefix_any(run, 18)
    return check_uscc(taken, raw)


def _digits_prefix_any(run: str, length: int) -> tuple[str, str]:
    taken, used = "", []
    for g in run.split():
        taken += g
        used.append(g)
        if len(taken) >= length:
            break
    return taken.upper(), " ".join(used)


def check_uscc(taken: str, raw: str) -> Parsed | None:
    if len(taken) < 15:
        return None
    fixed = "".join(_USCC_LOOKALIKES.get(c, c) for c in taken)
    repairs = sum(a != b for a, b in zip(taken, fixed))
    note = f"{repairs} letter(s) not used in credit codes read as look-alikes" if repairs else ""
    try:
        return Parsed(validate_uscc(fixed), True, note, repairs, raw=raw)
    except InvalidIdentifier as exc:
        return Parsed(fixed, False, join_notes(exc.reason, note), repairs, raw=raw)


MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")


def _parse_phone(region: str) -> Parsed | None:
    text = region.lstrip(" \t" + COLONS)
    digits_run = re.match(r"[0-9OolI][0-9OolI\- ]{6,19}", text)
    if not digits_run:
        return None
    raw = digits_run.group(0).strip()
    cleaned = "".join(DIGIT_LOOKALIKES.get(c, c) for c in raw)
    repairs = sum(a != b for a, b in zip(raw, cleaned))
    compact = re.sub(r"\s", "", cleaned)
    if m := MOBILE_RE.fullmatch(compact):
        return Parsed(m.group(1), True, _repair_note(repairs), repairs, raw=raw)
    if m := _LANDLINE_RE.fullmatch(compact):
        return Parsed(f"{m.group(1)}-{m.group(2)}", True, _repair_note(repairs), repairs, raw=raw)
    return Parsed(compact, False, "not an 11-digit mobile number or a 0xx-xxxxxxx landline", repairs, raw=raw)


_CN_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_DATE_RES = (
    re.compile(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
    re.compile(r"(?<!\d)(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})(?!\d)"),
)
_CN_DATE_RE = re.compile(
    r"([〇零○O一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月\s*([一二三四五六七八九十]{1,3})\s*日"
)


def _cn_number(s: str) -> int:
    """一 .. 三十一 (month and day numerals)."""
    if "十" not in s:
        return _CN_DIGITS[s]
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def find_dates(text: str) -> list[tuple[int, int, str, int, int, int]]:
    """Every date in ``text``: (start, end, raw, year, month, day), in order."""
    found = []
    for rx in _DATE_RES:
        for m in rx.finditer(text):
            found.append((m.start(), m.end(), m.group(0), int(m[1]), int(m[2]), int(m[3])))
    for m in _CN_DATE_RE.finditer(text):
        try:
            year = int("".join(str(_CN_DIGITS[c]) for c in m[1]))
            found.append((m.start(), m.end(), m.group(0), year, _cn_number(m[2]), _cn_number(m[3])))
        except KeyError:
            continue
    found.sort()
    # drop overlaps (a '2024年3月15日' also matched by nothing else, but be safe)
    out, last_end = [], -1
    for f in found:
        if f[0] >= last_end:
            out.append(f)
            last_end = f[1]
    return out


def date_proposal(raw: str, year: int, month: int, day: int) -> Parsed:
    try:
        date = _dt.date(year, month, day)
    except ValueError:
        return Parsed(f"{year:04d}-{month:02d}-{day:02d}", False, "not a real calendar date", raw=raw)
    if not 1900 <= year <= _dt.date.today().year + 30:
        return Parsed(date.isoformat(), False, f"year {year} is not plausible", raw=raw)
    return Parsed(date.isoformat(), True, raw=raw)


def _parse_date(region: str) -> Parsed | None:
    text = region.lstrip(" \t" + COLONS)
    dates = find_dates(text)
    if not dates or dates[0][0] > 2:
        return None
    _, _, raw, y, m, d = dates[0]
    return date_proposal(raw, y, m, d)


_CAPACITY_RE = re.compile(
    r"(?<![\d.])(\d+(?:[.,]\d+)?)\s*(k\s*V\s*A|K\s*V\s*A|kva|千伏安|k\s*W|K\s*W|kw|千瓦)?", re.IGNORECASE
)


def _unit(raw_unit: str) -> str:
    u = re.sub(r"\s", "", raw_unit).lower()
    return "kVA" if u in ("kva", "千伏安") else "kW"


def _parse_capacity(region: str) -> Parsed | None:
    text = region.lstrip(" \t" + COLONS)
    m = _CAPACITY_RE.match(text)
    if not m:
        return None
    amount = m.group(1).replace(",", ".")
    if not m.group(2):
        return Parsed(amount, False, "no unit (kVA or kW) after the number", raw=m.group(0))
    return Parsed(f"{float(amount):g} {_unit(m.group(2))}", True, raw=m.group(0).strip())


def parse_capacity_value(value: str) -> tuple[float, str]:
    """``"315 kVA"`` → ``(315.0, "kVA")``: the form capacity proposals use."""
    amount, unit = value.split()
    return float(amount), unit


_NAME_STRIP = " \t,，.。;；:：、()（）[]【】<>《》\"'“”‘’_-—|/"
_ADDRESS_MARKERS = set("省市区县镇乡村路街道号巷弄栋幢室楼组")


def _free_text(region: str) -> str:
    text = re.split(r"\s{2,}", region.strip(" \t" + COLONS))[0]  # a wide gap ends the value
    return join_cjk(text).strip(_NAME_STRIP)


def _parse_name(region: str) -> Parsed | None:
    text = _free_text(region)
    if not text:
        return None
    if not (CJK_RE.search(text) or re.search(r"[A-Za-z]{2}", text)):
        return Parsed(text, False, "contains no name characters", raw=region.strip(" \t" + COLONS))
    if len(text) > 40:
        return Parsed(
            text,
            False,
            "longer than 40 characters: the value probably ran into other text",
            raw=region.strip(" \t" + COLONS),
        )
    if re.search(r"\d{3,}", text):
        return Parsed(text, False, "contains a number: probably not a name", raw=region.strip(" \t" + COLONS))
    return Parsed(text, True, raw=region.strip(" \t" + COLONS))


def _parse_address(region: str) -> Parsed | None:
    text = join_cjk(region.strip(" \t" + COLONS)).strip(_NAME_STRIP)
    if not text:
        return None
    if not _ADDRESS_MARKERS & set(text):
        return Parsed(
            text,
            False,
            "has none of 省/市/区/县/路/街/号/室…: check it is an address",
            raw=region.strip(" \t" + COLONS),
        )
    if len(text) > 80:
        return Parsed(text, False, "longer than 80 characters", raw=region.strip(" \t" + COLONS))
    return Parsed(text, True, raw=region.strip(" \t" + COLONS))


ARCHIVE_RE = re.compile(
    r"(?<![A-Z0-9])([A-Z0-9]{2,8})\s*[-—]\s*(KH)\s*[·.\-•・]?\s*(\d{4})\s*[-—]?\s*([0-9OIl]{6}\s*[0-9X])(?![0-9])"
)


def check_archive(raw: str, fonds: str, cat: str, year: str, serial_check: str) -> Parsed:
    sc = "".join(DIGIT_LOOKALIKES.get(c, c) for c in re.sub(r"\s", "", serial_check))
    candidate = f"{fonds}-{cat}·{year}-{sc}"
    try:
        return Parsed(str(ArchiveNumber.parse(candidate)), True, raw=raw)
    except InvalidArchiveNumber as exc:
        digits = year + sc
        alternatives: tuple[str, ...] = ()
        reason = str(exc)
        same_year = [c for c in _plausible_repairs(digits, lambda c: c[:4] == year)]
        if len(same_year) == 1:
            fixed = same_year[0]
            alternatives = (f"{fonds}-{cat}·{fixed[:4]}-{fixed[4:]}",)
            reason += f"; one likely OCR slip would give {alternatives[0]}"
        return Parsed(candidate, False, reason, alternatives=alternatives, raw=raw)


def _parse_archive(region: str) -> Parsed | None:
    text = region.lstrip(" \t" + COLONS).upper()
    m = ARCHIVE_RE.match(text)
    if not m:
        return None
    return check_archive(m.group(0), *m.groups())


DATE_FIELDS = ("application_date", "seal_date", "unseal_date", "connection_date", "meter_removal_date", "signing_date")
CAPACITY_FIELDS = ("applied_capacity", "running_capacity", "transformer_capacity", "contract_capacity")

PARSERS: dict[str, Callable[[str], Parsed | None]] = {
    "account_number": _parse_account,
    "work_order": _parse_work_order,
    "id_number": _parse_ric,
    "uscc": _parse_uscc,
    "customer_name": _parse_name,
    "agent_name": _parse_name,
    "previous_name": _parse_name,
    "address": _parse_address,
    "phone": _parse_phone,
    "archive_number": _parse_archive,
    **{name: _parse_date for name in DATE_FIELDS},
    **{name: _parse_capacity for name in CAPACITY_FIELDS},
}


def parser(name: str, work_order_pattern: str = DEFAULT_WORK_ORDER) -> Callable[[str], Parsed | None]:
    if name == "work_order" and work_order_pattern != DEFAULT_WORK_ORDER:
        return lambda region: _parse_work_order(region, work_order_pattern)
    return PARSERS[name]
