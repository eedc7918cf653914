"""One import run: read, validate, apply in batches, report; one event per run. And the history a
customer or case has from imports."""

from __future__ import annotations

import hashlib
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.business.imports.apply import CaseBatch, CustomerBatch, apply_batch
from dangan.archive.business.imports.files import ExportFile, plan_columns
from dangan.archive.business.imports.mapping import BUSINESS_IMPORT, load_mapping
from dangan.archive.business.imports.rows import ImportOptions, ImportReport, Problems, RowError, RowProblem, RowReader
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import (
    BusinessCase,
    CaseVersion,
    CustomerVersion,
    ImportRun,
    utcnow,
)
from dangan.archive.records.accession import find_customer
from dangan.i18n import _

# --------------------------------------------------------------------------- the run


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_customers(
    db, path: str | Path, scheme: ClassificationScheme, options: ImportOptions | None = None
) -> ImportReport:
    """Import a customer export (户号, 户名, 用电地址, 电压等级, 用电类别, 原户号 …)."""
    return _run(db, "customers", path, scheme, options or ImportOptions())


def import_cases(
    db, path: str | Path, scheme: ClassificationScheme, options: ImportOptions | None = None
) -> ImportReport:
    """Import a work-order export (工单编号, 户号, 业务类型, stage dates, billing fields …)."""
    return _run(db, "cases", path, scheme, options or ImportOptions())


def _run(db, kind: str, path: str | Path, scheme: ClassificationScheme, options: ImportOptions) -> ImportReport:
    started = time.perf_counter()
    today = options.today or date.today()
    mapping = load_mapping(options.mapping, scheme)
    export = ExportFile(path, encoding=options.encoding, sheet=options.sheet)
    file = export.path.name
    report = ImportReport(kind, str(export.path), file_sha256(export.path), mapping.name, export.encoding)
    problems = Problems(report, options.on_problem)
    total = export.estimated_rows() if options.progress else None
    plan, rows = plan_columns(mapping.kind(kind), export.rows(), file)
    report.unused_columns = plan.unused
    reader = RowReader(plan, mapping, scheme, today)
    with db.session() as s:
        run = ImportRun(
            kind=kind,
            file_name=file,
            file_sha256=report.file_sha256,
            mapping=mapping.name,
            actor=options.actor,
            counts={},
        )
        s.add(run)
        s.flush()
        report.run_id = run.id
    digest = hashlib.sha256()
    applier = (CustomerBatch if kind == "customers" else CaseBatch)(
        scheme, report, problems, digest, options, file, today
    )
    batch: list = []
    try:
        for line, cells in rows:
            if not any(c not in ("", None) for c in cells):
                continue
            report.rows += 1
            try:
                parsed = (reader.customer if kind == "customers" else reader.case)(line, cells, mapping.kind(kind))
            except RowError as exc:
                report.rejected += 1
                problems.add(RowProblem(file, line, exc.column, str(exc.value), exc.reason))
            else:
                batch.append(parsed)
            if len(batch) >= options.batch_size:
                apply_batch(db, applier, batch)
                batch = []
                if options.progress:
                    options.progress(report.rows, total)
        if batch:
            apply_batch(db, applier, batch)
        if options.progress:
            options.progress(report.rows, report.rows)
    except BaseException:
        with db.session() as s:
            failed = s.get(ImportRun, report.run_id)
            failed.status, failed.finished_at, failed.counts = "failed", utcnow(), report.counts()
        raise
    report.seconds = time.perf_counter() - started
    report.problems.sort(key=lambda p: (p.line, p.severity))
    with db.session() as s:
        run = s.get(ImportRun, report.run_id)
        run.status, run.finished_at, run.counts = "done", utcnow(), report.counts()
        if report.changed or report.links_proposed:
            events.record_event(
                s,
                BUSINESS_IMPORT,
                options.actor,
                "import",
                run.id,
                {
                    "kind": kind,
                    "file": file,
                    "file_sha256": report.file_sha256,
                    "mapping": mapping.name,
                    **report.counts(),
                    "changes_sha256": digest.hexdigest(),
                },
            )
    return report


# --------------------------------------------------------------------------- history


def customer_history(session: Session, account_number: str) -> list[dict[str, Any]]:
    """The earlier values of a customer (found by any 户号 it has had), oldest first."""

    customer = find_customer(session, account_number)
    if customer is None:
        raise LookupError(_("no customer has 户号 {account_number}").format(account_number=account_number))
    return [
        {"earlier": v.earlier, "changed": v.changed, "valid_to": v.valid_to, "source": v.source, "run": v.import_run_id}
        for v in session.scalars(
            select(CustomerVersion).filter_by(customer_id=customer.id).order_by(CustomerVersion.id)
        )
    ]


def case_history(session: Session, work_order: str) -> list[dict[str, Any]]:
    case = session.scalar(select(BusinessCase).filter_by(work_order=work_order))
    if case is None:
        raise LookupError(_("no business case with work order {work_order}").format(work_order=work_order))
    return [
        {"earlier": v.earlier, "changed": v.changed, "valid_to": v.valid_to, "source": v.source, "run": v.import_run_id}
        for v in session.scalars(select(CaseVersion).filter_by(case_id=case.id).order_by(CaseVersion.id))
    ]
