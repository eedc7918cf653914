"""What one index document holds, in ONE place, and which index field serves what.

One index document = one page. Backends translate `IndexDoc` into their own fields
using the FIELD tables below; the query compiler uses the same names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields

from dangan.archive.personal import blank_values
from dangan.indexing.analyzer import ANALYZER_VERSION, normalize_keyword

# Bump when IndexDoc or the backend field layout changes: forces a rebuild.
# 2: personal numbers kept out of the words of the page text, in a field of their own
SCHEMA_VERSION = 2


@dataclass(frozen=True)
class IndexDoc:
    """One scanned page as the index sees it."""

    page_id: str
    record_number: str = ""  # archive number (档号), e.g. GD01-KH·2024-0001239
    document_id: str = ""
    page_no: int = 1  # page within the record
    text: str = ""  # OCR text
    account_numbers: list[str] = field(default_factory=list)  # old and new 户号
    customer_name: str = ""
    address: str = ""
    business_type: str = ""  # code, e.g. ZT
    business_name: str = ""  # e.g. 暂停
    doc_type: str = ""  # code, e.g. HT
    doc_type_name: str = ""  # e.g. 供用电合同
    work_orders: list[str] = field(default_factory=list)
    date: dt.date | None = None
    location: str = ""  # paper location code
    qa_status: str = ""
    retention: str = ""
    # personal numbers on the page (compact): searchable only by people granted to see them
    personal_numbers: list[str] = field(default_factory=list)

    def __post_init__(self):
        if not self.page_id or not str(self.page_id).strip():
            raise ValueError("IndexDoc needs a non-empty page_id")
        if isinstance(self.date, dt.datetime):
            object.__setattr__(self, "date", self.date.date())

    def to_json(self) -> str:
        data = {name: getattr(self, name) for name in _DOC_FIELDS}  # asdict() deep-copies: 5x slower
        data["date"] = self.date.isoformat() if self.date else None
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str) -> IndexDoc:
        data = json.loads(raw)
        if not _FIELD_SET.issuperset(data):  # written by another version of dangan
            data = {k: v for k, v in data.items() if k in _FIELD_SET}
        if data.get("date"):
            data["date"] = dt.date.fromisoformat(data["date"])
        return cls(**data)


_DOC_FIELDS = tuple(f.name for f in fields(IndexDoc))
_FIELD_SET = frozenset(_DOC_FIELDS)


def doc_fingerprint(doc: IndexDoc, doc_json: str | None = None) -> str:
    """Content fingerprint stored with each page: compare with the database's view of
    the page to find stale index entries. Includes the versions, so a rebuild with a
    new analyzer also counts as a change. DOC_JSON: doc.to_json(), if already made."""
    payload = f"{ANALYZER_VERSION}/{SCHEMA_VERSION}/{doc_json or doc.to_json()}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def date_key(day: dt.date | None) -> int | None:
    """Dates are indexed as integers YYYYMMDD in both backends (range + sort)."""
    return day.year * 10000 + day.month * 100 + day.day if day else None


# --- index fields ---------------------------------------------------------------
# Analysed (bigram analyzer, positions): free text and text-like filters.
ANALYZED_FIELDS = {
    # without its personal numbers: a search for one (or its beginning) must not find the page
    # for someone who may not see it, so they live in `personal` only
    "text": lambda d: blank_values(d.text, d.personal_numbers),
    "record_text": lambda d: d.record_number,
    "customer_name": lambda d: d.customer_name,
    "address": lambda d: d.address,
}

# Keyword (normalize_keyword, exact or prefix), possibly several values per page.
KEYWORD_FIELDS = {
    "record_key": lambda d: [d.record_number],
    "document_id": lambda d: [d.document_id],
    "account": lambda d: list(d.account_numbers),
    "business_type": lambda d: [d.business_type],
    "business_name": lambda d: [d.business_name],
    "doc_type": lambda d: [d.doc_type],
    "doc_type_name": lambda d: [d.doc_type_name],
    "work_order": lambda d: list(d.work_orders),
    "location": lambda d: [d.location],
    "qa_status": lambda d: [d.qa_status],
    "retention": lambda d: [d.retention],
    "personal": lambda d: list(d.personal_numbers),
}

DATE_FIELD = "date"  # integer YYYYMMDD
ID_FIELD = "page_id"  # unique key, raw
STORED_DOC_FIELD = "doc_json"
FINGERPRINT_FIELD = "fingerprint"


def keyword_values(doc: IndexDoc, name: str) -> list[str]:
    values = (normalize_keyword(v) for v in KEYWORD_FIELDS[name](doc) if v)
    return [v for v in values if v]


# Sorts other than relevance and date: sort name -> the keyword field it orders by. A page
# with several values (an old and a new 户号) sorts by the greatest; pages without one last.
SORT_FIELDS = {"account": "account", "business": "business_type"}


def sort_value(doc: IndexDoc, sort: str) -> str:
    return max(keyword_values(doc, SORT_FIELDS[sort]), default="")
