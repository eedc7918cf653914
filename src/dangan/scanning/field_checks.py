"""Checks on the fields OCR proposes, beyond their own rules: is the engine sure of every
character of a key field, and do the pages of one folder agree?

Either doubt sends the page to the QA queue (a 'fail' flag) with both candidates, so a person
decides between two readings instead of retyping one: a customer record built on a misread
name (长沙鑫源 read 长沙僵源) is found by nobody who searches for the real one.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from dangan.i18n import N_
from dangan.scanning.fields import FieldProposal
from dangan.scanning.page import PageState, PipelineOptions, QualityFlag, Word

# Fields a record is found and linked by: a wrong character in one of them loses the page.
KEY_FIELDS = ("account_number", "customer_name", "id_number", "work_order", "uscc")
FIELD_NAMES = {
    "account_number": "户号",
    "customer_name": "户名",
    "id_number": "身份证号",
    "work_order": "工单编号",
    "uscc": "统一社会信用代码",
}
# Labels that name the account holder (姓名 on an ID card or 申请人 may be an agent's).
HOLDER_LABELS = frozenset({"户名", "客户名称", "用户名称", "用电人"})
# Businesses that change the holder's name: two names in one folder are expected.
NAME_CHANGES = frozenset({"GH", "GM"})


def _compact(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _characters(words: Sequence[Word]) -> list[tuple[int, str, float, str]]:
    """(line, character, confidence, runner-up) for every character of the words, in order."""
    out = []
    for w in words:
        chars = _compact(w.text)
        for ch in chars:
            out.append((w.line, ch, w.conf, w.alt if len(chars) == 1 else ""))
    return out


def weakest_character(value: str, words: Sequence[Word]) -> tuple[float, int, str] | None:
    """Where VALUE was read: the lowest character confidence in it (0-100), that character's
    index in VALUE, and the engine's second choice for it ('' when it had none). None when
    VALUE is not found in the words (it was repaired, or spans what the words split)."""
    target = _compact(value)
    chars = _characters(words)
    if not target or not chars:
        return None
    text = "".join(c for _line, c, _conf, _alt in chars)
    at = text.find(target)
    if at < 0:
        return None
    span = chars[at : at + len(target)]
    i = min(range(len(span)), key=lambda k: span[k][2])
    return span[i][2], i, span[i][3]


def check_field_confidence(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step (after the fields): a key field with a character the engine was unsure of
    gets the engine's other reading as an alternative and sends the page to the QA queue."""
    fields = dict(page.fields)
    flags = []
    for name in KEY_FIELDS:
        proposal = fields.get(name)
        if not isinstance(proposal, FieldProposal) or not proposal.valid:
            continue  # an invalid identifier is flagged by its own check
        found = weakest_character(proposal.value, page.words)
        if found is None or found[0] >= options.field_min_confidence:
            continue
        conf, index, alt = found
        other = proposal.value[:index] + alt + proposal.value[index + 1 :] if alt else ""
        fields[name] = replace(
            proposal,
            confidence=min(proposal.confidence, round(conf / 100, 2)),
            alternatives=proposal.alternatives + ((other,) if other else ()),
        )
        candidates = f"{proposal.value} / {other}" if other else proposal.value
        flags.append(
            QualityFlag.of(
                "field_uncertain",
                "fail",
                N_("{field} read as {candidates}, character {position} unsure ({conf:.0f}%): check it on the paper."),
                field=FIELD_NAMES[name],
                candidates=candidates,
                position=index + 1,
                conf=float(conf),
            )
        )
    kept = tuple(f for f in page.flags if f.code != "field_uncertain")
    return replace(page, fields=fields, flags=kept + tuple(flags))


# --------------------------------------------------------------------------- one folder


def _value(proposal: Any) -> tuple[str, str, bool]:
    """(value, label, valid) of a proposal as the pipeline made it or as the database keeps it."""
    if isinstance(proposal, FieldProposal):
        return proposal.value, proposal.label, proposal.valid
    if isinstance(proposal, Mapping):
        return str(proposal.get("value") or ""), str(proposal.get("label") or ""), bool(proposal.get("valid", True))
    return "", "", False


def folder_disagreements(
    pages: Sequence[tuple[int, Mapping[str, Any]]], business_type: str = ""
) -> dict[int, list[QualityFlag]]:
    """Pages of one customer folder whose 户号 or account holder's name differs from another
    page's, each with a 'fail' flag naming both candidates and where the other one was read.

    PAGES: (page number, fields) for each page of the folder, fields as the pipeline or the
    database holds them. Where most pages agree, only the odd ones out are flagged; on a tie,
    every page with a value. A 过户 or 更名 folder holds two names by nature: its names are
    not compared."""
    flags: dict[int, list[QualityFlag]] = {}
    for name in ("account_number", "customer_name"):
        if name == "customer_name" and business_type in NAME_CHANGES:
            continue
        read: dict[int, str] = {}
        for page_no, fields in pages:
            value, label, valid = _value((fields or {}).get(name))
            if value and valid and (name != "customer_name" or label in HOLDER_LABELS):
                read[page_no] = value
        counts = Counter(read.values())
        if len(counts) < 2:
            continue
        (top, n_top), (_second, n_second) = counts.most_common(2)
        majority = top if n_top > n_second else None
        for page_no, value in read.items():
            if value == majority:
                continue
            others = sorted({v for v in read.values() if v != value})
            where = sorted(p for p, v in read.items() if v != value)
            flags.setdefault(page_no, []).append(
                QualityFlag.of(
                    "field_disagrees",
                    "fail",
                    N_("{field} reads {value} here but {others} on page {pages} of this folder: check which is right."),
                    field=FIELD_NAMES[name],
                    value=value,
                    others=" / ".join(others),
                    pages=", ".join(str(p) for p in where),
                )
            )
    return flags
