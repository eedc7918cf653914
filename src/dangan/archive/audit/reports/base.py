"""The report object every auditor report is (sections of rows, problems, charts, about: when, by
whom, on which data, under which scheme), as CSV, and what the reports share."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dangan.archive import spreadsheet
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.home import redact_url
from dangan.archive.models import (
    ArchiveRecord,
    BusinessCase,
    Document,
    Event,
    Folder,
    FolderRecord,
    Page,
    utcnow,
)
from dangan.archive.records.paper_pages import CURRENT, PAPER_PAGE
from dangan.i18n import N_, _, current_language, format_date, ngettext

NONE = "(none)"
QA_OPEN = ("flagged", "rescan")  # pages a person still has to deal with

# Column keys stay English (JSON, the CSV header row: scripts read them); people read these headings.
COLUMNS: dict[str, str] = {
    "work_order": N_("work order"),
    "business_type": N_("business type"),
    "business_name": N_("business"),
    "department": N_("department"),
    "month": N_("month"),
    "fonds": N_("fonds"),
    "customer": N_("account number"),
    "records": N_("archive records"),
    "record": N_("archive record"),
    "variant": N_("variant"),
    "ok": N_("complete"),
    "missing": N_("missing documents"),
    "invalid_fields": N_("invalid fields"),
    "unmet_preconditions": N_("unmet preconditions"),
    "other": N_("other problems"),
    "warnings": N_("warnings"),
    "cases": N_("business cases"),
    "complete": N_("complete"),
    "incomplete": N_("incomplete"),
    "percent_complete": N_("% complete"),
    "folder": N_("folder"),
    "folders": N_("folders"),
    "state": N_("paper state"),
    "pages": N_("pages"),
    "pages_to_check": N_("pages to check"),
    "status": N_("status"),
    "scanned": N_("scanned"),
    "not_scanned": N_("not scanned"),
    "qa_failed": N_("QA failed"),
    "verified": N_("verified"),
    "folders_per_scanning_day": N_("folders per scanning day"),
    "projected_finish": N_("projected finish"),
    "day": N_("day"),
    "page": N_("page"),
    "like_record": N_("like record"),
    "like_page": N_("like page"),
    "how": N_("how alike"),
    "distance": N_("distance"),
    "similarity": N_("similarity"),
    "decision": N_("decision"),
    "decided": N_("decided"),
    "category": N_("category"),
    "year": N_("year"),
    "used": N_("used"),
    "highest": N_("highest"),
    "gaps": N_("gaps"),
    "serial": N_("serial"),
    "number": N_("archive number"),
    "times": N_("times"),
    "reason": N_("reason"),
    "problem": N_("problem"),
    "case_status": N_("case status"),
    "stage": N_("stage"),
    "stage_done": N_("stage done"),
    "due": N_("due date"),
    "working_days_late": N_("working days late"),
    "item": N_("item"),
    "doc_type": N_("document type"),
    "title": N_("title"),
    "paper_pages": N_("paper pages"),
    "scanned_pages": N_("scanned pages"),
    "counted_on": N_("counted on"),
    "loan": N_("loan"),
    "borrower": N_("borrower"),
    "due_on": N_("due on"),
    "days_overdue": N_("days overdue"),
}

# Codes a report keeps in its rows (JSON, CSV) and shows by name.
VALUES: dict[str, dict[str, str]] = {
    "status": {"not scanned": N_("not scanned"), "QA failed": N_("QA failed"), "verified": N_("verified")},
    "decision": {
        "to decide": N_("to decide"),
        "ok": N_("ok"),
        "accepted": N_("accepted"),
        "rescanned": N_("rescanned"),
        "flagged": N_("to check"),
    },
    "how": {"same_image": N_("same image"), "looks_same": N_("looks the same")},
    "state": {
        "in_place": N_("in place"),
        "in_handover": N_("in handover"),
        "out_for_digitisation": N_("out for digitisation"),
        "on_loan": N_("on loan"),
        "misplaced": N_("misplaced"),
        "missing": N_("missing"),  # a paper folder not found
        "destroyed": N_("destroyed"),
    },
    "case_status": {"open": N_("open"), "closed": N_("closed")},
    "projected_finish": {
        "done": N_("done"),
        "unknown: nothing scanned in the window": N_("unknown: nothing scanned in the window"),
    },
}

ABOUT_COUNTS = {
    "records": N_("archive records"),
    "active_records": N_("active records"),
    "pages": N_("pages"),
    "business_cases": N_("business cases"),
    "folders": N_("folders"),
    "events": N_("events"),
}
CODE_NAMES = {"business_type": "business_name", "doc_type": "doc_type_name"}  # column → the row's name for it


# --------------------------------------------------------------------------- the report object


@dataclass
class Section:
    name: str  # English, marked with N_(): a key in JSON and CSV, shown translated (title)
    columns: list[str]
    rows: list[dict[str, Any]]

    @property
    def title(self) -> str:
        return _(self.name)

    @property
    def headings(self) -> list[str]:
        return [column_label(c) for c in self.columns]


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
        w = spreadsheet.writer(out)
        w.writerow([f"# {self.title}"])  # the title in the report's language; keys below stay English
        for key, value in self.about.items():
            w.writerow([f"# {key}", cell_text(value)])
        for s in self.sections:
            w.writerow([])
            w.writerow([f"## {s.name}"])
            w.writerow(s.columns)
            for row in s.rows:
                w.writerow([cell_text(row.get(c)) for c in s.columns])
        return out.getvalue()


def column_label(column: str) -> str:
    """A column's heading in the current language (its key, spaced, when it has none)."""
    return _(COLUMNS[column]) if column in COLUMNS else column.replace("_", " ")


