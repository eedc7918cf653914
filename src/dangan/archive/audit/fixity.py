"""Fixity (verify) and the four properties (四性检测, DA/T 70-2018).

verify: every file a row points to (master, derived, source, quarantined) must exist with
its recorded size (fast) and SHA-256 (full); every file in the store must be pointed to by a
row — or belong to a page in progress (below); the event chain must verify. A size-only pass
cannot see a flipped bit (same size), which is why the full pass runs on a schedule
(bagit-python's test_validate_flipped_bit).

Pages in progress are not problems. While a station scans, the store holds files no record
points to yet: the source and the master and derived images of pages staged in the batch
journal (OCR done, folder not yet accessioned), and for a moment the files of a page a worker is
still OCR'ing. The first are known from the journal; the second are files written in the last
hour while a batch is still open. Both are counted as `in_progress`, never as unexpected. The
store is listed *before* the rows are read, so a folder accessioned meanwhile is still seen.

Each run is stored as a `fixity check` event, so the audit trail shows when the archive was
last proven intact and what was found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.audit.reports import numbering_report
from dangan.archive.events import verify_chain
from dangan.archive.models import ArchiveRecord, Batch, Document, Page, Quarantined, SourceFile, StagedPage
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber
from dangan.archive.store import FileStore, sha256_file
from dangan.tools import ToolFailed, ToolTimeout, available
from dangan.tools.pdfinfo import PdfEncrypted, pdfinfo

HEX64 = re.compile(r"^[0-9a-f]{64}$")
IMAGE_FORMATS = {"jpg", "jpeg", "png", "tif", "tiff", "bmp", "gif", "webp", "jp2"}
KNOWN_SUFFIXES = {f".{f}" for f in IMAGE_FORMATS} | {".pdf", ".ofd"}
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # no digitised record predates the system by decades
Progress = Callable[[int, int], None]
_SLACK = timedelta(minutes=5)  # clocks of two machines differ a little
IN_FLIGHT = timedelta(hours=1)  # a page being OCR'd has its files staged well within this


@dataclass(frozen=True)
class StoredRef:
    """One file a row of the database points to."""

    kind: str  # master | derived | source | quarantine
    relpath: str
    sha256: str
    size: int | None  # None when the row does not record it (derived images)
    owner: str  # what it belongs to, for the person reading the report


@dataclass
class FixityResult:
    mode: str
    files_checked: int = 0
    bytes_checked: int = 0
    missing: list[dict] = field(default_factory=list)
    altered: list[dict] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)  # files of pages not yet accessioned: no problem
    events_checked: int = 0
    chain_problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.altered or self.unexpected or self.chain_problems)

    @property
    def problems(self) -> int:
        return len(self.missing) + len(self.altered) + len(self.unexpected) + len(self.chain_problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "ok": self.ok,
            "problems": self.problems,
            "files_checked": self.files_checked,
            "bytes_checked": self.bytes_checked,
            "missing": self.missing,
            "altered": self.altered,
            "unexpected": self.unexpected,
            "in_progress": self.in_progress,
            "events_checked": self.events_checked,
            "chain_problems": self.chain_problems,
        }


def stored_refs(session: Session) -> Iterator[StoredRef]:
    """Every file any row refers to, superseded pages and quarantined files included."""
    rows = session.execute(
        select(
            Page.id,
            Page.master_path,
            Page.master_sha256,
            Page.master_size,
            Page.derived_path,
            Page.derived_sha256,
            ArchiveRecord.number,
            Page.seq,
        )
        .join(ArchiveRecord, ArchiveRecord.id == Page.record_id)
        .order_by(Page.id)
    )
    for pid, mpath, msha, msize, dpath, dsha, number, seq in rows:
        owner = f"{number} page {seq} (id {pid})"
        yield StoredRef("master", mpath, msha, msize, owner)
        if dpath:
            yield StoredRef("derived", dpath, dsha, None, owner)
    for s in session.scalars(select(SourceFile).order_by(SourceFile.id)):
        yield StoredRef("source", s.stored_path, s.sha256, s.size, f"source {s.original_name}")
    for q in session.scalars(select(Quarantined).order_by(Quarantined.id)):
        yield StoredRef("quarantine", q.stored_path, q.sha256, None, f"quarantined {q.original_name}")


def staged_files(session: Session) -> Iterator[str]:
    """Files of pages in the batch journal (OCR'd, folder not yet accessioned): their masters,
    derived images and sources."""
    for sha, payload in session.execute(select(StagedPage.source_sha256, StagedPage.payload)):
        for key in ("master_path", "derived_path"):
            if payload.get(key):
                yield payload[key]
        for suffix in _SOURCE_SUFFIXES:
            yield f"sources/{sha[:2]}/{sha}{suffix}"


_SOURCE_SUFFIXES = (".pdf", ".tif", ".png", ".jpg")  # scanning.sources.SUFFIX: how sources are stored


def _written_by_open_batch(session: Session, store: FileStore, paths: list[str]) -> set[str]:
    """Of PATHS, those written in the last hour while a batch is still open: a page a worker is
    OCR'ing, a file a station is admitting. Anything older with no row is not in progress."""
    if not paths:
        return set()
    opened = session.scalar(select(func.min(Batch.started_at)).where(Batch.finished_at.is_(None)))
    if opened is None:
        return set()
    if opened.tzinfo is None:  # SQLite hands datetimes back naive; they were stored as UTC
        opened = opened.replace(tzinfo=UTC)
    after = max(opened - _SLACK, datetime.now(UTC) - IN_FLIGHT).timestamp()
    recent = set()
    for p in paths:
        try:
            if (store.root / p).stat().st_mtime >= after:
                recent.add(p)
        except OSError:
            continue  # gone since it was listed: a temporary file renamed into place
    return recent


def store_files(store: FileStore) -> Iterator[str]:
    """Relative paths of every file under the store (temporary files of a crashed write included)."""
    root = store.root
    if not root.exists():
        return
    for p in sorted(root.rglob("*")):
        if p.is_file():
            yield p.relative_to(root).as_posix()


def verify(
    session: Session,
    store: FileStore,
    *,
    full: bool = False,
    progress: Progress | None = None,
    record: bool = True,
    actor: str = "fixity",
) -> FixityResult:
    """Check the store against the database (and the event chain). FULL re-hashes every file."""
    result = FixityResult("full" if full else "fast")
    listed = list(store_files(store))  # first: a folder accessioned from here on is in the rows below
    staged = set(staged_files(session))
    refs = list(stored_refs(session))
    referenced: set[str] = set()
    for i, ref in enumerate(refs, 1):
        if ref.relpath in referenced:  # the same bytes shared by two rows: check once
            continue
        referenced.add(ref.relpath)
        path = store.root / ref.relpath
        result.files_checked += 1
        if not path.is_file():
            result.missing.append({"kind": ref.kind, "path": ref.relpath, "of": ref.owner})
            continue
        size = path.stat().st_size
        if ref.size is not None and size != ref.size:
            result.altered.append(
                {
                    "kind": ref.kind,
                    "path": ref.relpath,
                    "of": ref.owner,
                    "problem": f"size {size} bytes, recorded {ref.size}",
                }
            )
            continue
        if full:
            result.bytes_checked += size
            actual = sha256_file(path)
            if actual != ref.sha256:
                result.altered.append(
                    {
                        "kind": ref.kind,
                        "path": ref.relpath,
                        "of": ref.owner,
                        "problem": f"SHA-256 {actual[:12]}…, recorded {ref.sha256[:12]}…",
                    }
                )
        if progress:
            progress(i, len(refs))
    unreferenced = [p for p in listed if p not in referenced]
    recent = _written_by_open_batch(session, store, unreferenced)
    result.in_progress = [p for p in unreferenced if p in staged or p in recent]
    result.unexpected = [p for p in unreferenced if p not in staged and p not in recent]
    checked, chain = verify_chain(session)
    result.events_checked = checked
    result.chain_problems = [{"seq": p.seq, "problem": p.problem} for p in chain]
    if record:
        record_fixity_event(session, result, actor)
    return result


def record_fixity_event(session: Session, result: FixityResult, actor: str, limit: int = 200) -> None:
    """Store the outcome as a PREMIS 'fixity check' event (long lists cut to LIMIT, counts kept)."""
    detail = {
        "mode": result.mode,
        "outcome": "pass" if result.ok else "fail",
        "files_checked": result.files_checked,
        "bytes_checked": result.bytes_checked,
        "events_checked": result.events_checked,
        "counts": {
            "missing": len(result.missing),
            "altered": len(result.altered),
            "unexpected": len(result.unexpected),
            "chain_problems": len(result.chain_problems),
        },
        "missing": [m["path"] for m in result.missing[:limit]],
        "altered": [a["path"] for a in result.altered[:limit]],
        "unexpected": result.unexpected[:limit],
        "in_progress": len(result.in_progress),
        "chain_problems": [p["seq"] for p in result.chain_problems[:limit]],
    }
    events.record_event(session, events.FIXITY_CHECK, actor, "archive", "store", detail)


# --------------------------------------------------------------------------- format validation


def validate_format(path: Path, expected: str | None = None) -> str | None:
    """None if the file opens and decodes as what it claims to be; else the reason."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _check_pdf(path)
    if suffix == ".ofd":
        return _check_ofd(path)
    if suffix.lstrip(".") in IMAGE_FORMATS:
        from PIL import Image

        try:
            with Image.open(path) as im:
                fmt = (im.format or "").lower()
                im.verify()
            with Image.open(path) as im:  # verify() does not decode pixels; load() does
                im.load()
        except Exception as e:  # noqa: BLE001 - Pillow raises many kinds; any of them means unusable
            return f"image does not decode: {e}"
        want = (expected or suffix.lstrip(".")).lower().replace("jpeg", "jpg").replace("tiff", "tif")
        got = fmt.replace("jpeg", "jpg").replace("tiff", "tif")
        if got and want in IMAGE_FORMATS and got != want:
            return f"file is {got.upper()} but recorded as {want.upper()}"
        return None
    return f"unknown file type {suffix or '(no suffix)'}"


def _check_ofd(path: Path) -> str | None:
    """An OFD (GB/T 33190) is a ZIP with OFD.xml at its root; every part must decompress to
    the checksum its ZIP entry records."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            if not any(n.lstrip("/").lower() == "ofd.xml" for n in z.namelist()):
                return "not an OFD (no OFD.xml in the package)"
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        return f"OFD package does not open: {e}"
    return f"OFD part {bad} is damaged" if bad else None


def _check_pdf(path: Path) -> str | None:
    with open(path, "rb") as f:
        if not f.read(5).startswith(b"%PDF"):
            return "not a PDF (no %PDF header)"
    if not available("pdfinfo"):
        return None  # header checked; poppler not installed to look deeper
    try:
        pdfinfo(path, timeout=60)
    except PdfEncrypted:
        return "PDF is encrypted"
    except ToolTimeout:
        return "pdfinfo did not finish in 60 s"
    except ToolFailed as e:
        return f"PDF does not open: {e.detail}"
    return None


# --------------------------------------------------------------------------- 四性


@dataclass
class PropertyResult:
    name: str
    chinese: str
    checked: int = 0
    failures: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, check: str, what: str, problem: str) -> None:
        self.failures.append({"check": check, "what": what, "problem": problem})

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "chinese": self.chinese,
            "ok": self.ok,
            "checked": self.checked,
            "failures": self.failures,
            "notes": self.notes,
        }


