"""Numbering: gaps, voids, duplicates, check characters."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.audit.reports.base import Report, Section, about
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import (
    ArchiveRecord,
    NumberCounter,
)
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber
from dangan.i18n import N_, _

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
                        "problem": _("number does not match its parts {parts}").format(
                            parts=f"{r.fonds}/{r.category}/{r.year}/{r.serial}"
                        ),
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
    report = Report("numbering", _("Archive numbering"), about(session, db_url=db_url, actor=actor, scheme=scheme))
    report.sections += [
        Section(N_("series"), ["fonds", "category", "year", "used", "highest", "gaps"], series),
        Section(N_("gaps"), ["number", "fonds", "year", "serial"], gaps),
        Section(N_("voided"), ["number", "reason"], voids),
        Section(N_("duplicates"), ["fonds", "category", "year", "serial", "number", "times"], duplicates),
        Section(N_("check character fails"), ["number", "problem"], bad),
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
    report.notes.append(_("A voided number is not a gap: it is listed with its reason and never reused."))
    return report
