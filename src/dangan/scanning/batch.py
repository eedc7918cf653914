"""A scan batch, start to finish: the one place that walks files through the page pipeline.

    discover files → check each (quarantine what we cannot take) → keep the source bytes
    → pages in a process pool: read one page → store master → run_pipeline → store derived
    → per file: split into customer folders at cover sheets (or by the batch manifest)
    → per folder: split into documents → accession (record + number + pages + events; all the
      folders of one file in one transaction) → index outbox drained by the single index writer

Nothing is lost on a crash or Ctrl-C: a folder is committed whole or not at all, files are
content-addressed, and a rerun skips what is already in the archive.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path

import cv2
from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import events
from dangan.archive.business.collection import CASE_LINK, propose_links
from dangan.archive.business.scheme import load_scheme
from dangan.archive.db import Database
from dangan.archive.models import ArchiveRecord, Batch, BusinessCase, CaseLink, Page, Quarantined, SourceFile, utcnow
from dangan.archive.records.accession import (
    FolderIntake,
    IntakeDocument,
    IntakePage,
    accession_folder,
    already_accessioned,
    fields_summary,
)
from dangan.archive.records.staging import (
    StagedSummary,
    clear_staged,
    stage_page,
    staged_numbers,
    staged_pages,
    staged_summaries,
)
from dangan.archive.store import FileStore, sha256_file
from dangan.scanning.covers import CoverCode, CoverCodeError, Manifest, ManifestRow, cover_of, parse_cover_payload
from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.pipeline import run_pipeline
from dangan.scanning.sources import SUFFIX, RejectedFile, SourceInfo, inspect, read_page
from dangan.scanning.split import is_cover, split_at_covers, split_documents


@dataclass(frozen=True)
class ScanOptions:
    fonds: str = "GD01"
    actor: str = "operator"
    jobs: int = max(1, os.cpu_count() or 1)
    label: str = ""
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError("--jobs must be at least 1")


@dataclass
class FolderResult:
    source: str
    status: str  # accessioned | skipped | quarantined
    number: str = ""
    pages: int = 0
    documents: int = 0
    flagged: int = 0
    reason: str = ""
    # where the folder lies in the file (a file split at cover sheets or by a manifest holds several)
    first_page: int = 0
    last_page: int = 0
    link: str = ""  # what a cover or manifest row linked it to, e.g. "work order 2024031500001234"


@dataclass
class BatchReport:
    batch_id: int
    folders: list[FolderResult]
    pages: int
    seconds: float

    @property
    def pages_per_minute(self) -> float:
        return 60 * self.pages / self.seconds if self.seconds else 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.folders if f.status == status)


Progress = Callable[[int, int], None]  # (pages done, pages in the batch)
# Where pages are processed: this machine's process pool by default, or a task queue.
# A runner takes (page tasks, jobs) and yields (task, IntakePage) as pages finish.


def discover(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files to scan, in a stable order; folders are walked, hidden files skipped."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and not f.name.startswith(".")
                    and not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        elif p.exists():
            found.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return found


@dataclass(frozen=True)
class PageTask:
    info: SourceInfo
    page_no: int
    store_root: str
    options: PipelineOptions
    source_sha256: str = ""  # which folder of the batch the page belongs to


def process_page(task: PageTask) -> IntakePage:
    """Worker: one page from file to IntakePage. Runs in a pool process."""
    store = FileStore(task.store_root)
    raw = read_page(task.info, task.page_no)
    master = store.put_bytes("masters", raw.master, raw.master_suffix)
    page = PageState(
        source=task.info.path, page_no=task.page_no, image=raw.image, dpi=raw.dpi, master_sha256=master.sha256
    )
    page = run_pipeline(page, task.options)
    derived = store.put_bytes("derived", encode_derived(page), ".jpg")
    h, w = page.image.shape[:2]
    return IntakePage(
        source_page=task.page_no,
        master_path=master.relpath,
        master_sha256=master.sha256,
        master_size=master.size,
        master_format=raw.master_suffix.lstrip("."),
        derived_path=derived.relpath,
        derived_sha256=derived.sha256,
        width=w,
        height=h,
        dpi=page.dpi,
        rotation=page.rotation,
        skew=round(page.skew, 2),
        is_blank=page.is_blank,
        is_colour=page.is_colour,
        has_seal=page.has_seal,
        text=page.text,
        words=[[wd.text, wd.left, wd.top, wd.width, wd.height, round(wd.conf, 1), wd.line] for wd in page.words],
        ocr_confidence=page.confidence,
        ocr_engine=page.ocr_engine,
        metrics={k: round(float(v), 4) for k, v in page.metrics.items()},
        flags=[{"code": f.code, "severity": f.severity, "message": f.message} for f in page.flags],
        fields={k: _jsonable(v) for k, v in page.fields.items()},
        doc_type=page.doc_type,
        doc_type_score=round(page.doc_type_score, 3),
        title=_title_line(page.text),
    )


def encode_derived(page: PageState) -> bytes:
    """The viewing copy: upright, deskewed, cropped; colour only where the page has colour."""
    img = page.image if page.is_colour else cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError("could not encode the derived page image")
    return buf.tobytes()


def _title_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def _jsonable(value):
    """Field proposals are dataclasses or dicts; the database keeps plain JSON."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value):
        value = asdict(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass
class _Folder:
    """A file in flight: its pages arrive out of order from the pool and are staged."""

    path: Path
    sha256: str
    info: SourceInfo
    stored_path: str
    staged: set[int] = field(default_factory=set)
    rows: list[ManifestRow] | None = None  # the batch manifest's folders in this file, if it names it
    failed: str = ""  # why a page of it could not be processed: the file is quarantined

    @property
    def complete(self) -> bool:
        return len(self.staged) == self.info.page_count


def scan(
    paths: Iterable[str | os.PathLike],
    db: Database,
    store: FileStore,
    options: ScanOptions = ScanOptions(),
    progress: Progress | None = None,
    on_folder: Callable[[FolderResult], None] | None = None,
    runner: PageRunner | None = None,
    manifest: Manifest | None = None,
) -> BatchReport:
    """Ingest files or folders of files; return what happened to each.

    A file is one customer folder, unless cover sheets or MANIFEST split it into several
    (a ManifestError, raised before anything is written, lists what is wrong with MANIFEST)."""
    started = time.monotonic()
    files = discover(paths)
    plan = manifest.bind(files, _page_count) if manifest is not None else {}
    store.create()
    with db.session() as s:
        batch = Batch(label=options.label, station=os.uname().nodename, stats={})
        s.add(batch)
        s.flush()
        batch_id = batch.id
    results: list[FolderResult] = []

    def done(result: FolderResult) -> None:
        results.append(result)
        if on_folder:
            on_folder(result)

    folders: list[_Folder] = []
    for path in files:
        folder = _admit(path, db, store, options, batch_id, done, plan.get(path))
        if folder is not None:
            folders.append(folder)

    total = sum(f.info.page_count - len(f.staged) for f in folders)
    pages_done = 0
    if progress:
        progress(0, total)
    for folder in [f for f in folders if f.complete]:  # staged whole before a crash
        for result in _accession(folder, db, options, batch_id):
            done(result)
    for folder, page in _pages_of(folders, store, options, runner or run_pages_locally):
        pages_done += 1
        if progress:
            progress(pages_done, total)
        if folder.failed:
            continue
        if isinstance(page, RejectedFile):  # one bad page: the file waits for a rescan, the batch goes on
            folder.failed = str(page)
            with db.session() as s:
                clear_staged(s, folder.sha256)
            quarantine(folder.path, folder.failed, db, store, options.actor, batch_id)
            done(FolderResult(str(folder.path), "quarantined", reason=folder.failed))
            continue
        with db.session() as s:
            stage_page(s, folder.sha256, page)
        folder.staged.add(page.source_page)
        if folder.complete:
            for result in _accession(folder, db, options, batch_id):
                done(result)

    seconds = time.monotonic() - started
    report = BatchReport(batch_id, results, pages_done, seconds)
    with db.session() as s:
        b = s.get(Batch, batch_id)
        b.finished_at = utcnow()
        b.stats = {
            "pages": pages_done,
            "seconds": round(seconds, 1),
            **{k: report.count(k) for k in ("accessioned", "skipped", "quarantined")},
        }
    return report


def _page_count(path: Path) -> int | None:
    try:
        return inspect(path).page_count
    except RejectedFile:
        return None  # quarantined when the batch reaches it


def _admit(
    path: Path,
    db: Database,
    store: FileStore,
    options: ScanOptions,
    batch_id: int,
    done: Callable[[FolderResult], None],
    rows: list[ManifestRow] | None = None,
) -> _Folder | None:
    """Decide whether a file enters the pipeline: skip known bytes, quarantine bad files."""
    sha = sha256_file(path)
    with db.session() as s:
        if already_accessioned(s, sha) is not None:
            numbers = records_of_source(s, sha)
            for number in numbers:
                done(
                    FolderResult(str(path), "skipped", number, reason=f"already in the archive as {', '.join(numbers)}")
                )
            return None
    try:
        info = inspect(path)
    except RejectedFile as e:
        quarantine(path, str(e), db, store, options.actor, batch_id)
        done(FolderResult(str(path), "quarantined", reason=str(e)))
        return None
    stored = store.put_file("sources", path, SUFFIX[info.media_type], sha=sha)
    with db.session() as s:
        staged = staged_numbers(s, sha)
    return _Folder(path, sha, info, stored.relpath, staged, rows)


def records_of_source(session: Session, sha256: str) -> list[str]:
    """The numbers of the records made from the file SHA256, in the order they were made."""
    source = session.scalar(select(SourceFile).filter_by(sha256=sha256))
    if source is None:
        return []
    numbers = list(
        session.scalars(
            select(ArchiveRecord.number)
            .join(Page, Page.record_id == ArchiveRecord.id)
            .where(Page.source_id == source.id)
            .group_by(ArchiveRecord.id, ArchiveRecord.number)
            .order_by(ArchiveRecord.id)
        )
    )
    if not numbers and source.record_id:
        numbers = [session.get(ArchiveRecord, source.record_id).number]
    return numbers


def quarantine(path: Path, reason: str, db: Database, store: FileStore, actor: str, batch_id: int | None) -> None:
    stored = store.put_named("quarantine", path.name, path)
    with db.session() as s:
        s.add(
            Quarantined(
                batch_id=batch_id,
                original_name=str(path),
                stored_path=stored.relpath,
                sha256=stored.sha256,
                reason=reason,
            )
        )
        events.record_event(
            s,
            events.QUARANTINE,
            actor,
            "file",
            stored.sha256,
            {"name": str(path), "reason": reason, "stored_path": stored.relpath},
        )


def _pages_of(
    folders: list[_Folder], store: FileStore, options: ScanOptions, runner: PageRunner
) -> Iterator[tuple[_Folder, IntakePage | RejectedFile]]:
    by_key = {f.sha256: f for f in folders}
    tasks = (
        PageTask(f.info, n, str(store.root), options.pipeline, f.sha256)
        for f in folders
        for n in range(1, f.info.page_count + 1)
        if n not in f.staged
    )
    for task, page in runner(tasks, options.jobs):
        yield by_key[task.source_sha256], page


# A runner yields each page's IntakePage, or the RejectedFile saying why it could not be
# processed: a failure is a value, so the batch goes on with the other files.
PageRunner = Callable[[Iterable["PageTask"], int], Iterator[tuple["PageTask", "IntakePage | RejectedFile"]]]


def run_pages_locally(tasks: Iterable[PageTask], jobs: int) -> Iterator[tuple[PageTask, IntakePage | RejectedFile]]:
    """This machine's pool: at most two pages in flight per worker, so memory stays flat
    however long the batch."""
    if jobs == 1:
        for task in tasks:
            try:
                yield task, process_page_guarded(task)
            except RejectedFile as e:
                yield task, e
        return
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)
    in_flight: dict[Future, PageTask] = {}
    try:
        for task in tasks:
            while len(in_flight) >= 2 * jobs:
                yield from _collect(in_flight)
            in_flight[pool.submit(process_page_guarded, task)] = task
        while in_flight:
            yield from _collect(in_flight)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(in_flight: dict[Future, PageTask]) -> Iterator[tuple[PageTask, IntakePage | RejectedFile]]:
    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
    for fut in finished:
        task = in_flight.pop(fut)
        try:
            yield task, fut.result()
        except RejectedFile as e:
            yield task, e


