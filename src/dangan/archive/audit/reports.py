"""Auditor reports: completeness, overdue collection, digitisation, reconciliation, numbering.

Each report is plain data (Report): what it says about which data, sections of rows a
person reads, findings a program reads, and a problem count (non-zero means the auditor
has something to chase). Formatting (terminal, CSV, JSON, HTML) lives elsewhere; nothing
here prints.

Every report states when it was made, by whom, on which database (password hidden), with
which counts and under which scheme version, so a printed copy can be signed off.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dangan.archive.business.completeness import CompletenessResult, evaluate_completeness
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.business.workdays import add_working_days, due_dates, is_working_day
from dangan.archive.home import redact_url
from dangan.archive.models import (
    AccountAlias,
    ArchiveRecord,
    BusinessCase,
    Event,
    Folder,
    FolderRecord,
    Loan,
    NumberCounter,
    Page,
    utcnow,
)
from dangan.archive.paper.loans import overdue_loans
from dangan.archive.paper.locations import unshelved_records
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber

NONE = "(none)"
QA_OPEN = ("flagged", "rescan")  # pages a person still has to deal with


# --------------------------------------------------------------------------- the report object


@dataclass
class Section:
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]


@dataclass
class Report:
    kind: str
    title: str
    about: dict[str, Any]
    sections: list[Section] = field(default_factory=list)
    findings: dict[str, list] = field(default_factory=dict)
    problems: int = 0
    notes: list[str] = field(default_factory=list)
    charts: dict[str, list] = field(default_factory=dict)  # series for the HTML charts

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(f"report {self.kind} has no section {name!r}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.kind,
            "title": self.title,
            "ok": self.ok,
            "problems": self.problems,
            "about": self.about,
            "findings": self.findings,
            "notes": self.notes,
            "sections": [{"name": s.name, "columns": s.columns, "rows": s.rows} for s in self.sections],
        }

    def to_csv(self) -> str:
        """Every section one after another, each with its own header line (opens in a spreadsheet)."""
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow([f"# {self.title}"])
        for key, value in self.about.items():
            w.writerow([f"# {key}", cell_text(value)])
        for s in self.sections:
            w.writerow([])
            w.writerow([f"## {s.name}"])
            w.writerow(s.columns)
            for row in s.rows:
                w.writerow([cell_text(row.get(c)) for c in s.columns])
        return out.getvalue()


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell_text(v)}" for k, v in value.items())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def about(
    session: Session,
    *,
    db_url: str,
    actor: str,
    scheme: ClassificationScheme | None,
    filters: dict[str, Any] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """When, by whom, on which data and under which scheme a report was made."""

    def count(q) -> int:
        return session.scalar(q) or 0

    return {
        "generated_at": utcnow().isoformat(),
        "as_of": (today or date.today()).isoformat(),
        "actor": actor,
        "database": redact_url(db_url),
        "scheme_version": scheme.version if scheme else None,
        "filters": {k: v for k, v in (filters or {}).items() if v not in (None, "", ())},
        "counts": {
            "records": count(select(func.count(ArchiveRecord.id))),
            "active_records": count(select(func.count(ArchiveRecord.id)).where(ArchiveRecord.status == "active")),
            "pages": count(select(func.count(Page.id)).where(Page.superseded_by_id.is_(None))),
            "business_cases": count(select(func.count(BusinessCase.id))),
            "folders": count(select(func.count(Folder.id))),
            "events": count(select(func.count(Event.id))),
        },
    }


# --------------------------------------------------------------------------- completeness


@dataclass(frozen=True)
class CaseCheck:
    """One business case against the scheme in force."""

    case: BusinessCase
    records: tuple[ArchiveRecord, ...]
    business_type: str
    result: CompletenessResult | None
    problems: tuple[str, ...]  # when the case cannot be evaluated at all

    @property
    def ok(self) -> bool:
        return not self.problems and (self.result is None or self.result.ok)

    @property
    def day(self) -> date | None:
        if self.case.accepted_on:
            return self.case.accepted_on
        created = [r.created_at for r in self.records if r.created_at]
        return min(created).date() if created else None

    @property
    def fonds(self) -> str:
        return self.records[0].fonds if self.records else NONE


def check_case(
    session: Session, case: BusinessCase, scheme: ClassificationScheme, records: Iterable[ArchiveRecord] | None = None
) -> CaseCheck:
    """Evaluate a case with the documents of ALL its active records (a supplement counts),
    facts completed from the record's classification the way the handover gate does."""
    if records is None:
        records = session.scalars(
            select(ArchiveRecord).filter_by(case_id=case.id, status="active").order_by(ArchiveRecord.id)
        ).all()
    records = tuple(r for r in records if r.status == "active")
    cls = next((r.classification for r in records if r.classification is not None), None)
    business_type = (cls.business_type if cls else "") or case.business_type or ""
    if not records:
        return CaseCheck(case, records, business_type, None, ("no active archive record for this case",))
    if not business_type:
        return CaseCheck(case, records, business_type, None, ("no business type: reclassify the record",))
    facts = dict(case.facts or {})
    if cls is not None:
        for key in ("voltage_class", "customer_class"):
            if getattr(cls, key) and facts.get(key) is None:
                facts[key] = getattr(cls, key)
    present = [d.doc_type for r in records for d in r.documents if d.doc_type]
    try:
        result = evaluate_completeness(
            scheme, business_type, present_documents=present, facts=facts, billing_fields=case.billing_fields or {}
        )
    except (KeyError, ValueError) as e:
        return CaseCheck(case, records, business_type, None, (str(e.args[0] if e.args else e),))
    return CaseCheck(case, records, result.business_type, result, ())


