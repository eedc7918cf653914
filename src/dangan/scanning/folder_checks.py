"""Checks over one customer folder's pages together: what no single page can see.

A folder is one customer's file for one case. A page that carries another 户号 or another work
order than the rest is probably another customer's paper (or another case's) filed in the
wrong folder: it is flagged, with the split proposed (a cover sheet or a manifest row). Two
pages naming the holder (户名) differently are flagged for a person to compare (not in a 过户
or 更名 folder, which holds the old name and the new one by nature).

Pure functions over the folder's staged page summaries (records.staging.StagedSummary): they
run before the folder is accessioned, and their flags reach the QA queue with the page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

from dangan.i18n import N_, kept, kept_plural, render
from dangan.scanning.covers import cover_of
from dangan.scanning.split import split_documents

# Labels that name the account holder (户名) itself, not an applicant, agent or owner.
HOLDER_LABELS = ("户名", "客户名称", "用户名称")
NAME_CHANGES = ("GH", "GM")  # 过户, 更名
OTHER_CUSTOMER = "other_customer"
OTHER_CASE = "other_case"
HOLDER_NAME = "holder_name_differs"


class Summary(Protocol):
    page_no: int
    doc_type: str | None
    is_blank: bool
    fields: dict


def _value(fields: dict, name: str, labels: tuple[str, ...] = ()) -> str:
    prop = (fields or {}).get(name)
    if not isinstance(prop, dict) or not prop.get("valid", True) or not prop.get("value"):
        return ""
    if labels and prop.get("label") not in labels:
        return ""
    return str(prop["value"])


def _ranges(numbers: Sequence[int]) -> str:
    """1, 2, 3, 5 → '1–3, 5'."""
    out: list[str] = []
    start = prev = None
    for n in sorted(numbers):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = n
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}–{prev}")
    return ", ".join(out)


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _split_hint(runs: list[int], value: str, work_order: str) -> dict:
    """What to do with pages that belong elsewhere: a kept message (rendered in the reader's language)."""
    first, last = min(runs), max(runs)
    link = work_order or value
    return kept(
        N_(
            "{scan}: behind a cover sheet (`dangan labels cover {link}`) or with a manifest row "
            "(FILE,{first},{last},{link})"
        ),
        scan=kept_plural(
            "if it belongs to another folder, scan page {pages} as a folder of its own",
            "if they belong to another folder, scan pages {pages} as a folder of their own",
            len(runs),
            pages=_ranges(runs),
        ),
        link=link,
        first=first,
        last=last,
    )


def _odd_pages(pages: list[Summary], name: str) -> tuple[str, dict[str, list[int]]]:
    """The folder's own value of NAME (read on most pages) and the pages carrying others."""
    seen = {p.page_no: v for p in pages if (v := _value(p.fields, name))}
    if len(set(seen.values())) < 2:
        return "", {}
    counts = Counter(seen.values())
    own = max(counts, key=lambda v: (counts[v], -min(n for n, x in seen.items() if x == v)))
    odd: dict[str, list[int]] = {}
    for n, v in seen.items():
        if v != own:
            odd.setdefault(v, []).append(n)
    return own, odd


def _with_continuations(pages: Sequence[Summary], numbers: list[int], name: str) -> list[int]:
    """NUMBERS and the pages of their documents that carry no NAME of their own (a form's
    second page, a blank back): they go where their document goes."""
    out = set(numbers)
    for document in split_documents(list(pages)):
        if any(p.page_no in out for p in document):
            out |= {p.page_no for p in document if not _value(p.fields, name)}
    return sorted(out)


def folder_flags(pages: Sequence[Summary]) -> dict[int, list[dict]]:
    """page number → flags for pages that do not belong with the rest of the folder."""
    content = [p for p in pages if not p.is_blank and cover_of(p.fields) is None]
    flags: dict[int, list[dict]] = {}

    def add(page_no: int, code: str, severity: str, text: str, **params: Any) -> None:
        message = kept(text, **params)
        flags.setdefault(page_no, []).append({"code": code, "severity": severity, "message": render(message)} | message)

    own_account, other_accounts = _odd_pages(content, "account_number")
    flagged_as_other: set[int] = set()
    for account, numbers in other_accounts.items():
        numbers = _with_continuations(pages, numbers, "account_number")
        orders = {_value(p.fields, "work_order") for p in content if p.page_no in numbers} - {""}
        order = min(orders) if orders else ""
        text = N_(
            "Page carries 户号 {account}{order}, the rest of the folder 户号 {own}: another customer's paper "
            "filed here? {hint}."
        )
        params = {
            "account": account,
            "order": kept(N_(" (work order {order})"), order=order) if order else "",
            "own": own_account,
            "hint": _split_hint(numbers, account, order),
        }
        for n in numbers:
            add(n, OTHER_CUSTOMER, "fail", text, **params)
        flagged_as_other |= set(numbers)
    own_order, other_orders = _odd_pages(content, "work_order")
    for order, numbers in other_orders.items():
        numbers = [n for n in _with_continuations(pages, numbers, "work_order") if n not in flagged_as_other]
        if numbers:
            text = N_(
                "Page carries work order {order}, the rest of the folder {own}: "
                "another case's paper filed here? {hint}."
            )
            for n in numbers:
                add(n, OTHER_CASE, "fail", text, order=order, own=own_order, hint=_split_hint(numbers, order, order))
    names = {p.page_no: v for p in content if (v := _value(p.fields, "customer_name", HOLDER_LABELS))}
    business = Counter(v for p in content if (v := _value(p.fields, "business_type")))
    if len(set(names.values())) > 1 and not (business and business.most_common(1)[0][0] in NAME_CHANGES):
        counts = Counter(names.values())
        own = max(counts, key=lambda v: (counts[v], -min(n for n, x in names.items() if x == v)))
        for n, name in sorted(names.items()):
            if n not in flagged_as_other and _edit_distance(name, own) >= 2:  # one character: OCR's doing
                add(
                    n,
                    HOLDER_NAME,
                    "warn",
                    N_("Page names the holder (户名) {name}, other pages {own}: compare with the paper."),
                    name=name,
                    own=own,
                )
    return flags


__all__ = ["HOLDER_LABELS", "HOLDER_NAME", "OTHER_CASE", "OTHER_CUSTOMER", "folder_flags"]
