"""A record's life after accession: reclassification and its history, voiding a number, 户号
changes, business cases' fields and closing, retention and disposal, the searchable PDF and the OFD.

Numbers, stored files and labels never change; every earlier value stays readable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from dangan.app.archive import Archive
from dangan.archive.audit.ofd_export import OfdExport, VectorPage
from dangan.archive.audit.ofd_export import export_ofd as write_ofd
from dangan.archive.audit.searchable_pdf import PdfExport
from dangan.archive.audit.searchable_pdf import export_pdf as write_pdf
from dangan.archive.models import Page
from dangan.archive.records import lifecycle
from dangan.archive.records.views import find_record
from dangan.scanning.ofd_out import born_digital_page


def reclassify(
    archive: Archive,
    number: str,
    *,
    reason: str,
    business_type: str | None = None,
    voltage_class: str | None = None,
    customer_class: str | None = None,
    retention: str | None = None,
    doc_types: Mapping[int, str] | None = None,
) -> dict[str, str]:
    """A new classification (and document types) for a record; returns the one now in force."""
    with archive.session() as s:
        r = lifecycle.reclassify(
            s,
            number,
            business_type=business_type,
            voltage_class=voltage_class,
            customer_class=customer_class,
            retention=retention,
            doc_types=doc_types,
            reason=reason,
            actor=archive.actor,
            scheme=archive.scheme,
        )
        c = r.classification
        now = {k: getattr(c, k, "") for k in ("business_type", "voltage_class", "customer_class", "retention")}
        return {"number": r.number, **now}


def history(archive: Archive, number: str) -> list[dict[str, Any]]:
    """Every classification a record has had, and every document type change."""
    with archive.session() as s:
        return lifecycle.classification_history(s, number)


def void_number(archive: Archive, number: str, *, reason: str) -> str:
    """Void a number (never reused); the record stays, with status 'void' and the reason."""
    with archive.session() as s:
        return lifecycle.void_number(s, number, reason=reason, actor=archive.actor).number


def change_account_number(archive: Archive, old: str, new: str, *, reason: str) -> dict[str, Any]:
    """户号 change, or 并户 when NEW already exists: records stay findable by both numbers."""
    with archive.session() as s:
        c = lifecycle.change_account_number(s, old, new, reason, archive.actor)
        return {"account_number": c.account_number, "findable_by": sorted(a.account_number for a in c.aliases)}


def update_case(
    archive: Archive,
    work_order: str,
    *,
    reason: str,
    billing_fields: Mapping[str, Any] | None = None,
    facts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Billing-critical fields or facts of a case (checked at handover)."""
    with archive.session() as s:
        c = lifecycle.update_case(
            s, work_order, actor=archive.actor, reason=reason, billing_fields=billing_fields, facts=facts
        )
        return {"work_order": c.work_order, "billing_fields": dict(c.billing_fields), "facts": dict(c.facts)}


def close_case(archive: Archive, work_order: str, closed_on: date) -> None:
    """Close a case: retention periods triggered by case_closed start on CLOSED_ON."""
    with archive.session() as s:
        lifecycle.close_case(s, work_order, closed_on, actor=archive.actor)


def retention_due(archive: Archive, today: date | None = None) -> list[dict[str, Any]]:
    """Records whose retention period has run out: to appraise, then dispose or extend."""
    with archive.session() as s:
        return [x.as_dict() for x in lifecycle.retention_due(s, archive.scheme, today)]


def dispose(archive: Archive, number: str, *, reason: str, approved_by: str) -> str:
    """Dispose of a record whose retention ran out; a tombstone keeps its metadata."""
    with archive.session() as s:
        return lifecycle.dispose(
            s, number, reason=reason, approved_by=approved_by, actor=archive.actor, scheme=archive.scheme
        ).number


def export_pdf(archive: Archive, key: str, output: str | os.PathLike | None = None) -> PdfExport:
    """Record KEY (number, or a 户号 with one record) as a searchable PDF [default file:
    NUMBER.pdf here]; the export is an event with the file's SHA-256."""
    with archive.session() as s:
        output = output or f"{find_record(s, key).number}.pdf"
        return write_pdf(s, key, archive.store, output, actor=archive.actor)


def export_ofd(archive: Archive, key: str, output: str | os.PathLike | None = None) -> OfdExport:
    """Record KEY (number, or a 户号 with one record) as an OFD in the archival profile [default
    file: NUMBER.ofd here]; the export is an event with the file's SHA-256."""
    store = archive.store

    def own_content(page: Page, new_id: Callable[[], int]) -> VectorPage | None:
        """A born-digital page's own content (its master is the original file), else None."""
        if page.master_format not in ("ofd", "pdf"):
            return None
        return born_digital_page(store.path(page.master_path), page.master_format, page.source_page, new_id)

    with archive.session() as s:
        output = output or f"{find_record(s, key).number}.ofd"
        return write_ofd(s, key, store, output, actor=archive.actor, born_digital=own_content)