@dataclass
class FourPropertiesResult:
    properties: list[PropertyResult]
    fixity: FixityResult

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.properties)

    @property
    def problems(self) -> int:
        return sum(len(p.failures) for p in self.properties)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "properties": [p.as_dict() for p in self.properties],
        }


def check_four_properties(
    session: Session, store: FileStore, *, actor: str = "fixity", progress: Progress | None = None
) -> FourPropertiesResult:
    """One pass over the archive: authenticity, integrity, usability, security (DA/T 70)."""

    authenticity = PropertyResult("authenticity", "真实性")
    integrity = PropertyResult("integrity", "完整性")
    usability = PropertyResult("usability", "可用性")
    security = PropertyResult("security", "安全性")
    fixity = verify(session, store, full=True, record=False, actor=actor, progress=progress)

    # 真实性: content equals what was recorded; the log was not rewritten; metadata in range.
    authenticity.checked += fixity.files_checked + fixity.events_checked
    for a in fixity.altered:
        authenticity.fail("fixity", a["path"], f"{a['of']}: {a['problem']}")
    for c in fixity.chain_problems:
        authenticity.fail("event chain", f"event #{c['seq']}", c["problem"])
    now = datetime.now(UTC)
    for p in session.scalars(select(Page).order_by(Page.id)):
        authenticity.checked += 1
        what = f"page {p.id}"
        if p.dpi <= 0:
            authenticity.fail("metadata range", what, f"dpi is {p.dpi}; must be above 0")
        if p.width <= 0 or p.height <= 0:
            authenticity.fail("metadata range", what, f"size {p.width}×{p.height} px")
        if not HEX64.match(p.master_sha256 or ""):
            authenticity.fail("metadata format", what, "master SHA-256 is not 64 hex digits")
        if p.derived_path and not HEX64.match(p.derived_sha256 or ""):
            authenticity.fail("metadata format", what, "derived SHA-256 is not 64 hex digits")
        if not _sane(p.created_at, now):
            authenticity.fail("metadata range", what, f"created {p.created_at}: not a plausible date")
        if p.ocr_confidence is not None and not 0 <= p.ocr_confidence <= 100:
            authenticity.fail("metadata range", what, f"OCR confidence {p.ocr_confidence} outside 0-100")
    for r in session.scalars(select(ArchiveRecord).order_by(ArchiveRecord.id)):
        authenticity.checked += 1
        try:
            ArchiveNumber.parse(r.number)
        except InvalidArchiveNumber as e:
            authenticity.fail("archive number", r.number, str(e))
        if not _sane(r.created_at, now):
            authenticity.fail("metadata range", r.number, f"accessioned {r.created_at}: not a plausible date")

    # 完整性: every recorded file present, numbers continuous, every record has its content.
    integrity.checked += fixity.files_checked
    for m in fixity.missing:
        integrity.fail("file present", m["path"], f"{m['kind']} of {m['of']} is missing")
    numbering = numbering_report(session, db_url="", actor=actor)
    for n in numbering.findings["gaps"]:
        integrity.fail("numbering", n, "serial never used and not voided")
    for n in numbering.findings["voids_without_reason"]:
        integrity.fail("numbering", n, "voided without a reason")
    for d in numbering.findings["duplicates"]:
        integrity.fail("numbering", str(d.get("number") or d.get("serial")), "number used more than once")
    rows = session.execute(
        select(
            ArchiveRecord.number,
            ArchiveRecord.fonds,
            ArchiveRecord.title,
            select(Page.id).where(Page.record_id == ArchiveRecord.id).limit(1).scalar_subquery(),
            select(Document.id).where(Document.record_id == ArchiveRecord.id).limit(1).scalar_subquery(),
        ).where(ArchiveRecord.status == "active")
    ).all()
    for number, fonds, title, any_page, any_doc in rows:
        integrity.checked += 1
        if any_page is None:
            integrity.fail("content", number, "active record has no page")
        if any_doc is None:
            integrity.fail("content", number, "active record has no document")
        if not fonds:
            integrity.fail("metadata present", number, "fonds code is empty")

    # 可用性: every file opens and decodes as its recorded format; no encryption.
    formats = {p.master_path: p.master_format for p in session.scalars(select(Page))}
    seen: set[str] = set()
    for ref in stored_refs(session):
        if ref.relpath in seen or ref.kind == "quarantine":  # quarantined files are kept because unusable
            continue
        seen.add(ref.relpath)
        path = store.root / ref.relpath
        if not path.is_file():
            continue  # reported under integrity
        usability.checked += 1
        problem = validate_format(path, formats.get(ref.relpath) if ref.kind == "master" else None)
        if problem:
            usability.fail("format", ref.relpath, f"{ref.kind} of {ref.owner}: {problem}")

    # 安全性: nothing in the store that is not archival; no unknown or encrypted files.
    security.checked += len(seen) + len(fixity.unexpected)
    for path in fixity.unexpected:
        security.fail("non-archival file", path, "file in the store that no record refers to")
        if Path(path).suffix.lower() not in KNOWN_SUFFIXES:
            security.fail(
                "unknown file type", path, f"suffix {Path(path).suffix or '(none)'} is not an archival format"
            )
    for f in usability.failures:
        if "encrypted" in f["problem"]:
            security.fail("encryption", f["what"], "encrypted content cannot be preserved or checked")
    if not available("clamscan"):
        security.notes.append("no virus scanner (clamscan) installed: malicious-code scan not run")

    result = FourPropertiesResult([authenticity, integrity, usability, security], fixity)
    events.record_event(
        session,
        events.FIXITY_CHECK,
        actor,
        "archive",
        "four-properties",
        {
            "mode": "four properties (DA/T 70-2018)",
            "outcome": "pass" if result.ok else "fail",
            **{p.name: {"ok": p.ok, "checked": p.checked, "failures": len(p.failures)} for p in result.properties},
        },
    )
    return result


def _sane(value: datetime | None, now: datetime) -> bool:
    if value is None:
        return False
    if value.tzinfo is None:  # SQLite hands datetimes back naive; they were stored as UTC
        value = value.replace(tzinfo=UTC)
    return EARLIEST <= value <= now.replace(microsecond=0) + _SLACK


__all__ = [
    "FixityResult",
    "FourPropertiesResult",
    "PropertyResult",
    "StoredRef",
    "check_four_properties",
    "record_fixity_event",
    "stored_refs",
    "validate_format",
    "verify",
]
