"""The auditor reports, by kind: one registry the CLI, the web app and scheduled runs share.

Every report states when, by whom, on which data and under which scheme it was made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from dangan.app.archive import Archive
from dangan.archive import events, spreadsheet
from dangan.archive.audit import reports as rp
from dangan.archive.audit.report_html import CHARTS, chart_title, render_html
from dangan.archive.audit.reports import Report, cell_text
from dangan.archive.audit.reports.base import about_lines, display_cell, status_line
from dangan.errors import NotFound
from dangan.i18n import _


def _completeness(
    s: Session,
    archive: Archive,
    kw: dict[str, Any],
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    business: str | None = None,
    department: str | None = None,
    customer: str | None = None,
    **_: Any,
) -> Report:
    return rp.completeness_report(
        s,
        archive.scheme,
        date_from=date_from,
        date_to=date_to,
        business_type=business,
        department=department,
        customer=customer,
        **kw,
    )


def _overdue(
    s: Session,
    archive: Archive,
    kw: dict[str, Any],
    *,
    as_of: date | None = None,
    holidays: Iterable[date] = (),
    workdays: Iterable[date] = (),
    business: str | None = None,
    department: str | None = None,
    customer: str | None = None,
    **_: Any,
) -> Report:
    return rp.overdue_report(
        s,
        archive.scheme,
        today=as_of,
        holidays=holidays,
        extra_workdays=workdays,
        business_type=business,
        department=department,
        customer=customer,
        **kw,
    )


def _digitisation(
    s: Session, archive: Archive, kw: dict[str, Any], *, as_of: date | None = None, window: int = 30, **_: Any
) -> Report:
    return rp.digitisation_report(s, today=as_of, window_days=window, scheme=archive.scheme, **kw)


def _reconciliation(s: Session, archive: Archive, kw: dict[str, Any], *, as_of: date | None = None, **_: Any) -> Report:
    return rp.reconciliation_report(s, today=as_of, scheme=archive.scheme, **kw)


def _numbering(s: Session, archive: Archive, kw: dict[str, Any], **_: Any) -> Report:
    return rp.numbering_report(s, scheme=archive.scheme, **kw)


def _duplicates(s: Session, archive: Archive, kw: dict[str, Any], **_: Any) -> Report:
    return rp.duplicates_report(s, scheme=archive.scheme, **kw)


# kind → how to make it; every maker takes the filters it knows and ignores the rest
REPORTS: dict[str, Callable[..., rp.Report]] = {
    "completeness": _completeness,
    "overdue": _overdue,
    "digitisation": _digitisation,
    "reconciliation": _reconciliation,
    "numbering": _numbering,
    "duplicates": _duplicates,
}
REPORT_KINDS = tuple(REPORTS)


def make_report(archive: Archive, kind: str, *, as_of: date | None = None, **filters: Any) -> rp.Report:
    """One report made now by the archive's actor. Filters: date_from, date_to, business,
    department, customer (completeness, overdue), holidays, workdays (overdue), window
    (digitisation); AS_OF is the day the report judges at."""
    maker = REPORTS.get(kind)
    if maker is None:
        raise NotFound(_("no report {kind!r}; reports: {kinds}").format(kind=kind, kinds=", ".join(REPORT_KINDS)))
    with archive.session() as s:
        return maker(s, archive, {"db_url": archive.home.db_url, "actor": archive.actor}, as_of=as_of, **filters)


def make_all(archive: Archive, *, as_of: date | None = None) -> list[rp.Report]:
    """Every report, for one signed-off document."""
    return [make_report(archive, kind, as_of=as_of) for kind in REPORT_KINDS]


def exported(archive: Archive, kinds: list[str] | tuple[str, ...], fmt: str, *, as_of: date | None = None) -> None:
    """Record that the reports KINDS left the archive as FMT (csv, html): an export event. Every
    report at once is "all" (the joined kinds outgrew the 64 characters an object id has)."""
    with archive.session() as s:
        events.record_event(
            s,
            events.EXPORT,
            archive.actor,
            "report",
            "all" if len(kinds) > 1 and set(kinds) == set(REPORT_KINDS) else ",".join(kinds),
            {"what": "report", "kinds": list(kinds), "format": fmt, "as_of": as_of.isoformat() if as_of else None},
        )


def as_html(reports: list[Report], title: str | None = None) -> str:
    """The reports as one self-contained page (inline CSS and SVG charts, no script) for A4, in
    the current language."""
    return render_html(reports, title=title)


def charts(report: Report) -> list[tuple[str, str]]:
    """(title, inline SVG) of each chart the report has data for, the title in the current language."""
    return [
        (chart_title(name), CHARTS[name](series)) for name, series in report.charts.items() if name in CHARTS and series
    ]


# CSV for people, cells a spreadsheet would run made inert (archive.spreadsheet)
csv_writer = spreadsheet.writer
CsvDictWriter = spreadsheet.DictWriter

__all__ = [
    "REPORTS",
    "REPORT_KINDS",
    "CsvDictWriter",
    "Report",
    "about_lines",
    "as_html",
    "cell_text",
    "charts",
    "csv_writer",
    "display_cell",
    "exported",
    "make_all",
    "make_report",
    "status_line",
]
