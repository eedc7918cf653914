"""Cell values as the domain needs them: dates, capacities, yes/no, voltage and customer classes,
户号; each refused with a plain reason."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from dangan.archive.business.imports.mapping import EARLIEST_YEAR
from dangan.archive.identifiers import InvalidIdentifier, validate_account_number, validate_ric, validate_uscc
from dangan.i18n import _

# --------------------------------------------------------------------------- values

_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")


def parse_id_number(value: Any) -> str:
    """A customer's certificate number: a 公民身份号码 (17 digits and a check character) or,
    for an organisation, a 统一社会信用代码; its check character must hold. Raises ValueError."""
    text = re.sub(r"\s", "", str(value)).upper()
    try:
        if len(text) == 18 and not text[:17].isdigit():
            return validate_uscc(text)
        return validate_ric(text)  # 17 digits and a check character (or says what is wrong)
    except InvalidIdentifier as exc:
        what = "公民身份号码" if exc.kind == "ID number" else "统一社会信用代码"
        raise ValueError(f"{what} {text}: {exc.reason}") from None


def parse_date(value: Any, today: date | None = None) -> date:
    """A date cell: a spreadsheet date, 2024-03-15, 2024/3/15, 2024.3.15, 20240315 or
    2024年3月15日 (a time after the date is ignored). Raises ValueError with a plain reason.
    With TODAY, a date after it is refused (a stage cannot have happened tomorrow)."""
    if isinstance(value, datetime):
        d = value.date()
    elif isinstance(value, date):
        d = value
    else:
        text = str(value).strip()
        m = _DATE_RE.match(text) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text))
        if not m:
            raise ValueError(_("{text!r} is not a date (write YYYY-MM-DD)").format(text=text))
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValueError(_("{text!r} is not a real date").format(text=text)) from None
    if d.year < EARLIEST_YEAR:
        raise ValueError(_("{day} is before {year}").format(day=d.isoformat(), year=EARLIEST_YEAR))
    if today is not None and d > today:
        raise ValueError(_("{day} is in the future").format(day=d.isoformat()))
    return d


def parse_capacity(value: Any) -> float:
    """A capacity in kVA: 315, 315.0, '315kVA', '1,250 kVA'. Never negative."""
    text = str(value).strip().replace(",", "").replace("，", "")
    text = re.sub(r"\s*(kva|kw|千伏安)$", "", text, flags=re.IGNORECASE)
    try:
        number = float(Decimal(text))
    except InvalidOperation:
        raise ValueError(_("{value!r} is not a number of kVA").format(value=value)) from None
    if number < 0:
        raise ValueError(_("{value!r} is negative").format(value=value))
    return number


_YES = {"是", "y", "yes", "true", "1", "有"}
_NO = {"否", "n", "no", "false", "0", "无"}


def parse_flag(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(_("{value!r} is not yes/no (是/否)").format(value=value))


_VOLTAGE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(kv|v)", re.IGNORECASE)


def parse_voltage_class(value: Any, table: Mapping[str, str]) -> str:
    text = str(value).strip()
    if text in table:
        return table[text]
    if text.upper() in ("LV", "HV"):
        return text.upper()
    m = _VOLTAGE_RE.search(text)
    if m:
        volts = float(m.group(1)) * (1000 if m.group(2).lower() == "kv" else 1)
        return "HV" if volts >= 1000 else "LV"
    raise ValueError(
        _("voltage class {text!r} is neither listed under values.voltage_class nor a voltage").format(text=text)
    )


def parse_customer_class(value: Any, table: Mapping[str, str]) -> str:
    text = str(value).strip()
    if text in ("residential", "non_residential"):
        return text
    if text in table:
        return table[text]
    if "_default" in table:
        return table["_default"]
    raise ValueError(_("customer class {text!r} is not listed under values.customer_class").format(text=text))


def parse_account(value: Any) -> str:
    text = str(value).strip()
    if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", text):
        raise ValueError(
            _("户号 {text!r} was turned into scientific notation by a spreadsheet; export it again as text").format(
                text=text
            )
        )
    try:
        return validate_account_number(text)
    except InvalidIdentifier as exc:
        raise ValueError(f"户号 {exc.reason}") from None
