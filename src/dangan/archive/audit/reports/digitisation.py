"""Digitisation progress: folders scanned, backlog, pace, projected finish."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dangan.archive.audit.reports.base import Report, Section, about, folder_pages
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.business.workdays import add_working_days
from dangan.archive.models import (
    Folder,
    FolderRecord,
    Page,
)
from dangan.archive.records.paper_pages import PAPER_PAGE
from dangan.i18n import N_, _


def digitisation_report(
    session: Session,
    *,
    db_url: str,
    actor: str,
    today: date | None = None,
    window_days: int = 30,
    scheme: ClassificationScheme | None = None,
) -> Report:
    """Paper folders scanned, not scanned, QA-failed, verified; pages per day; backlog and
    when it will be done at the recent pace."""
    today = today or date.today()
    pages_of = folder_pages(session)
    folders = session.scalars(select(Folder).where(Folder.state != "destroyed").order_by(Folder.code)).all()
    rows = []
    for f in folders:
        n, open_qa = pages_of.get(f.id, (0, 0))
        status = "not scanned" if n == 0 else ("QA failed" if open_qa else "verified")
        rows.append(
            {
                "folder": f.code,
                "state": f.state,
                "records": [r.number for r in f.records],
                "pages": n,
                "pages_to_check": open_qa,
                "status": status,
            }
        )
    by_status = Counter(r["status"] for r in rows)
    per_day = Counter()
    for (created,) in session.execute(select(Page.created_at).where(*PAPER_PAGE)):
        per_day[created.date()] += 1
    days = [{"day": d.isoformat(), "pages": per_day[d]} for d in sorted(per_day)]
    # Pace: folders scanned per scanning day over the window, so idle weeks do not hide a slow pace.
    first_page = session.execute(
        select(FolderRecord.folder_id, func.min(Page.created_at))
        .join(Page, Page.record_id == FolderRecord.record_id)
        .group_by(FolderRecord.folder_id)
    ).all()
    since = today - timedelta(days=window_days)
    recent = [d.date() for _, d in first_page if d is not None and d.date() > since]
    scan_days = len(set(recent))
    rate = len(recent) / scan_days if scan_days else 0.0
    backlog = by_status["not scanned"]
    finish = None
    if backlog and rate:
        finish = add_working_days(today, max(1, math.ceil(backlog / rate)))
    summary = {
        "folders": len(rows),
        "scanned": len(rows) - backlog,
        "not_scanned": backlog,
        "qa_failed": by_status["QA failed"],
        "verified": by_status["verified"],
        "pages": sum(per_day.values()),
        "pages_to_check": sum(r["pages_to_check"] for r in rows),
        "folders_per_scanning_day": round(rate, 2),
        "projected_finish": finish.isoformat()
        if finish
        else ("done" if not backlog else "unknown: nothing scanned in the window"),
    }
    report = Report(
        "digitisation",
        _("Digitisation progress"),
        about(session, db_url=db_url, actor=actor, scheme=scheme, today=today),
    )
    report.sections.append(Section(N_("summary"), list(summary), [summary]))
    report.sections.append(
        Section(
            N_("folders"),
            ["folder", "state", "records", "pages", "pages_to_check", "status"],
            [r for r in rows if r["status"] != "verified"] or [],
        )
    )
    report.sections.append(Section(N_("pages per day"), ["day", "pages"], days))
    report.findings = {
        "not_scanned": [r["folder"] for r in rows if r["status"] == "not scanned"],
        "qa_failed": [r["folder"] for r in rows if r["status"] == "QA failed"],
        "summary": summary,
    }
    report.problems = backlog + by_status["QA failed"]
    report.notes.append(
        _(
            "Only folders that are not verified are listed; 'verified' = scanned with no page "
            "waiting for QA. Projected finish assumes the folders-per-scanning-day pace of the "
            "last {days} days continues on working days."
        ).format(days=window_days)
    )
    running = 0
    for d in days:
        running += d["pages"]
        report.charts.setdefault("pages_cumulative", []).append((d["day"], d["pages"], running))
    return report
