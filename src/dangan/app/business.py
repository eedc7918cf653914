"""Following the business: imports of customers and cases from the business system's exports,
the collection list (按期收集), what a case owes, linking scanned records to cases."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from dangan.app.archive import Archive
from dangan.app.index import index_after_change
from dangan.archive.business import collection, imports
from dangan.archive.business.collection import CaseDocuments, DepartmentCollection
from dangan.archive.business.imports import ImportOptions, ImportReport, RowProblem
from dangan.archive.business.scheme import load_scheme

IMPORT_KINDS = ("customers", "cases")


def import_export(
    archive: Archive,
    kind: str,
    path: str | os.PathLike,
    *,
    mapping: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    batch_size: int = 2000,
    today: date | None = None,
    on_problem: Callable[[RowProblem], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportReport:
    """Customers or cases from an export (CSV or .xlsx): good rows imported, bad rows reported."""
    run = imports.import_customers if kind == "customers" else imports.import_cases
    options = ImportOptions(
        mapping=mapping,
        encoding=encoding,
        sheet=sheet,
        batch_size=batch_size,
        today=today or date.today(),
        actor=archive.actor,
        on_problem=on_problem,
        progress=progress,
    )
    report = run(archive.db, Path(path), archive.scheme, options)
    index_after_change(archive)  # a business type, name or 户号 imported changes what search shows
    return report


def collection_list(
    archive: Archive,
    *,
    today: date | None = None,
    department: str | None = None,
    overdue_only: bool = False,
    holidays: Iterable[date] = (),
    workdays: Iterable[date] = (),
) -> list[DepartmentCollection]:
    """Per department, the cases whose documents are due or overdue, and which documents
    (HOLIDAYS and WORKDAYS as `report overdue` takes them, so the two agree)."""
    with archive.session() as s:
        return collection.collection_list(
            s,
            archive.scheme,
            today=today or date.today(),
            department=department,
            overdue_only=overdue_only,
            holidays=holidays,
            extra_workdays=workdays,
        )


def case_documents(archive: Archive, work_order: str, *, today: date | None = None) -> CaseDocuments:
    """A case's stages, when its documents are due, which have arrived and which are owed."""
    with archive.session() as s:
        return collection.case_documents(s, archive.scheme, work_order, today=today or date.today())


def scheme_in_force(archive: Archive, path: str | os.PathLike | None = None) -> dict[str, object]:
    """The classification scheme the archive reads (or the file PATH, checked before it is put
    in the data home): where it is, its version and content hash, what it defines. A bad file
    raises SchemeError with file, line and reason."""
    scheme = load_scheme(Path(path)) if path else archive.scheme
    return {
        "file": scheme.source,
        "version": scheme.version,
        "sha256": scheme.sha256,
        "label": scheme.label,
        "fonds": scheme.fonds.code,
        "business_types": len(scheme.business_types),
        "document_types": len(scheme.document_types),
        "site": archive.home.site_scheme.as_posix(),
    }


def link_record(archive: Archive, number: str, work_order: str, *, reason: str = "") -> None:
    """Link scanned record NUMBER to case WORK_ORDER, or confirm a proposed link."""
    with archive.session() as s:
        collection.link_record(s, number, work_order, actor=archive.actor, reason=reason)
