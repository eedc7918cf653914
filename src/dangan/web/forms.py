"""Search form fields composed into the documented query syntax (indexing/QUERY_SYNTAX.md)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dangan.errors import DanganError


class FormError(DanganError, ValueError):
    """A search form field the user must fix."""

    def __init__(self, message: str):
        super().__init__(f"cannot read the query: {message}")


def choices(scheme) -> dict[str, list[tuple[str, str]]]:
    """Business types and document types from the classification scheme: (code, name)."""
    return {
        "business": [(c, b.name) for c, b in scheme.business_types.items()],
        "doctype": [(c, d.name) for c, d in scheme.document_types.items()],
    }


@dataclass
class SearchForm:
    q: str = ""
    account: str = ""
    business: str = ""
    doctype: str = ""
    date_from: str = ""
    date_to: str = ""

    def query(self, scheme) -> str:
        """The query string the filters stand for; raises FormError for a bad field."""
        parts = [self.q.strip()] if self.q.strip() else []
        account = self.account.strip()
        if account:
            if not re.fullmatch(r"[0-9]{1,20}\*?", account):
                raise FormError("户号 Account no.: digits only (a trailing * searches a prefix)")
            parts.append(f"户号:{account}")
        opts = choices(scheme)
        if self.business:
            if self.business not in dict(opts["business"]):
                raise FormError(f"业务类型 Business type: unknown code {self.business!r}")
            parts.append(f"业务:{self.business}")
        if self.doctype:
            if self.doctype not in dict(opts["doctype"]):
                raise FormError(f"文件类型 Document type: unknown code {self.doctype!r}")
            parts.append(f"类型:{self.doctype}")
        lo, hi = _date(self.date_from, "from"), _date(self.date_to, "to")
        if lo and hi and lo > hi:
            raise FormError("日期 Date: the range ends before it starts")
        if lo or hi:
            parts.append(f"日期:{lo}..{hi}")
        return " ".join(parts)


def _date(value: str, which: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise FormError(f"日期 Date {which}: {value!r} is not a date YYYY-MM-DD") from None
