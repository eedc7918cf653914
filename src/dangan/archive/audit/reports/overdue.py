"""Overdue collection: stages done whose documents have not arrived in time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy.orm import Session

from dangan.archive.audit.reports.base import NONE, Report, Section, about
from dangan.archive.business.collection import Unjudged, cases_owing
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.business.workdays import is_working_day
from dangan.i18n import N_, _

# --------------------------------------------------------------------------- overdue collection


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
    """Documents the archive should hold by now and does not: every case's owed documents past
    their due day (business.collection.cases_owing, the computation `dangan collect` shows).
    A case with nothing scanned owes everything; a closed case owes what is missing, due on
    its closing day."""
    today = today or date.today()
    holidays, extra = tuple(holidays), tuple(extra_workdays)
    filters = {"business_type": business_type, "department": department, "customer": customer}
    report = Report(
        "overdue",
        _("Overdue collection"),
        about(session, db_url=db_url, actor=actor, scheme=scheme, today=today, filters=filters),
    )
    names = {bt.code: bt.name for bt in scheme.business_types.values()}
    unjudged: list[Unjudged] = []
    rows = []
    for case in cases_owing(
        session,
        scheme,
        today=today,
        department=department,
        business_type=business_type,
        customer=customer,
        holidays=holidays,
        extra_workdays=extra,
        unjudged=unjudged,
    ):
        for d in case.overdue:
            rows.append(
                {
                    "work_order": case.work_order,
                    "business_type": case.business_type,
                    "business_name": names.get(case.business_type, ""),
                    "department": case.department or NONE,
                    "case_status": case.status,
                    "stage": d.stage,
                    "stage_done": d.stage_date,
                    "due": d.due_on,
                    "working_days_late": working_days_between(d.due_on, today, holidays, extra) if d.due_on else 0,
                    "missing": d.label,
                    "records": list(case.records),
                }
            )
    report.sections.append(
        Section(
            N_("overdue documents"),
            [
                "work_order",
                "business_type",
                "department",
                "case_status",
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
    problems_in_data = [{"work_order": u.work_order, "problem": u.problem} for u in unjudged]
    if problems_in_data:
        report.sections.append(Section(N_("cases that cannot be judged"), ["work_order", "problem"], problems_in_data))
    report.findings = {
        "overdue": rows,
        "overdue_cases": sorted({r["work_order"] for r in rows}),
        "unjudged": problems_in_data,
    }
    report.problems = len({r["work_order"] for r in rows}) + len(problems_in_data)
    report.notes.append(
        (
            _("Due dates count working days (weekends and the holidays given skipped).")
            if holidays
            else _("Due dates count working days (weekends skipped, no public holidays given).")
        )
        + " "
        + _(
            "The same computation as `dangan collect`: cases with nothing scanned owe every document; "
            "a closed case owes what is missing, due on its closing day."
        )
    )
    return report