def process_page_guarded(task: PageTask) -> IntakePage:
    try:
        return process_page(task)
    except RejectedFile:
        raise
    except Exception as e:  # a page that breaks the engine must not take the batch down
        raise RejectedFile(
            f"page {task.page_no} could not be processed ({type(e).__name__}: {e}); rescan this file"
        ) from e


@dataclass(frozen=True)
class _Run:
    """The pages of one customer folder within a file, and what its cover or manifest row says."""

    pages: list[StagedSummary]
    how: str = ""  # "" (the whole file, or pages before the first cover) | cover | manifest
    link: CoverCode | None = None
    problem: str = ""  # a cover whose code cannot be used

    @property
    def span(self) -> tuple[int, int]:
        return self.pages[0].page_no, self.pages[-1].page_no


def _runs(folder: _Folder, pages: list[StagedSummary]) -> list[_Run]:
    """Split a file into customer folders: by its manifest rows if it has any, else at covers."""
    if folder.rows:
        return [
            _Run([p for p in pages if r.first_page <= p.page_no <= r.last_page], "manifest", r.link)
            for r in folder.rows
        ]
    runs = []
    for run in split_at_covers(pages):
        cover = cover_of(run[0].fields)
        if cover is None:
            runs.append(_Run(run))
            continue
        try:
            runs.append(_Run(run, "cover", parse_cover_payload(cover["value"])))
        except CoverCodeError as e:
            runs.append(_Run(run, "cover", None, str(e)))
    return runs


