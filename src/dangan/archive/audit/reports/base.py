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
        w = spreadsheet.writer(out)
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