def display_cell(column: str, value: Any, row: dict[str, Any] | None = None) -> list[str]:
    """A cell as people read it, one string per line: codes by name (the business type's name
    before its code), yes/no, dates as in tables (2023-07-29), "(none)" in words."""
    if isinstance(value, (list, tuple)):
        return [line for v in value for line in display_cell(column, v, row)]
    if isinstance(value, bool):
        return [_("yes") if value else _("no")]
    if value is None or value == "":
        return [""]
    if value == NONE:
        return [_("(none)")]
    if hasattr(value, "isoformat"):
        return [format_date(value, table=True)]
    name = (row or {}).get(CODE_NAMES.get(column, ""), "")
    if name:
        return [f"{name} {value}"]
    words = VALUES.get(column, {}).get(value) if isinstance(value, str) else None
    return [_(words) if words else cell_text(value)]


def about_lines(about: dict[str, Any]) -> list[tuple[str, str]]:
    """The "about" block of a report, (label, value) in the current language."""
    counts = about.get("counts") or {}
    comma = "，" if current_language() == "zh_CN" else ", "
    data = comma.join(" ".join((_(ABOUT_COUNTS.get(k, k)), str(v))) for k, v in counts.items())
    filters = about.get("filters") or {}
    return [
        (_("generated"), format_date(about.get("generated_at"))),
        (_("as of"), format_date(about.get("as_of"))),
        (_("by"), cell_text(about.get("actor"))),
        (_("database"), cell_text(about.get("database"))),
        (_("data"), data),
        (_("scheme version"), cell_text(about.get("scheme") or about.get("scheme_version"))),
        (_("scheme file"), cell_text(about.get("scheme_file"))),
        (_("filters"), cell_text(filters) if filters else _("none")),
    ]


def status_line(report: Report) -> str:
    """ "No problems found" or "N problems found", in the current language."""
    if report.ok:
        return _("No problems found")
    return ngettext("{n} problem found", "{n} problems found", report.problems).format(n=report.problems)


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
        "scheme_sha256": scheme.sha256 if scheme else None,  # changes with every edit of the file
        "scheme": scheme.label if scheme else None,
        "scheme_file": scheme.source if scheme else None,
        "filters": {k: v for k, v in (filters or {}).items() if v not in (None, "", ())},
        "counts": {
            "records": count(select(func.count(ArchiveRecord.id))),
            "active_records": count(select(func.count(ArchiveRecord.id)).where(ArchiveRecord.status == "active")),
            "pages": count(select(func.count(Page.id)).where(*PAPER_PAGE)),
            "business_cases": count(select(func.count(BusinessCase.id))),
            "folders": count(select(func.count(Folder.id))),
            "events": count(select(func.count(Event.id))),
        },
    }


def folder_pages(session: Session) -> dict[int, tuple[int, int]]:
    """folder id → (pages of the paper, pages with open QA) over the folder's active records.
    Pages of the paper as records.paper_pages counts them (an electronic original has no sheet
    in the folder); a cover sheet flagged for a person still has its QA open."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    rows = session.execute(
        select(FolderRecord.folder_id, Page.qa_status, Page.is_cover, Page.is_blank, Document.origin)
        .join(ArchiveRecord, ArchiveRecord.id == FolderRecord.record_id)
        .join(Page, Page.record_id == ArchiveRecord.id)
        .join(Document, Document.id == Page.document_id)
        .where(CURRENT, ArchiveRecord.status == "active")
    ).all()
    for folder_id, qa, cover, blank, origin in rows:
        counts[folder_id][0] += not (cover or blank) and origin != "electronic"
        counts[folder_id][1] += qa in QA_OPEN
    return {k: (v[0], v[1]) for k, v in counts.items()}
