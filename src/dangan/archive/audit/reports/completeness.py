"""Completeness: every business case against the scheme's rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dangan.archive.audit.reports.base import NONE, Report, Section, about
from dangan.archive.business.completeness import CompletenessResult, evaluate_completeness
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import (
    AccountAlias,
    ArchiveRecord,
    BusinessCase,
)
from dangan.i18n import N_, _

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
        return CaseCheck(case, records, business_type, None, (_("no active archive record for this case"),))
    if not business_type:
        return CaseCheck(case, records, business_type, None, (_("no business type: reclassify the record"),))
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


def cases_in_scope(
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
    checks = cases_in_scope(
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
            "work_order": c.case.work_order or _("case #{id}").format(id=c.case.id),
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
        _("Completeness of business cases"),
        about(session, db_url=db_url, actor=actor, scheme=scheme, filters=filters),
    )
    report.sections.append(
        Section(
            N_("cases"),
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
        ("business_type", N_("by business type")),
        ("department", N_("by department")),
        ("month", N_("by month")),
        ("fonds", N_("by fonds")),
    ):
        report.sections.append(
            Section(label, [key, "cases", "complete", "incomplete", "percent_complete"], _summary(rows, key, names))
        )
    report.findings = {"incomplete_cases": findings}
    report.problems = len(findings)
    report.charts["completeness_by_business_type"] = [
        (f"{names.get(s['business_type'], '')} {s['business_type']}".strip(), s["complete"], s["incomplete"])
        for s in report.section("by business type").rows
    ]
    return report


def _summary(rows: list[dict], key: str, names: dict[str, str]) -> list[dict]:
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
        | ({"business_name": names.get(k, "")} if key == "business_type" else {})
        for k in sorted(total)
    ]