def _cases(
    session: Session,
    *,
    date_from: date | None,
    date_to: date | None,
    business_type: str | None,
    department: str | None,
    customer: str | None,
    scheme: ClassificationScheme,
) -> list[CaseCheck]:
    q = select(BusinessCase).order_by(BusinessCase.id)
    if department:
        q = q.where(BusinessCase.department == department)
    if customer:
        alias = session.get(AccountAlias, customer.strip())
        q = q.where(BusinessCase.customer_id == (alias.customer_id if alias else -1))
    cases = session.scalars(q).all()
    records = defaultdict(list)
    for r in session.scalars(
        select(ArchiveRecord)
        .where(ArchiveRecord.case_id.is_not(None), ArchiveRecord.status == "active")
        .options(selectinload(ArchiveRecord.documents), selectinload(ArchiveRecord.classifications))
        .order_by(ArchiveRecord.id)
    ):
        records[r.case_id].append(r)
    wanted_type = scheme.business_type(business_type).code if business_type else None
    checks = []
    for case in cases:
        check = check_case(session, case, scheme, records.get(case.id, []))
        if wanted_type and check.business_type != wanted_type:
            continue
        day = check.day
        if (date_from and (day is None or day < date_from)) or (date_to and (day is None or day > date_to)):
            continue
        checks.append(check)
    return checks