def _accession(folder: _Folder, db: Database, options: ScanOptions, batch_id: int) -> list[FolderResult]:
    """Accession a staged file: one record per customer folder in it, all in one transaction, so a
    crash leaves the whole file to redo and a rerun finds it by its checksum."""
    results = []
    with db.session() as s:
        if already_accessioned(s, folder.sha256) is not None:  # a twin station was quicker
            clear_staged(s, folder.sha256)
            return [
                FolderResult(str(folder.path), "skipped", n, reason=f"already in the archive as {n}")
                for n in records_of_source(s, folder.sha256)
            ]
        summaries = staged_summaries(s, folder.sha256)
        runs = _runs(folder, summaries)
        stream = staged_pages(s, folder.sha256)  # one pass over the file's pages, run after run
        source: SourceFile | None = None
        for run in runs:
            settled, problem = _settled_by_link(s, run)
            intake = folder_intake(
                folder.path.name,
                folder.sha256,
                folder.stored_path,
                folder.path.stat().st_size,
                folder.info.media_type,
                run.pages,
                settled,
            )
            pages = _run_pages(islice(stream, len(run.pages)), run, problem)
            record = _accession_part(s, intake, pages, source, options, batch_id)
            if source is None:
                source = s.scalar(select(SourceFile).filter_by(sha256=folder.sha256))
            if len(runs) > 1 or run.how:
                _record_split(s, record, run, folder, options.actor)
            if record.case_id is None and record.customer_id is not None:
                # No work order on the pages: the customer's one open case of this business, if any.
                propose_links(s, load_scheme(), customer_ids=[record.customer_id], actor=options.actor)
            first, last = run.span
            results.append(
                FolderResult(
                    str(folder.path),
                    "accessioned",
                    record.number,
                    pages=len(run.pages),
                    documents=len(intake.documents),
                    flagged=sum(1 for i, p in enumerate(run.pages) if p.needs_review or (problem and i == 0)),
                    reason=problem,
                    first_page=first,
                    last_page=last,
                    link=str(run.link) if run.link else "",
                )
            )
        if len(runs) > 1:
            source.page_count = folder.info.page_count
        clear_staged(s, folder.sha256)
    return results


