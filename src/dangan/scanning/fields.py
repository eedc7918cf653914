"""Field proposals from OCR text: 户号, 工单编号, 身份证号, 信用代码, names, addresses, dates, capacities…
(Long for now: it is being split along with the image-step rework of issue 12.)

OCR *proposes*, a person confirms. A proposal that fails its identifier check is returned with
``valid=False`` and the reason; it is never corrected silently. Where exactly one OCR-plausible
single-character repair makes the check pass, it is offered in ``alternatives``.

Approach: regex plus small fuzzy label matching, no ML.
- Text is NFKC-normalised (full-width colons, digits and letters become ASCII).
- Labels are found on a copy of each line with whitespace removed (Tesseract's chi_sim often
  prints ``户 号 ： 3401405288``), mapped back to the original line for the value.
- A label may have one garbled character when a colon follows it (``户亏：`` still reads as 户号).
- A value runs from its label to the next label-like ``xx：`` on the same line.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from dangan.archive.identifiers import (
    InvalidIdentifier,
    repair_candidates_mod11_2,
    validate_account_number,
    validate_ric,
    validate_uscc,
    validate_work_order,
)
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber
from dangan.scanning.page import PageState, PipelineOptions

__all__ = ["LABELS", "FieldProposal", "extract_fields", "extract_fields_step", "parse_capacity_value"]


@dataclass(frozen=True)
class FieldProposal:
    """One value OCR proposes for a field.

    value: normalised value (dates ISO ``YYYY-MM-DD``, capacity ``"315 kVA"``), as a string.
    confidence: 0-1, how likely the value is what is printed (label quality, OCR repairs, checks).
    valid: passes the field's checks (check character, date, shape).
    reason: plain English: what was repaired or why it is invalid; empty when clean.
    raw: the text the value was read from.
    alternatives: single-character repairs that would make an invalid identifier valid.
    label: the label text as matched on the page ('' when found by pattern alone).
    """

    name: str
    value: str
    confidence: float
    valid: bool
    reason: str
    raw: str
    alternatives: tuple[str, ...] = ()
    label: str = ""


# --- label vocabulary -----------------------------------------------------------------------
# field name -> labels as printed. Longer labels win over labels they contain (客户名称 > 户名).
LABELS: dict[str, tuple[str, ...]] = {
    "account_number": ("户号", "用户编号", "客户编号", "用户号", "客户号", "电费户号"),
    "work_order": ("工单编号", "工单号", "申请编号", "业务工单号"),
    "id_number": ("公民身份号码", "身份证号码", "身份证号", "身份号码", "证件号码"),
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码"),
    "customer_name": ("户名", "客户名称", "用户名称", "用电人", "申请人", "姓名", "委托人", "产权人"),
    "agent_name": ("受托人", "经办人", "代理人"),
    "address": ("用电地址", "住址", "地址", "通讯地址", "联系地址", "装表地址"),
    "phone": ("联系电话", "电话", "手机", "手机号码", "联系方式"),
    "archive_number": ("档号", "档案号", "档案编号"),
    "application_date": ("申请日期", "申请时间", "受理日期"),
    "seal_date": ("封停日期", "加封日期", "封停时间", "加封时间"),
    "unseal_date": ("启封日期", "启封时间"),
    "connection_date": ("装表日期", "接电日期", "送电日期"),
    "meter_removal_date": ("拆表日期",),
    "signing_date": ("签订日期", "签约日期"),
    "applied_capacity": ("申请容量", "报装容量", "申请运行容量"),
    "running_capacity": ("运行容量", "减容后运行容量"),
    "transformer_capacity": ("变压器容量",),
    "contract_capacity": ("合同容量", "用电容量"),
}
_DATE_FIELDS = ("application_date", "seal_date", "unseal_date", "connection_date", "meter_removal_date", "signing_date")
_CAPACITY_FIELDS = ("applied_capacity", "running_capacity", "transformer_capacity", "contract_capacity")
# A two-character label with one garbled character is too weak on its own; allow it only where
# the value has a strict shape that confirms it.
_STRICT_FIELDS = (
    {"account_number", "work_order", "id_number", "uscc", "phone", "archive_number"}
    | set(_DATE_FIELDS)
    | set(_CAPACITY_FIELDS)
)

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_COLONS = ":;"  # NFKC maps '：' to ':'; OCR sometimes reads a colon as ';'

_CONF_EXACT, _CONF_FUZZY, _CONF_PATTERN = 0.95, 0.8, 0.6
_CONF_PER_REPAIR = 0.08
_CONF_INVALID_CAP = 0.3

# OCR letters that stand for digits in numeric identifiers.
_DIGIT_LOOKALIKES = {
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


# --- text preparation -----------------------------------------------------------------------


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").replace("\r", "")


def _squeeze(line: str) -> tuple[str, list[int]]:
    """The line without whitespace, plus the original index of each kept character."""
    kept = [(i, ch) for i, ch in enumerate(line) if not ch.isspace()]
    return "".join(ch for _, ch in kept), [i for i, _ in kept]


def _join_cjk(s: str) -> str:
    """Remove spaces OCR put between CJK characters, or between CJK characters and digits."""
    return re.sub(f"(?<=[{_CJK}0-9])\\s+(?=[{_CJK}])|(?<=[{_CJK}])\\s+(?=[0-9])", "", s)


# --- finding labels -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    start: int  # in the squeezed line
    end: int
    name: str | None  # None: an unknown label (e.g. 性别：) that only ends the previous value
    label: str
    exact: bool
    colon: bool


def _all_labels() -> list[tuple[str, str]]:
    pairs = [(name, label) for name, labels in LABELS.items() for label in labels]
    return sorted(pairs, key=lambda p: -len(p[1]))


_LABEL_PAIRS = _all_labels()
_KNOWN_LABELS = {label for _, label in _LABEL_PAIRS}


def _has_colon(sq: str, end: int) -> bool:
    return end < len(sq) and sq[end] in _COLONS


# Signature lines put a qualifier between label and colon: 申请人（签章）：, 产权人(签字):
_QUALIFIER_RE = re.compile(r"[(（〈<《]{1,2}[^()（）〈〉<>《》:;]{1,4}[)）〉>》]{1,2}(?=[:;])")


def _past_qualifier(sq: str, end: int) -> int:
    m = _QUALIFIER_RE.match(sq, end)
    return m.end() if m else end


def _cell_gaps(line: str, index: list[int]) -> set[int]:
    """Squeezed positions that follow a gap in LINE, when the line's gaps are meaningful:
    our OCR text keeps a space only at a form's cell boundary (户名 | 王建国), where a
    colon would be; text with a space between every character (raw Tesseract) has none."""
    gaps = {i for i in range(1, len(index)) if index[i] - index[i - 1] > 1}
    cjk_pairs = sum(
        1 for i in range(1, len(index)) if _CJK_RE.match(line[index[i]]) and _CJK_RE.match(line[index[i - 1]])
    )
    spaced = sum(1 for i in gaps if _CJK_RE.match(line[index[i]]) and _CJK_RE.match(line[index[i - 1]]))
    return set() if cjk_pairs and spaced > 0.3 * cjk_pairs else gaps


def _exact_hits(sq: str, gaps: frozenset[int] = frozenset()) -> list[_Hit]:
    taken = [False] * len(sq)
    hits: list[_Hit] = []
    for name, label in _LABEL_PAIRS:  # longest first: 客户名称 before 户名
        for m in re.finditer(re.escape(label), sq):
            if any(taken[m.start() : m.end()]):
                continue
            end = _past_qualifier(sq, m.end())
            for k in range(m.start(), end):
                taken[k] = True
            starts_cell = m.start() == 0 or m.start() in gaps
            hits.append(_Hit(m.start(), end, name, label, True, _has_colon(sq, end) or (starts_cell and end in gaps)))
    return hits


def _hamming_one(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def _fuzzy_hits_at_colon(sq: str, colon: int) -> list[_Hit]:
    """Labels with one garbled character that end right before ``colon``; all candidates."""
    found = []
    for name, label in _LABEL_PAIRS:
        start = colon - len(label)
        if start < 0:
            continue
        seg = sq[start:colon]
        if not all(_CJK_RE.match(c) for c in seg) or seg in _KNOWN_LABELS:
            continue
        if len(label) == 2 and name not in _STRICT_FIELDS:
            continue
        if _hamming_one(seg, label):
            found.append(_Hit(start, colon, name, label, False, True))
    return found


def _unknown_label_at_colon(sq: str, colon: int) -> _Hit | None:
    """An unknown ``xx：`` label (性别：, 民族：) still ends the value before it."""
    start = colon
    while start > 0 and _CJK_RE.match(sq[start - 1]) and colon - start < 2:
        start -= 1
    return _Hit(start, colon, None, sq[start:colon], False, True) if start < colon else None


def _line_hits(sq: str, gaps: frozenset[int] = frozenset()) -> list[list[_Hit]]:
    """Label candidates on one squeezed line, grouped by position (several fuzzy readings may
    compete for one spot), in reading order."""
    exact = _exact_hits(sq, gaps)
    groups: list[list[_Hit]] = [[h] for h in exact]
    ends = {h.end for h in exact}
    covered = {k for h in exact for k in range(h.start, h.end)}
    for colon, ch in enumerate(sq):
        if ch not in _COLONS or colon in ends or (colon - 1) in covered:
            continue
        fuzzy = _fuzzy_hits_at_colon(sq, colon)
        if fuzzy:
            groups.append(fuzzy)
        else:
            unknown = _unknown_label_at_colon(sq, colon)
            if unknown:
                groups.append([unknown])
    return sorted(groups, key=lambda g: g[0].start)


# --- value parsers ----------------------------------------------------------------------------


@dataclass
class _Parsed:
    value: str
    valid: bool
    reason: str = ""
    repairs: int = 0  # OCR look-alike characters replaced
    alternatives: tuple[str, ...] = ()
    raw: str = ""


_RUN_RE = re.compile(r"[0-9A-Za-z|×](?:[ \t]?[0-9A-Za-z|×])*")


def _leading_run(region: str) -> str | None:
    """The identifier-like run at the start of a value region (letters, digits, single spaces)."""
    region = region.lstrip(" \t" + _COLONS)
    m = _RUN_RE.match(region)
    return m.group(0) if m else None


def _digits_from_run(run: str, length: int, allow_x_last: bool = False) -> tuple[str, int, str]:
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
        elif ch in _DIGIT_LOOKALIKES:
            out.append(_DIGIT_LOOKALIKES[ch])
            repairs += 1
        else:
            out.append(ch)
    return "".join(out), repairs, " ".join(raw_used)


def _repair_note(repairs: int) -> str:
    return f"{repairs} OCR look-alike character(s) read as digits" if repairs else ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _parse_account(region: str) -> _Parsed | None:
    run = _leading_run(region)
    if not run:
        return None
    value, repairs, raw = _digits_from_run(run, 10)
    if sum(c.isdigit() for c in value) < 6:
        return None
    try:
        return _Parsed(validate_account_number(value), True, _repair_note(repairs), repairs, raw=raw)
    except InvalidIdentifier as exc:
        return _Parsed(value, False, _join(exc.reason, _repair_note(repairs)), repairs, raw=raw)


def _parse_work_order(region: str) -> _Parsed | None:
    run = _leading_run(region)
    if not run:
        return None
    value, repairs, raw = _digits_from_run(run, 16)
    if sum(c.isdigit() for c in value) < 10:
        return None
    try:
        return _Parsed(validate_work_order(value), True, _repair_note(repairs), repairs, raw=raw)
    except InvalidIdentifier as exc:
        return _Parsed(value, False, _join(exc.reason, _repair_note(repairs)), repairs, raw=raw)


def _ric_structure_ok(code: str) -> bool:
    """Everything but the check character: shape and birth date."""
    try:
        validate_ric(code[:17] + "0")
        return True
    except InvalidIdentifier as exc:
        return "check character" in exc.reason


def _plausible_repairs(code: str, structure_ok: Callable[[str], bool]) -> list[str]:
    """Single-character repairs that pass the structure and swap digits OCR really confuses."""
    out = []
    for cand in repair_candidates_mod11_2(code):
        i = next(k for k, (a, b) in enumerate(zip(code, cand)) if a != b)
        if frozenset((code[i], cand[i])) in _DIGIT_CONFUSIONS and structure_ok(cand):
            out.append(cand)
    return out


def _parse_ric(region: str) -> _Parsed | None:
    run = _leading_run(region)
    if not run:
        return None
    value, repairs, raw = _digits_from_run(run, 18, allow_x_last=True)
    return _check_ric(value, repairs, raw)


def _check_ric(value: str, repairs: int, raw: str) -> _Parsed | None:
    if sum(c.isdigit() for c in value) < 14:
        return None
    try:
        return _Parsed(validate_ric(value), True, _repair_note(repairs), repairs, raw=raw)
    except InvalidIdentifier as exc:
        alternatives: tuple[str, ...] = ()
        reason = exc.reason
        if "check character" in exc.reason:
            repairs_found = _plausible_repairs(value, _ric_structure_ok)
            if len(repairs_found) == 1:
                alternatives = tuple(repairs_found)
                reason += f"; one likely OCR slip would give {repairs_found[0]} (please compare with the paper)"
        return _Parsed(value, False, _join(reason, _repair_note(repairs)), repairs, alternatives, raw)


_USCC_LOOKALIKES = {"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"}


def _parse_uscc(region: str) -> _Parsed | None:
    run = _leading_run(region)
    if not run:
        return None
    taken, raw = _digits_prefix_any(run, 18)
    return _check_uscc(taken, raw)


def _digits_prefix_any(run: str, length: int) -> tuple[str, str]:
    taken, used = "", []
    for g in run.split():
        taken += g
        used.append(g)
        if len(taken) >= length:
            break
    return taken.upper(), " ".join(used)


def _check_uscc(taken: str, raw: str) -> _Parsed | None:
    if len(taken) < 15:
        return None
    fixed = "".join(_USCC_LOOKALIKES.get(c, c) for c in taken)
    repairs = sum(a != b for a, b in zip(taken, fixed))
    note = f"{repairs} letter(s) not used in credit codes read as look-alikes" if repairs else ""
    try:
        return _Parsed(validate_uscc(fixed), True, note, repairs, raw=raw)
    except InvalidIdentifier as exc:
        return _Parsed(fixed, False, _join(exc.reason, note), repairs, raw=raw)


_MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?(\d{7,8})(?!\d)")


def _parse_phone(region: str) -> _Parsed | None:
    text = region.lstrip(" \t" + _COLONS)
    digits_run = re.match(r"[0-9OolI][0-9OolI\- ]{6,19}", text)
    if not digits_run:
        return None
    raw = digits_run.group(0).strip()
    cleaned = "".join(_DIGIT_LOOKALIKES.get(c, c) for c in raw)
    repairs = sum(a != b for a, b in zip(raw, cleaned))
    compact = re.sub(r"\s", "", cleaned)
    if m := _MOBILE_RE.fullmatch(compact):
        return _Parsed(m.group(1), True, _repair_note(repairs), repairs, raw=raw)
    if m := _LANDLINE_RE.fullmatch(compact):
        return _Parsed(f"{m.group(1)}-{m.group(2)}", True, _repair_note(repairs), repairs, raw=raw)
    return _Parsed(compact, False, "not an 11-digit mobile number or a 0xx-xxxxxxx landline", repairs, raw=raw)


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


def _find_dates(text: str) -> list[tuple[int, int, str, int, int, int]]:
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


def _date_proposal(raw: str, year: int, month: int, day: int) -> _Parsed:
    try:
        date = _dt.date(year, month, day)
    except ValueError:
        return _Parsed(f"{year:04d}-{month:02d}-{day:02d}", False, "not a real calendar date", raw=raw)
    if not 1900 <= year <= _dt.date.today().year + 30:
        return _Parsed(date.isoformat(), False, f"year {year} is not plausible", raw=raw)
    return _Parsed(date.isoformat(), True, raw=raw)


def _parse_date(region: str) -> _Parsed | None:
    text = region.lstrip(" \t" + _COLONS)
    dates = _find_dates(text)
    if not dates or dates[0][0] > 2:
        return None
    _, _, raw, y, m, d = dates[0]
    return _date_proposal(raw, y, m, d)


_CAPACITY_RE = re.compile(
    r"(?<![\d.])(\d+(?:[.,]\d+)?)\s*(k\s*V\s*A|K\s*V\s*A|kva|千伏安|k\s*W|K\s*W|kw|千瓦)?", re.IGNORECASE
)


def _unit(raw_unit: str) -> str:
    u = re.sub(r"\s", "", raw_unit).lower()
    return "kVA" if u in ("kva", "千伏安") else "kW"


def _parse_capacity(region: str) -> _Parsed | None:
    text = region.lstrip(" \t" + _COLONS)
    m = _CAPACITY_RE.match(text)
    if not m:
        return None
    amount = m.group(1).replace(",", ".")
    if not m.group(2):
        return _Parsed(amount, False, "no unit (kVA or kW) after the number", raw=m.group(0))
    return _Parsed(f"{float(amount):g} {_unit(m.group(2))}", True, raw=m.group(0).strip())


def parse_capacity_value(value: str) -> tuple[float, str]:
    """``"315 kVA"`` → ``(315.0, "kVA")``: the form capacity proposals use."""
    amount, unit = value.split()
    return float(amount), unit


_NAME_STRIP = " \t,，.。;；:：、()（）[]【】<>《》\"'“”‘’_-—|/"
_ADDRESS_MARKERS = set("省市区县镇乡村路街道号巷弄栋幢室楼组")


def _free_text(region: str) -> str:
    text = re.split(r"\s{2,}", region.strip(" \t" + _COLONS))[0]  # a wide gap ends the value
    return _join_cjk(text).strip(_NAME_STRIP)


def _parse_name(region: str) -> _Parsed | None:
    text = _free_text(region)
    if not text:
        return None
    if not (_CJK_RE.search(text) or re.search(r"[A-Za-z]{2}", text)):
        return _Parsed(text, False, "contains no name characters", raw=region.strip(" \t" + _COLONS))
    if len(text) > 40:
        return _Parsed(
            text,
            False,
            "longer than 40 characters: the value probably ran into other text",
            raw=region.strip(" \t" + _COLONS),
        )
    if re.search(r"\d{3,}", text):
        return _Parsed(text, False, "contains a number: probably not a name", raw=region.strip(" \t" + _COLONS))
    return _Parsed(text, True, raw=region.strip(" \t" + _COLONS))


def _parse_address(region: str) -> _Parsed | None:
    text = _join_cjk(region.strip(" \t" + _COLONS)).strip(_NAME_STRIP)
    if not text:
        return None
    if not _ADDRESS_MARKERS & set(text):
        return _Parsed(
            text,
            False,
            "has none of 省/市/区/县/路/街/号/室…: check it is an address",
            raw=region.strip(" \t" + _COLONS),
        )
    if len(text) > 80:
        return _Parsed(text, False, "longer than 80 characters", raw=region.strip(" \t" + _COLONS))
    return _Parsed(text, True, raw=region.strip(" \t" + _COLONS))


_ARCHIVE_RE = re.compile(
    r"(?<![A-Z0-9])([A-Z0-9]{2,8})\s*[-—]\s*(KH)\s*[·.\-•・]?\s*(\d{4})\s*[-—]?\s*([0-9OIl]{6}\s*[0-9X])(?![0-9])"
)


def _check_archive(raw: str, fonds: str, cat: str, year: str, serial_check: str) -> _Parsed:
    sc = "".join(_DIGIT_LOOKALIKES.get(c, c) for c in re.sub(r"\s", "", serial_check))
    candidate = f"{fonds}-{cat}·{year}-{sc}"
    try:
        return _Parsed(str(ArchiveNumber.parse(candidate)), True, raw=raw)
    except InvalidArchiveNumber as exc:
        digits = year + sc
        alternatives: tuple[str, ...] = ()
        reason = str(exc)
        same_year = [c for c in _plausible_repairs(digits, lambda c: c[:4] == year)]
        if len(same_year) == 1:
            fixed = same_year[0]
            alternatives = (f"{fonds}-{cat}·{fixed[:4]}-{fixed[4:]}",)
            reason += f"; one likely OCR slip would give {alternatives[0]}"
        return _Parsed(candidate, False, reason, alternatives=alternatives, raw=raw)


def _parse_archive(region: str) -> _Parsed | None:
    text = region.lstrip(" \t" + _COLONS).upper()
    m = _ARCHIVE_RE.match(text)
    if not m:
        return None
    return _check_archive(m.group(0), *m.groups())


_PARSERS: dict[str, Callable[[str], _Parsed | None]] = {
    "account_number": _parse_account,
    "work_order": _parse_work_order,
    "id_number": _parse_ric,
    "uscc": _parse_uscc,
    "customer_name": _parse_name,
    "agent_name": _parse_name,
    "address": _parse_address,
    "phone": _parse_phone,
    "archive_number": _parse_archive,
    **{name: _parse_date for name in _DATE_FIELDS},
    **{name: _parse_capacity for name in _CAPACITY_FIELDS},
}


# --- putting it together ----------------------------------------------------------------------


def _confidence(exact_label: bool | None, parsed: _Parsed) -> float:
    base = _CONF_PATTERN if exact_label is None else (_CONF_EXACT if exact_label else _CONF_FUZZY)
    conf = base - _CONF_PER_REPAIR * min(parsed.repairs, 4)
    if not parsed.valid:
        conf = min(conf, _CONF_INVALID_CAP)
    return round(max(conf, 0.05), 2)


def _proposal(name: str, parsed: _Parsed, label: str, exact_label: bool | None) -> FieldProposal:
    reason = parsed.reason
    if exact_label is False:
        reason = _join(f"label read as a garbled {label}", reason)
    return FieldProposal(
        name,
        parsed.value,
        _confidence(exact_label, parsed),
        parsed.valid,
        reason,
        parsed.raw,
        parsed.alternatives,
        label,
    )


def _better(new: FieldProposal, old: FieldProposal | None) -> bool:
    """Keep the first proposal unless a later one is valid where it was not, or clearly surer."""
    if old is None:
        return True
    if new.valid != old.valid:
        return new.valid
    return new.confidence > old.confidence + 0.1


def _labelled_proposals(line: str) -> Iterable[FieldProposal]:
    sq, index = _squeeze(line)
    groups = _line_hits(sq, frozenset(_cell_gaps(line, index)))
    for gi, group in enumerate(groups):
        nxt = groups[gi + 1][0].start if gi + 1 < len(groups) else len(sq)
        for hit in group:
            if hit.name is None:
                continue
            # A bare label word inside a sentence is not a label: free text needs a colon.
            if not hit.colon and hit.name not in _STRICT_FIELDS:
                continue
            lo = index[hit.end] if hit.end < len(sq) else len(line)
            hi = index[nxt] if nxt < len(sq) else len(line)
            parsed = _PARSERS[hit.name](line[lo:hi])
            if parsed is None:
                continue
            yield _proposal(hit.name, parsed, hit.label, hit.exact)
            break  # the first fuzzy reading whose value fits wins this position


_UNLABELLED_RIC_RE = re.compile(r"(?<![0-9A-Za-z])([1-9OlI](?:\s?[0-9OolI]){16}\s?[0-9xX])(?![0-9A-Za-z])")
_UNLABELLED_USCC_RE = re.compile(r"(?<![0-9A-Z])([1-9AY][0-9A-Z]{17})(?![0-9A-Z])")


def _pattern_proposals(text: str) -> Iterable[FieldProposal]:
    """Values recognisable without a label (ID cards often print the number alone)."""
    for m in _UNLABELLED_RIC_RE.finditer(text):
        value, repairs, raw = _digits_from_run(m.group(1), 18, allow_x_last=True)
        parsed = _check_ric(value, repairs, raw)
        if parsed and (parsed.valid or _ric_structure_ok(parsed.value)):
            yield _proposal("id_number", parsed, "", None)
    for m in _UNLABELLED_USCC_RE.finditer(text.upper()):
        if m.group(1).isdigit():
            continue  # all digits: an ID or a long number, not a credit code
        parsed = _check_uscc(m.group(1), m.group(1))
        if parsed and parsed.valid:
            yield _proposal("uscc", parsed, "", None)
    for m in _ARCHIVE_RE.finditer(text.upper()):
        yield _proposal("archive_number", _check_archive(m.group(0), *m.groups()), "", None)
    for m in _MOBILE_RE.finditer(re.sub(r"(?<=\d) (?=\d)", "", text)):
        yield _proposal("phone", _Parsed(m.group(1), True, raw=m.group(1)), "", None)


def _generic_proposals(text: str, found: dict[str, FieldProposal]) -> dict[str, FieldProposal]:
    """``date`` = first date on the page; ``capacity`` = first labelled capacity."""
    extra: dict[str, FieldProposal] = {}
    dates = _find_dates(text)
    if dates:
        _, _, raw, y, m, d = dates[0]
        labelled = [p for k, p in found.items() if k in _DATE_FIELDS and p.raw == raw]
        extra["date"] = (
            replace(labelled[0], name="date") if labelled else _proposal("date", _date_proposal(raw, y, m, d), "", None)
        )
    capacities = [found[k] for k in _CAPACITY_FIELDS if k in found]
    if capacities:
        first = min(capacities, key=lambda p: text.find(p.raw) if p.raw in text else len(text))
        extra["capacity"] = replace(first, name="capacity")
    return extra


def extract_fields(text: str) -> dict[str, FieldProposal]:
    """Field proposals found in OCR text, keyed by field name.

    Keys (present only when found): account_number, work_order, id_number, uscc, customer_name,
    agent_name, address, phone, archive_number, date (first date on the page), application_date,
    seal_date, unseal_date, connection_date, meter_removal_date, signing_date, capacity (first
    labelled capacity), applied_capacity, running_capacity, transformer_capacity, contract_capacity.
    """
    text = _normalise(text)
    found: dict[str, FieldProposal] = {}
    for line in text.split("\n"):
        for p in _labelled_proposals(line):
            if _better(p, found.get(p.name)):
                found[p.name] = p
    for p in _pattern_proposals(text):
        if p.name not in found:
            found[p.name] = p
    found.update(_generic_proposals(text, found))
    return found


def extract_fields_step(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: add field proposals to ``page.fields``; warn when an identifier fails its check."""
    proposals = extract_fields(page.text)
    page = replace(page, fields={**page.fields, **proposals})
    invalid = [p for p in proposals.values() if not p.valid and p.name not in ("date", "capacity")]
    if invalid:
        detail = "; ".join(f"{p.name} {p.value!r}: {p.reason}" for p in invalid)
        page = page.with_flag("field_invalid", "warn", f"Check these fields against the paper: {detail}")
    return page
