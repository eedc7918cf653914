"""Field proposals from OCR text: 户号, 工单编号, 身份证号, 信用代码, names, addresses, dates, capacities…

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

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from dangan.i18n import N_
from dangan.scanning.field_values import (
    ARCHIVE_RE,
    CAPACITY_FIELDS,
    CJK,
    CJK_RE,
    COLONS,
    DATE_FIELDS,
    DEFAULT_WORK_ORDER,
    MOBILE_RE,
    Parsed,
    check_archive,
    check_ric,
    check_uscc,
    date_proposal,
    digits_from_run,
    find_dates,
    join_notes,
    parser,
    ric_structure_ok,
)
from dangan.scanning.page import PageState, PipelineOptions

__all__ = ["LABELS", "FieldProposal", "extract_fields", "extract_fields_step"]


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
    "customer_name": ("户名", "新户名", "客户名称", "用户名称", "用电人", "申请人", "姓名", "委托人", "产权人"),
    "previous_name": ("原户名",),  # 过户/更名: the holder before; longer than 户名, so it wins
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
# A two-character label with one garbled character is too weak on its own; allow it only where
# the value has a strict shape that confirms it.
_STRICT_FIELDS = (
    {"account_number", "work_order", "id_number", "uscc", "phone", "archive_number"}
    | set(DATE_FIELDS)
    | set(CAPACITY_FIELDS)
)


_CONF_EXACT, _CONF_FUZZY, _CONF_PATTERN = 0.95, 0.8, 0.6
_CONF_PER_REPAIR = 0.08
_CONF_INVALID_CAP = 0.3

# --- text preparation -----------------------------------------------------------------------


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").replace("\r", "")


def _squeeze(line: str) -> tuple[str, list[int]]:
    """The line without whitespace, plus the original index of each kept character."""
    kept = [(i, ch) for i, ch in enumerate(line) if not ch.isspace()]
    return "".join(ch for _, ch in kept), [i for i, _ in kept]


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
    return end < len(sq) and sq[end] in COLONS


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
        1 for i in range(1, len(index)) if CJK_RE.match(line[index[i]]) and CJK_RE.match(line[index[i - 1]])
    )
    spaced = sum(1 for i in gaps if CJK_RE.match(line[index[i]]) and CJK_RE.match(line[index[i - 1]]))
    return set() if cjk_pairs and spaced > 0.6 * cjk_pairs else gaps


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
        if not all(CJK_RE.match(c) for c in seg) or seg in _KNOWN_LABELS:
            continue
        if len(label) == 2 and name not in _STRICT_FIELDS:
            continue
        if _hamming_one(seg, label):
            found.append(_Hit(start, colon, name, label, False, True))
    return found


def _unknown_label_at_colon(sq: str, colon: int) -> _Hit | None:
    """An unknown ``xx：`` label (性别：, 民族：) still ends the value before it."""
    start = colon
    while start > 0 and CJK_RE.match(sq[start - 1]) and colon - start < 2:
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
        if ch not in COLONS or colon in ends or (colon - 1) in covered:
            continue
        fuzzy = _fuzzy_hits_at_colon(sq, colon)
        if fuzzy:
            groups.append(fuzzy)
        else:
            unknown = _unknown_label_at_colon(sq, colon)
            if unknown:
                groups.append([unknown])
    return sorted(groups, key=lambda g: g[0].start)


# --- putting it together ----------------------------------------------------------------------


def _confidence(exact_label: bool | None, parsed: Parsed) -> float:
    base = _CONF_PATTERN if exact_label is None else (_CONF_EXACT if exact_label else _CONF_FUZZY)
    conf = base - _CONF_PER_REPAIR * min(parsed.repairs, 4)
    if not parsed.valid:
        conf = min(conf, _CONF_INVALID_CAP)
    return round(max(conf, 0.05), 2)


def _proposal(name: str, parsed: Parsed, label: str, exact_label: bool | None) -> FieldProposal:
    reason = parsed.reason
    if exact_label is False:
        reason = join_notes(f"label read as a garbled {label}", reason)
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


def _labelled_proposals(line: str, work_order_pattern: str) -> Iterable[FieldProposal]:
    sq, index = _squeeze(line)
    groups = _line_hits(sq, frozenset(_cell_gaps(line, index)))
    for gi, group in enumerate(groups):
        nxt = groups[gi + 1][0].start if gi + 1 < len(groups) else len(sq)
        for hit in group:
            if hit.name is None:
                continue
            # A bare label word inside a sentence is not a label: free text needs a colon, except a
            # name label followed by a name-shaped value and nothing else (an ID card's 姓名张伟,
            # a certificate's 户名姚凯波（户号…）).
            bare = not hit.colon and hit.name not in _STRICT_FIELDS
            if bare and not (hit.name in _NAME_FIELDS and hit.exact):
                continue
            lo = index[hit.end] if hit.end < len(sq) else len(line)
            hi = index[nxt] if nxt < len(sq) else len(line)
            parsed = parser(hit.name, work_order_pattern)(line[lo:hi])
            if parsed is None or (bare and not (parsed.valid and _name_shaped(parsed.value, hit.start == 0))):
                continue
            yield _proposal(hit.name, parsed, hit.label, hit.exact)
            break  # the first fuzzy reading whose value fits wins this position


_NAME_FIELDS = ("customer_name", "agent_name", "previous_name")
# fmt: off
_ORG_ENDINGS = ("公司", "厂", "店", "中心", "局", "院", "所", "社", "部", "站", "馆", "场", "行", "会",
                "委员会", "集团")
# fmt: on
_PERSON_RE = re.compile(f"[{CJK}]{{2,4}}")


def _name_shaped(value: str, line_start: bool) -> bool:
    """A person's name (two to four characters), or at the start of a line an organisation's
    (ends like one): inside a sentence 变更为杭州润泽食品有限公司 ends like one too."""
    return bool(_PERSON_RE.fullmatch(value)) or (line_start and len(value) >= 4 and value.endswith(_ORG_ENDINGS))


_UNLABELLED_RIC_RE = re.compile(r"(?<![0-9A-Za-z])([1-9OlI](?:\s?[0-9OolI]){16}\s?[0-9xX])(?![0-9A-Za-z])")
_UNLABELLED_USCC_RE = re.compile(r"(?<![0-9A-Z])([1-9AY][0-9A-Z]{17})(?![0-9A-Z])")


def _pattern_proposals(text: str) -> Iterable[FieldProposal]:
    """Values recognisable without a label (ID cards often print the number alone)."""
    for m in _UNLABELLED_RIC_RE.finditer(text):
        value, repairs, raw = digits_from_run(m.group(1), 18, allow_x_last=True)
        parsed = check_ric(value, repairs, raw)
        if parsed and (parsed.valid or ric_structure_ok(parsed.value)):
            yield _proposal("id_number", parsed, "", None)
    for m in _UNLABELLED_USCC_RE.finditer(text.upper()):
        if m.group(1).isdigit():
            continue  # all digits: an ID or a long number, not a credit code
        parsed = check_uscc(m.group(1), m.group(1))
        if parsed and parsed.valid:
            yield _proposal("uscc", parsed, "", None)
    for m in ARCHIVE_RE.finditer(text.upper()):
        yield _proposal("archive_number", check_archive(m.group(0), *m.groups()), "", None)
    for m in MOBILE_RE.finditer(re.sub(r"(?<=\d) (?=\d)", "", text)):
        yield _proposal("phone", Parsed(m.group(1), True, raw=m.group(1)), "", None)


def _generic_proposals(text: str, found: dict[str, FieldProposal]) -> dict[str, FieldProposal]:
    """``date`` = first date on the page; ``capacity`` = first labelled capacity."""
    extra: dict[str, FieldProposal] = {}
    dates = find_dates(text)
    if dates:
        _, _, raw, y, m, d = dates[0]
        labelled = [p for k, p in found.items() if k in DATE_FIELDS and p.raw == raw]
        extra["date"] = (
            replace(labelled[0], name="date") if labelled else _proposal("date", date_proposal(raw, y, m, d), "", None)
        )
    capacities = [found[k] for k in CAPACITY_FIELDS if k in found]
    if capacities:
        first = min(capacities, key=lambda p: text.find(p.raw) if p.raw in text else len(text))
        extra["capacity"] = replace(first, name="capacity")
    return extra


def extract_fields(text: str, work_order_pattern: str = DEFAULT_WORK_ORDER) -> dict[str, FieldProposal]:
    """Field proposals found in OCR text, keyed by field name.

    Keys (present only when found): account_number, work_order, id_number, uscc, customer_name,
    agent_name, address, phone, archive_number, date (first date on the page), application_date,
    seal_date, unseal_date, connection_date, meter_removal_date, signing_date, capacity (first
    labelled capacity), applied_capacity, running_capacity, transformer_capacity, contract_capacity.
    """
    text = _normalise(text)
    found: dict[str, FieldProposal] = {}
    for line in text.split("\n"):
        for p in _labelled_proposals(line, work_order_pattern):
            if _better(p, found.get(p.name)):
                found[p.name] = p
    for p in _pattern_proposals(text):
        if p.name not in found:
            found[p.name] = p
    found.update(_generic_proposals(text, found))
    return found


def extract_fields_step(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: add field proposals to ``page.fields``; warn when an identifier fails its check."""
    proposals = extract_fields(page.text, options.work_order_pattern)
    page = replace(page, fields={**page.fields, **proposals})
    invalid = [p for p in proposals.values() if not p.valid and p.name not in ("date", "capacity")]
    if invalid:
        detail = "; ".join(
            f"{p.label} ({p.name}) {p.value!r}: {p.reason}" if p.label else f"{p.name} {p.value!r}: {p.reason}"
            for p in invalid
        )
        page = page.with_flag(
            "field_invalid", "warn", N_("Check these fields against the paper: {detail}"), detail=detail
        )
    return page