def _settled_by_link(session: Session, run: _Run) -> tuple[dict, str]:
    """What a cover or manifest row settles about the folder, over what OCR read on its pages;
    and a problem for a person when the link cannot be followed.

    A cover naming an existing record marks a *supplement*: the pages become a new record
    (an archive number and the pages under it never change) with the same case, customer and
    business type as the record named."""
    link = run.link
    if link is None:
        return {}, run.problem
    if link.kind == "account":
        return {"account_number": link.value}, ""
    if link.kind == "work_order":
        case = session.scalar(select(BusinessCase).filter_by(work_order=link.value))
        settled = {"work_order": link.value}
    else:
        record = session.scalar(select(ArchiveRecord).filter_by(number=link.value))
        if record is None:
            return {}, f"the {run.how} names {link.value}, which is not in the archive; link this record by hand"
        case = record.case
        settled = {
            "work_order": case.work_order if case else None,
            "account_number": record.customer.account_number if record.customer else None,
            "business_type": record.classification.business_type if record.classification else None,
        }
    if case is not None:  # the case knows its customer better than a page's OCR
        if not settled.get("account_number") and case.customer is not None:
            settled["account_number"] = case.customer.account_number
        settled["business_type"] = settled.get("business_type") or case.business_type
    return {k: v for k, v in settled.items() if v}, ""


def _run_pages(pages: Iterable[IntakePage], run: _Run, problem: str) -> Iterator[IntakePage]:
    """The run's staged pages, checked against its page numbers; a cover whose link cannot be
    followed goes to the QA queue."""
    expected = iter([p.page_no for p in run.pages])
    for page in pages:
        if page.source_page != next(expected, None):
            raise RuntimeError(f"staged pages out of order at page {page.source_page}; rerun the batch")
        if problem and page.source_page == run.pages[0].page_no:
            page = replace(page, flags=[*page.flags, {"code": "folder_link", "severity": "fail", "message": problem}])
        yield page


