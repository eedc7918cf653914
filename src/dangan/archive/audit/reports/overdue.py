"""Overdue collection: stages done whose documents have not arrived in time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dangan.archive.audit.reports.base import NONE, Report, Section, about
from dangan.archive.audit.reports.completeness import cases_in_scope
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.business.workdays import due_dates, is_working_day

# --------------------------------------------------------------------------- overdue collection


def _as_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def working_days_between(
    start: date, end: date, holidays: Iterable[date] = (), extra_workdays: Iterable[date] = ()
) -> int:
    """Working days after START up to and including END (0 when END is not after START)."""
    n, day = 0, start
    while day < end:
        day += timedelta(days=1)
        n += is_working_day(day, holidays, extra_workdays)
    return n


def overdue_report(
    session: Session,
    scheme: ClassificationScheme,
    *,
    db_url: str,
    actor: str,
    today: date | None = None,
    holidays: Iterable[date] = (),
    extra_workdays: Iterable[date] = (),
    business_type: str | None = None,
    department: str | None = None,
    customer: str | None = None,
) -> Report:
    """Cases with a stage done (a date in stage_dates) whose documents for that stage are
    still missing after the stage's due working days: collection is late."""
    today = today or date.today()
    holidays, extra = tuple(holidays), tuple(extra_workdays)
    checks = cases_in_scope(
        session,
        date_from=None,
        date_to=None,
        business_type=business_type,
        department=department,
        customer=customer,
        scheme=scheme,
    )
    rows, problems_in_data = [], []
    for c in checks:
        if c.result is None or not c.case.stage_dates:
            continue
        try:
            stages = {k: _as_date(v) for k, v in c.case.stage_dates.items()}
            facts = dict(c.case.facts or {})
            due = due_dates(scheme, c.business_type, stages, facts=facts, holidays=holidays, extra_workdays=extra)
        except (KeyError, ValueError) as e:
            problems_in_data.append({"work_order": c.case.work_order, "problem": str(e.args[0] if e.args else e)})
            continue
        for m in c.result.missing:
            if m.stage is None or m.stage not in due or due[m.stage] >= today:
                continue
            rows.append(
                {
                    "work_order": c.case.work_order,
                    "business_type": c.business_type,
                    "department": c.case.department or NONE,
                    "stage": m.stage,
                    "stage_done": stages[m.stage],
                    "due": due[m.stage],
                    "working_days_late": working_days_between(due[m.stage], today, holidays, extra),
                    "missing": f"{m.code} {m.name}",
                    "records": [r.number for r in c.records],
                }
            )
    report = Report(
        "overdue",
        "Overdue collection (归档超期)",
        about(
            session,
            db_url=db_url,
            actor=actor,
            scheme=scheme,
            today=today,
            filters={"business_type": business_type, "department": department, "customer": customer},
        ),
    )
    report.sections.append(
        Section(
            "overdue documents",
            [
                "work_order",
                "business_type",
                "department",
                "stage",
                "stage_done",
                "due",
                "working_days_late",
                "missing",
                "records",
            ],
            rows,
        )
    )
    if problems_in_data:
        report.sections.append(Section("stage dates that cannot be read", ["work_order", "problem"], problems_in_data))
    report.findings = {"overdue": rows, "unreadable_stage_dates": problems_in_data}
    report.problems = len({r["work_order"] for r in rows}) + len(problems_in_data)
    report.notes.append(
        "Due dates count working days (weekends skipped"
        + (", holidays given" if holidays else ", no public holidays given")
        + ")."
    )
    return report
