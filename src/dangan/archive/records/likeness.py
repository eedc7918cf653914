"""Near-duplicates: a page being archived that is the same image as an archived page, or that
looks the same and says the same (the same folder in a new PDF wrapper, re-encoded, or
scanned again). Found when the page is accessioned, flagged for a person, listed in the
`duplicates` report; a person decides (void the second record, or accept the page).

How a match is found, so it stays an index lookup at millions of pages:
- same image: the master's SHA-256 (indexed) equals an archived page's;
- looks the same: the pages share a content key (a 户号, work order, ID or other long
  number read on them; page_key, indexed), their perceptual hashes differ in at most
  MAX_DISTANCE of 64 bits, their OCR texts agree to MIN_SIMILARITY, and no field read
  validly on both disagrees. The perceptual hash alone cannot decide: two customers'
  copies of one printed form hash within a few bits of each other (measured: ID-card
  copies 0–2 bits apart), while the same sheet scanned again differs by 2–6 bits; the
  text then tells them apart (0.97–0.98 for the same sheet, 0.77 for another customer's
  form, 0.94 for the same customer's next application, whose work order differs).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.models import ArchiveRecord, Page, PageKey, PageLikeness
from dangan.archive.records.page_fields import DOCUMENT_DATE_FIELDS, KEY_FIELDS, valid_value
from dangan.archive.records.paper_pages import is_cover_fields
from dangan.i18n import N_, kept, render

SAME_IMAGE, LOOKS_SAME = "same_image", "looks_same"
MAX_DISTANCE = 10
MIN_SIMILARITY = 0.9
MIN_TEXT = 30  # characters: a page with less text cannot confirm a likeness
MAX_KEYS = 12
LONG_NUMBER = re.compile(r"(?<!\d)\d{8,20}(?!\d)")
FLAG = "duplicate"


@dataclass(frozen=True)
class Likeness:
    page_id: int
    record: str  # the archive number of the page it is like
    seq: int
    how: str  # SAME_IMAGE | LOOKS_SAME
    distance: int
    similarity: float

    @property
    def where(self) -> str:
        return f"{self.record}/{self.seq}"


def content_keys(fields: dict | None, text: str) -> list[str]:
    """What identifies the page's content: identifiers read validly, and every long number."""
    found = {v for name in KEY_FIELDS if (v := valid_value(fields, name))}
    found |= set(LONG_NUMBER.findall(text or ""))
    return sorted(k[:64] for k in found)[:MAX_KEYS]


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def text_similarity(a: str, b: str) -> float:
    a, b = "".join((a or "").split()), "".join((b or "").split())
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a[:3000], b[:3000], autojunk=False).ratio()


def _fields_agree(a: dict | None, b: dict | None) -> bool:
    """No identifier or document date read validly on both pages has two different values
    (another work order, another date: the customer's next case, not the same sheet)."""
    for name in KEY_FIELDS + DOCUMENT_DATE_FIELDS:
        va, vb = valid_value(a, name), valid_value(b, name)
        if va and vb and va != vb:
            return False
    return True


def find_likenesses(
    session: Session,
    *,
    sha256: str,
    phash: str,
    text: str,
    fields: dict | None,
    blank: bool,
    exclude_record_id: int | None,
) -> list[Likeness]:
    """Current pages of other active records that this page duplicates, surest first. Blank
    pages and cover sheets are like each other by nature, and are never compared."""
    if blank or is_cover_fields(fields):
        return []
    base = (
        select(Page.id, Page.seq, Page.phash, Page.text, Page.fields, ArchiveRecord.number)
        .join(ArchiveRecord, ArchiveRecord.id == Page.record_id)
        .where(
            Page.superseded_by_id.is_(None),
            Page.is_cover.is_(False),
            Page.is_blank.is_(False),
            ArchiveRecord.status == "active",
        )
    )
    if exclude_record_id is not None:
        base = base.where(Page.record_id != exclude_record_id)
    found: dict[int, Likeness] = {}
    for pid, seq, _ph, _text, _fields, number in session.execute(base.where(Page.master_sha256 == sha256)):
        found[pid] = Likeness(pid, number, seq, SAME_IMAGE, 0, 1.0)
    keys = content_keys(fields, text)
    if phash and keys and len("".join((text or "").split())) >= MIN_TEXT:
        near = base.where(Page.id.in_(select(PageKey.page_id).where(PageKey.key.in_(keys)))).limit(200)
        for pid, seq, ph, other_text, other_fields, number in session.execute(near):
            if pid in found or not ph:
                continue
            distance = hamming(phash, ph)
            if distance > MAX_DISTANCE or not _fields_agree(fields, other_fields):
                continue
            similarity = text_similarity(text, other_text)
            if similarity >= MIN_SIMILARITY:
                found[pid] = Likeness(pid, number, seq, LOOKS_SAME, distance, round(similarity, 3))
    return sorted(found.values(), key=lambda x: (x.how != SAME_IMAGE, x.distance, -x.similarity, x.page_id))


def likeness_flag(likes: list[Likeness], number: str) -> dict:
    """The flag that sends the page to a person, saying what it is like and what to do."""
    first = likes[0]
    what = kept(
        N_("This page is the same image as page {where}")
        if first.how == SAME_IMAGE
        else N_("This page looks and reads the same as page {where}"),
        where=first.where,
    )
    message = kept(
        N_(
            "{what}{more}: if the folder was scanned twice, void {number} (`dangan void {number} --reason …`); "
            "if both are needed, accept this page."
        ),
        what=what,
        more=kept(N_(" (and {n} more)"), n=len(likes) - 1) if len(likes) > 1 else "",
        number=number,
    )
    return {"code": FLAG, "severity": "warn", "message": render(message)} | message


def remember(session: Session, page: Page, likes: Iterable[Likeness]) -> None:
    """Store the page's content keys (for pages scanned later) and what it was found like."""
    for key in content_keys(page.fields, page.text):
        session.add(PageKey(page_id=page.id, key=key))
    for like in likes:
        session.add(
            PageLikeness(
                page_id=page.id,
                like_page_id=like.page_id,
                how=like.how,
                distance=like.distance,
                similarity=like.similarity,
            )
        )


def records_like(session: Session, record_id: int) -> list[str]:
    """The numbers of the active records whose pages the record's current pages were found like."""
    like = select(PageLikeness.like_page_id).join(Page, Page.id == PageLikeness.page_id)
    like = like.where(Page.record_id == record_id, Page.superseded_by_id.is_(None))
    q = (
        select(ArchiveRecord.number)
        .join(Page, Page.record_id == ArchiveRecord.id)
        .where(Page.id.in_(like), ArchiveRecord.status == "active")
        .distinct()
    )
    return sorted(session.scalars(q))


__all__ = [
    "FLAG",
    "LOOKS_SAME",
    "SAME_IMAGE",
    "Likeness",
    "content_keys",
    "find_likenesses",
    "hamming",
    "likeness_flag",
    "records_like",
    "remember",
    "text_similarity",
]