def _accession_part(
    session: Session,
    intake: FolderIntake,
    pages: Iterable[IntakePage],
    source: SourceFile | None,
    options: ScanOptions,
    batch_id: int,
) -> ArchiveRecord:
    """accession_folder for one folder of a file. The first folder registers the source file
    (SourceFile.record_id is that first record, so `already_accessioned` finds the file on a
    rerun); a later folder of the same file reuses that row."""
    return accession_folder(
        session, intake, pages, fonds=options.fonds, actor=options.actor, batch_id=batch_id, source=source
    )


SPLIT = "folder split"  # event: a record made from part of a scanned file


def _record_split(session: Session, record: ArchiveRecord, run: _Run, folder: _Folder, actor: str) -> None:
    """The event saying which pages of which file made RECORD and what they were linked to; and
    the case link, confirmed, when a cover or manifest row named the case."""
    first, last = run.span
    detail = {
        "source": folder.path.name,
        "source_sha256": folder.sha256,
        "first_page": first,
        "last_page": last,
        "how": run.how or "pages before the first cover",
        "link": run.link.payload if run.link else None,
    }
    if run.link and run.link.kind == "record":
        detail["supplements"] = run.link.value
    events.record_event(session, SPLIT, actor, "record", record.number, detail)
    if run.link and run.link.kind != "account" and record.case_id and session.get(CaseLink, record.id) is None:
        case = session.get(BusinessCase, record.case_id)
        reason = f"{run.how} {run.link.payload}" + (
            f" (supplement to {run.link.value})" if run.link.kind == "record" else ""
        )
        session.add(
            CaseLink(
                record_id=record.id,
                case_id=case.id,
                method=run.how,
                confidence=1.0,
                status="confirmed",
                reason=reason,
                actor=actor,
                at=utcnow(),
            )
        )
        session.flush()
        events.record_event(
            session,
            CASE_LINK,
            actor,
            "record",
            record.number,
            {"work_order": case.work_order, "method": run.how, "reason": reason},
        )


def folder_intake(
    name: str,
    sha256: str,
    stored_path: str,
    size: int,
    media_type: str,
    pages: list[StagedSummary],
    settled: dict | None = None,
) -> FolderIntake:
    """Split a folder's pages into documents and settle what they say about the case.
    SETTLED (from a cover or manifest row) wins over what OCR read on the pages."""
    fields = fields_summary(p.fields for p in pages if not is_cover(p))
    fields.update(settled or {})
    documents = [
        IntakeDocument(
            doc_type=d[0].doc_type,
            doc_type_score=d[0].doc_type_score,
            title=_document_title(d[0]),
            page_numbers=[p.page_no for p in d],
        )
        for d in split_documents(pages)
    ]
    return FolderIntake(
        source_name=name,
        source_sha256=sha256,
        source_path=stored_path,
        source_size=size,
        media_type=media_type,
        documents=documents,
        account_number=fields.get("account_number"),
        customer_name=fields.get("customer_name", ""),
        address=fields.get("address", ""),
        work_order=fields.get("work_order"),
        business_type=fields.get("business_type", ""),
    )


def _document_title(first: StagedSummary) -> str:
    cover = cover_of(first.fields)
    return f"扫描封面 {cover['value']}" if cover else first.title


def rescan_page(
    ref: str,
    path: str | os.PathLike,
    db: Database,
    store: FileStore,
    options: ScanOptions = ScanOptions(),
    page_no: int = 1,
) -> tuple[int, int, list[dict]]:
    """Replace the page REF (id or NUMBER/SEQ) with page PAGE_NO of the file at PATH.
    Returns (old page id, new page id, the new page's flags)."""
    from dangan.archive.records.qa import find_page, replace_page

    info = inspect(path)  # RejectedFile tells the operator what is wrong with the new scan
    if not 1 <= page_no <= info.page_count:
        raise RejectedFile(f"{path} has {info.page_count} pages; there is no page {page_no}")
    store.create()
    store.put_file("sources", path, SUFFIX[info.media_type])
    page = process_page(PageTask(info, page_no, str(store.root), options.pipeline))
    with db.session() as s:
        old = find_page(s, ref)
        new = replace_page(s, old, page, actor=options.actor, reason=f"rescan from {Path(path).name}")
        return old.id, new.id, new.flags