def completeness_report(
    session: Session,
    scheme: ClassificationScheme,
    *,
    db_url: str,
    actor: str,
    date_from: date | None = None,
    date_to: date | None = None,
    business_type: str | None = None,
    department: str | None = None,
    customer: str | None = None,
) -> Report:
    """Every business case: documents missing (mandatory, and conditional ones whose
    predicate holds), invalid billing-critical fields, unmet preconditions."""
    filters = {
        "from": date_from,
        "to": date_to,
        "business_type": business_type,
        "department": department,
        "customer": customer,
    }
    checks = _cases(
        session,
        date_from=date_from,
        date_to=date_to,
        business_type=business_type,
        department=department,
        customer=customer,
        scheme=scheme,
    )
    names = {bt.code: bt.name for bt in scheme.business_types.values()}
    rows, findings = [], []
    for c in checks:
        r = c.result
        missing = [str(m) for m in r.missing] if r else []
        fields = [str(i) for i in r.invalid_fields if i.severity == "error"] if r else []
        unmet = [str(u) for u in r.unmet_preconditions] if r else []
        other = list(c.problems) + (list(r.not_applicable) if r else [])
        row = {
            "work_order": c.case.work_order or f"case #{c.case.id}",
            "business_type": c.business_type,
            "business_name": names.get(c.business_type, ""),
            "department": c.case.department or NONE,
            "month": c.day.strftime("%Y-%m") if c.day else NONE,
            "fonds": c.fonds,
            "customer": c.case.customer.account_number if c.case.customer else "",
            "records": [x.number for x in c.records],
            "variant": r.variant if r else "",
            "ok": c.ok,
            "missing": missing,
            "invalid_fields": fields,
            "unmet_preconditions": unmet,
            "other": other,
            "warnings": list(r.warnings) if r else [],
        }
        rows.append(row)
        if not c.ok:
            findings.append(
                {
                    k: row[k]
                    for k in (
                        "work_order",
                        "business_type",
                        "records",
                        "missing",
                        "invalid_fields",
                        "unmet_preconditions",
                        "other",
                    )
                }
                | {"missing_codes": [m.code for m in r.missing] if r else []}
            )
    report = Report(
        "completeness",
        "Completeness of business cases (业务档案完整性)",
        about(session, db_url=db_url, actor=actor, scheme=scheme, filters=filters),
    )
    report.sections.append(
        Section(
            "cases",
            [
                "work_order",
                "business_type",
                "department",
                "month",
                "customer",
                "records",
                "ok",
                "missing",
                "invalid_fields",
                "unmet_preconditions",
                "other",
            ],
            rows,
        )
    )
    for key, label in (
        ("business_type", "by business type"),
        ("department", "by department"),
        ("month", "by month"),
        ("fonds", "by fonds"),
    ):
        report.sections.append(
            Section(label, [key, "cases", "complete", "incomplete", "percent_complete"], _summary(rows, key))
        )
    report.findings = {"incomplete_cases": findings}
    report.problems = len(findings)
    report.charts["completeness_by_business_type"] = [
        (f"{s['business_type']} {names.get(s['business_type'], '')}".strip(), s["complete"], s["incomplete"])
        for s in report.section("by business type").rows
    ]
    return report


