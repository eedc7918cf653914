"""Auditor reports: completeness, overdue collection, digitisation, reconciliation, numbering,
near-duplicates.

Each report is plain data (Report): what it says about which data, sections of rows a
person reads, findings a program reads, and a problem count (non-zero means the auditor
has something to chase). Formatting (terminal, CSV, JSON, HTML) lives elsewhere; nothing
here prints.

Every report states when it was made, by whom, on which database (password hidden), with
which counts and under which scheme version, so a printed copy can be signed off.
"""

from dangan.archive.audit.reports.base import Report, Section, about, cell_text
from dangan.archive.audit.reports.completeness import CaseCheck, check_case, completeness_report
from dangan.archive.audit.reports.digitisation import digitisation_report
from dangan.archive.audit.reports.duplicates import duplicates_report
from dangan.archive.audit.reports.numbering import numbering_report
from dangan.archive.audit.reports.overdue import overdue_report, working_days_between
from dangan.archive.audit.reports.reconciliation import reconciliation_report

__all__ = [
    "CaseCheck",
    "Report",
    "Section",
    "about",
    "cell_text",
    "check_case",
    "completeness_report",
    "digitisation_report",
    "duplicates_report",
    "numbering_report",
    "overdue_report",
    "reconciliation_report",
    "working_days_between",
]
