"""What the fields read on a page mean to the archive: which identify its content, which date
the document (records.accession, records.likeness and the scanner share these)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

# Identifiers that say whose and which case a page is.
KEY_FIELDS = ("account_number", "work_order", "id_number", "uscc")

# The dates that say when a document was made, in the order they are believed: the day it was
# applied for (申请日期, 受理日期), signed (签订日期), the meter fitted, the seal put on or taken off.
DOCUMENT_DATE_FIELDS = (
    "application_date",
    "signing_date",
    "connection_date",
    "seal_date",
    "unseal_date",
    "meter_removal_date",
)


def document_date(page_fields: Iterable[dict]) -> date | None:
    """The day a document is dated: the first labelled date read validly on its pages (in page
    order), by DOCUMENT_DATE_FIELDS; None when none was read (a birth date on an ID card is
    not the document's date, so unlabelled dates do not count)."""
    pages = [f or {} for f in page_fields]
    for name in DOCUMENT_DATE_FIELDS:
        for fields in pages:
            prop = fields.get(name)
            if prop and prop.get("valid", True) and prop.get("value"):
                try:
                    return date.fromisoformat(str(prop["value"]))
                except ValueError:
                    continue
    return None


def valid_value(fields: dict | None, name: str) -> str:
    """The value read validly for field NAME, or ''."""
    prop = (fields or {}).get(name)
    if isinstance(prop, dict) and prop.get("valid", True) and prop.get("value") not in (None, ""):
        return str(prop["value"])
    return ""