def _summary(rows: list[dict], key: str) -> list[dict]:
    total, done = Counter(), Counter()
    for row in rows:
        total[row[key]] += 1
        done[row[key]] += bool(row["ok"])
    return [
        {
            key: k,
            "cases": total[k],
            "complete": done[k],
            "incomplete": total[k] - done[k],
            "percent_complete": round(100 * done[k] / total[k], 1),
        }
        for k in sorted(total)
    ]


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
    checks = _cases(
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


# --------------------------------------------------------------------------- digitisation


def _folder_pages(session: Session) -> dict[int, tuple[int, int]]:
    """folder id → (current pages, pages with open QA) over the folder's active records."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(
        select(FolderRecord.folder_id, Page.qa_status)
        .join(ArchiveRecord, ArchiveRecord.id == FolderRecord.record_id)
        .join(Page, Page.record_id == ArchiveRecord.id)
        .where(Page.superseded_by_id.is_(None), ArchiveRecord.status == "active")
    ).all()
    for folder_id, qa in rows:
        counts[folder_id][0] += 1
        counts[folder_id][1] += qa in QA_OPEN
    return {k: (v[0], v[1]) for k, v in counts.items()}


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
    pages_of = _folder_pages(session)
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
    for (created,) in session.execute(select(Page.created_at).where(Page.superseded_by_id.is_(None))):
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
        "Digitisation progress (数字化进度)",
        about(session, db_url=db_url, actor=actor, scheme=scheme, today=today),
    )
    report.sections.append(Section("summary", list(summary), [summary]))
    report.sections.append(
        Section(
            "folders",
            ["folder", "state", "records", "pages", "pages_to_check", "status"],
            [r for r in rows if r["status"] != "verified"] or [],
        )
    )
    report.sections.append(Section("pages per day", ["day", "pages"], days))
    report.findings = {
        "not_scanned": [r["folder"] for r in rows if r["status"] == "not scanned"],
        "qa_failed": [r["folder"] for r in rows if r["status"] == "QA failed"],
        "summary": summary,
    }
    report.problems = backlog + by_status["QA failed"]
    report.notes.append(
        "Only folders that are not verified are listed; 'verified' = scanned with no page "
        "waiting for QA. Projected finish assumes the folders-per-scanning-day pace of the "
        f"last {window_days} days continues on working days."
    )
    running = 0
    for d in days:
        running += d["pages"]
        report.charts.setdefault("pages_cumulative", []).append((d["day"], d["pages"], running))
    return report


# --------------------------------------------------------------------------- reconciliation


def reconciliation_report(
    session: Session, *, db_url: str, actor: str, today: date | None = None, scheme: ClassificationScheme | None = None
) -> Report:
    """Paper against electronic: each must have the other, in the same number of pages,
    in a known place."""
    today = today or date.today()
    pages_of = _folder_pages(session)
    folders = session.scalars(select(Folder).where(Folder.state != "destroyed").order_by(Folder.code)).all()
    paper_only = [
        {"folder": f.code, "state": f.state, "records": [r.number for r in f.records]}
        for f in folders
        if pages_of.get(f.id, (0, 0))[0] == 0
    ]
    scan_only = [{"record": n} for n in unshelved_records(session)]
    # The models keep no page count for a paper folder; paper is counted when a loan comes back.
    latest: dict[int, Loan] = {}
    for loan in session.scalars(select(Loan).where(Loan.returned_at.is_not(None)).order_by(Loan.id)):
        latest[loan.folder_id] = loan
    mismatches = []
    for folder_id, loan in sorted(latest.items()):
        scanned = pages_of.get(folder_id, (0, 0))[0]
        if loan.pages_back is not None and loan.pages_back != scanned:
            mismatches.append(
                {
                    "folder": loan.folder.code,
                    "paper_pages": loan.pages_back,
                    "scanned_pages": scanned,
                    "counted_on": loan.returned_at,
                    "loan": loan.id,
                }
            )
    unplaced = []
    for f in folders:
        box = f.box
        why = (
            "not in a box"
            if box is None
            else "box not on a shelf"
            if box.shelf_id is None
            else f"paper {f.state}"
            if f.state in ("missing", "misplaced")
            else None
        )
        if why:
            unplaced.append({"folder": f.code, "records": [r.number for r in f.records], "problem": why})
    late = [
        {
            "folder": loan.folder.code,
            "borrower": loan.borrower,
            "due_on": loan.due_on,
            "days_overdue": (today - loan.due_on).days,
            "loan": loan.id,
        }
        for loan in overdue_loans(session, today)
    ]
    report = Report(
        "reconciliation",
        "Paper and electronic reconciliation (纸电一致性)",
        about(session, db_url=db_url, actor=actor, scheme=scheme, today=today),
    )
    report.sections += [
        Section("paper without scan", ["folder", "state", "records"], paper_only),
        Section("scan without paper", ["record"], scan_only),
        Section("page count differs", ["folder", "paper_pages", "scanned_pages", "counted_on", "loan"], mismatches),
        Section("records without location", ["folder", "records", "problem"], unplaced),
        Section("folders on overdue loan", ["folder", "borrower", "due_on", "days_overdue", "loan"], late),
    ]
    report.findings = {
        "paper_without_scan": [r["folder"] for r in paper_only],
        "scan_without_paper": [r["record"] for r in scan_only],
        "page_count_differs": [r["folder"] for r in mismatches],
        "without_location": [r["folder"] for r in unplaced],
        "overdue_loans": [r["folder"] for r in late],
    }
    report.problems = sum(len(v) for v in report.findings.values())
    report.notes.append(
        "The database keeps no page count for a paper folder; paper pages are compared with "
        "the scan where they were counted: the page count taken when a loan came back "
        "(latest return per folder)."
    )
    return report


# --------------------------------------------------------------------------- numbering


def numbering_report(
    session: Session, *, db_url: str, actor: str, scheme: ClassificationScheme | None = None
) -> Report:
    """Gaps (serials never used and not voided), voids with their reasons, duplicates,
    numbers whose check character or parts disagree."""
    records = session.execute(
        select(
            ArchiveRecord.id,
            ArchiveRecord.number,
            ArchiveRecord.fonds,
            ArchiveRecord.category,
            ArchiveRecord.year,
            ArchiveRecord.serial,
            ArchiveRecord.status,
            ArchiveRecord.void_reason,
        ).order_by(ArchiveRecord.fonds, ArchiveRecord.year, ArchiveRecord.serial)
    ).all()
    counters = {(c.fonds, c.category, c.year): c.next_serial for c in session.scalars(select(NumberCounter))}
    used: dict[tuple, Counter] = defaultdict(Counter)
    by_number = Counter(r.number for r in records)
    bad, voids = [], []
    for r in records:
        used[(r.fonds, r.category, r.year)][r.serial] += 1
        try:
            parsed = ArchiveNumber.parse(r.number)
            if (parsed.fonds, parsed.category, parsed.year, parsed.serial) != (r.fonds, r.category, r.year, r.serial):
                bad.append(
                    {
                        "number": r.number,
                        "problem": f"number does not match its parts {r.fonds}/{r.category}/{r.year}/{r.serial}",
                    }
                )
        except InvalidArchiveNumber as e:
            bad.append({"number": r.number, "problem": str(e)})
        if r.status == "void":
            voids.append(
                {"number": r.number, "reason": r.void_reason or "", "has_reason": bool((r.void_reason or "").strip())}
            )
    gaps, duplicates, series = [], [], []
    for key in sorted(set(used) | set(counters)):
        serials = used.get(key, Counter())
        top = max([*serials, counters.get(key, 1) - 1, 0])
        missing = [s for s in range(1, top + 1) if s not in serials]
        for s in missing:
            try:
                shown = str(ArchiveNumber(key[0], key[1], key[2], s))
            except InvalidArchiveNumber:
                shown = f"{key[0]}-{key[1]}·{key[2]}-{s:06d}"
            gaps.append({"fonds": key[0], "category": key[1], "year": key[2], "serial": s, "number": shown})
        duplicates += [
            {"fonds": key[0], "category": key[1], "year": key[2], "serial": s, "times": n}
            for s, n in sorted(serials.items())
            if n > 1
        ]
        series.append(
            {
                "fonds": key[0],
                "category": key[1],
                "year": key[2],
                "used": sum(serials.values()),
                "highest": top,
                "gaps": len(missing),
            }
        )
    duplicates += [{"number": n, "times": k} for n, k in by_number.items() if k > 1]
    report = Report(
        "numbering", "Archive numbering (档号连续性)", about(session, db_url=db_url, actor=actor, scheme=scheme)
    )
    report.sections += [
        Section("series", ["fonds", "category", "year", "used", "highest", "gaps"], series),
        Section("gaps", ["number", "fonds", "year", "serial"], gaps),
        Section("voided", ["number", "reason"], voids),
        Section("duplicates", ["fonds", "category", "year", "serial", "number", "times"], duplicates),
        Section("check character fails", ["number", "problem"], bad),
    ]
    unexplained = [v for v in voids if not v["has_reason"]]
    report.findings = {
        "gaps": [g["number"] for g in gaps],
        "voided": [v["number"] for v in voids],
        "voids_without_reason": [v["number"] for v in unexplained],
        "duplicates": duplicates,
        "check_character_fails": [b["number"] for b in bad],
    }
    report.problems = len(gaps) + len(duplicates) + len(bad) + len(unexplained)
    report.notes.append("A voided number is not a gap: it is listed with its reason and never reused.")
    return report


REPORTS = {
    "completeness": completeness_report,
    "overdue": overdue_report,
    "digitisation": digitisation_report,
    "reconciliation": reconciliation_report,
    "numbering": numbering_report,
}

__all__ = [
    "REPORTS",
    "CaseCheck",
    "Report",
    "Section",
    "about",
    "check_case",
    "completeness_report",
    "digitisation_report",
    "numbering_report",
    "overdue_report",
    "reconciliation_report",
    "working_days_between",
]
