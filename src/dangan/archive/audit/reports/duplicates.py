"""Near-duplicates: pages found, when they were scanned, to be the same image as an archived
page or to look and read the same (records.likeness). A folder scanned twice (a new PDF
wrapper, re-encoded, scanned again) is listed until a person decides: void the second record,
or accept its pages (both kept)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from dangan.archive.audit.reports.base import Report, Section, about
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import ArchiveRecord, Page, PageLikeness
from dangan.i18n import N_, _

TO_DECIDE = "to decide"


def duplicates_report(
    session: Session, *, db_url: str, actor: str, scheme: ClassificationScheme | None = None
) -> Report:
    """Every page found like another, between current pages of active records."""
    page, like = aliased(Page), aliased(Page)
    record, like_record = aliased(ArchiveRecord), aliased(ArchiveRecord)
    rows = session.execute(
        select(PageLikeness, page, like, record.number, like_record.number)
        .join(page, page.id == PageLikeness.page_id)
        .join(like, like.id == PageLikeness.like_page_id)
        .join(record, record.id == page.record_id)
        .join(like_record, like_record.id == like.record_id)
        .where(
            page.superseded_by_id.is_(None),
            like.superseded_by_id.is_(None),
            record.status == "active",
            like_record.status == "active",
        )
        .order_by(record.number, page.seq, like_record.number, like.seq)
    ).all()
    pairs = [
        {
            "record": number,
            "page": p.seq,
            "like_record": like_number,
            "like_page": lp.seq,
            "how": pl.how,
            "distance": pl.distance,
            "similarity": pl.similarity,
            "decision": TO_DECIDE if p.qa_status == "flagged" else p.qa_status,
        }
        for pl, p, lp, number, like_number in rows
    ]
    by_records = Counter((r["record"], r["like_record"]) for r in pairs)
    open_records = {(r["record"], r["like_record"]) for r in pairs if r["decision"] == TO_DECIDE}
    summary = [
        {"record": a, "like_record": b, "pages": n, "decided": (a, b) not in open_records}
        for (a, b), n in sorted(by_records.items())
    ]
    report = Report("duplicates", _("Near-duplicate pages"), about(session, db_url=db_url, actor=actor, scheme=scheme))
    report.sections += [
        Section(N_("records with pages like another record's"), ["record", "like_record", "pages", "decided"], summary),
        Section(
            N_("pages"),
            ["record", "page", "like_record", "like_page", "how", "distance", "similarity", "decision"],
            pairs,
        ),
    ]
    report.findings = {"pairs": pairs, "to_decide": [r for r in pairs if r["decision"] == TO_DECIDE]}
    report.problems = len(report.findings["to_decide"])
    report.notes.append(
        _(
            "Same image: the page's master has the SHA-256 of an archived page's; looks the same: the two share an "
            "account number, work order or other number, their perceptual hashes differ in few bits (distance, of "
            "64) and their OCR texts agree (similarity). A person decides: void the second record, or accept its "
            "pages to keep both."
        )
    )
    return report
