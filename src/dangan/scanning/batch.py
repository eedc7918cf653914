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

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import func, select

from dangan.archive.business.scheme import ClassificationScheme, load_scheme
from dangan.archive.db import Database
from dangan.archive.models import Batch, Page, SourceFile, utcnow
from dangan.archive.records.accession import (
    FolderIntake,
    IntakeDocument,
    IntakePage,
    already_accessioned,
    fields_summary,
    serialise_accessions,
)
from dangan.archive.records.filing import FilePart, file_parts, quarantine_file, records_of_source
from dangan.archive.records.likeness import records_like
from dangan.archive.records.page_fields import document_date
from dangan.archive.records.paper_pages import paper_page_count
from dangan.archive.records.qa import RescanSource, find_page, qa_count, replace_page
from dangan.archive.records.staging import (
    StagedSummary,
    clear_staged,
    stage_page,
    staged_numbers,
    staged_pages,
    staged_summaries,
)
from dangan.archive.store import FileStore, sha256_file
from dangan.i18n import _
from dangan.scanning.covers import CoverCodeError, Manifest, ManifestRow, cover_of, parse_cover_payload
from dangan.scanning.folder_checks import folder_flags
from dangan.scanning.outage import DATABASE, Patience
from dangan.scanning.page import PipelineOptions
from dangan.scanning.runner import PageDone, PageRunner, PageTask, Staged, process_page, run_pages_locally
from dangan.scanning.sources import SUFFIX, RejectedFile, SourceInfo, inspect
from dangan.scanning.split import is_cover, split_at_covers, split_documents


@dataclass(frozen=True)
class ScanOptions:
    fonds: str = "GD01"
    actor: str = "operator"
    jobs: int = max(1, os.cpu_count() or 1)
    label: str = ""
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)
    scheme: ClassificationScheme | None = None  # for case-link proposals [default: the installed scheme]

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
    images: int = 0  # page images stored, cover sheets and blank pages included (`pages` counts the paper)
    duplicate_of: list[str] = field(default_factory=list)  # records this folder's pages were found like


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
    options: ScanOptions | None = None,
    progress: Progress | None = None,
    on_folder: Callable[[FolderResult], None] | None = None,
    runner: PageRunner | None = None,
    manifest: Manifest | None = None,
    patience: Patience | None = None,
) -> BatchReport:
    """Ingest files or folders of files; return what happened to each.

    A file is one customer folder, unless cover sheets or MANIFEST split it into several
    (a ManifestError, raised before anything is written, lists what is wrong with MANIFEST).

    Every unit of database work (one transaction) goes through PATIENCE, which waits out an
    outage of the database and says so; without it the first refused connection raises
    OutageLimit (nothing finished is lost either way: pages are staged, folders are whole)."""
    options = options or ScanOptions()
    patience = patience or Patience(limit=0)
    db_call = partial(patience.call, uses=DATABASE)
    started = time.monotonic()
    files = discover(paths)
    plan = manifest.bind(files, _page_count) if manifest is not None else {}
    store.create()
    batch_id = db_call(lambda: _open_batch(db, options))
    results: list[FolderResult] = []

    def done(result: FolderResult) -> None:
        results.append(result)
        if on_folder:
            on_folder(result)

    def accession(folder: _Folder) -> None:
        for result in db_call(lambda: _accession(folder, db, options, batch_id)):
            done(result)

    folders: list[_Folder] = []
    for path in files:
        folder = _admit(path, db, store, options, batch_id, done, plan.get(path), patience)
        if folder is not None:
            folders.append(folder)

    total = sum(f.info.page_count - len(f.staged) for f in folders)
    pages_done = 0
    if progress:
        progress(0, total)
    for folder in [f for f in folders if f.complete]:  # staged whole before a crash
        accession(folder)
    for folder, page in _pages_of(folders, store, options, runner or run_pages_locally):
        pages_done += 1
        if progress:
            progress(pages_done, total)
        if folder.failed:
            continue
        if isinstance(page, RejectedFile):  # one bad page: the file waits for a rescan, the batch goes on
            folder.failed = str(page)
            let_go = partial(quarantine, staged_sha256=folder.sha256, reason_kept=page.kept)
            db_call(partial(let_go, folder.path, folder.failed, db, store, options.actor, batch_id))
            done(FolderResult(str(folder.path), "quarantined", reason=folder.failed))
            continue
        if isinstance(page, Staged):  # a worker journaled it already
            folder.staged.add(page.page_no)
        else:
            db_call(partial(_stage, db, folder.sha256, page))
            folder.staged.add(page.source_page)
        if folder.complete:
            accession(folder)

    seconds = time.monotonic() - started
    report = BatchReport(batch_id, results, pages_done, seconds)
    db_call(lambda: _close_batch(db, report))
    return report


def _open_batch(db: Database, options: ScanOptions) -> int:
    with db.session() as s:
        batch = Batch(label=options.label, station=os.uname().nodename, stats={})
        s.add(batch)
        s.flush()
        return batch.id


def _close_batch(db: Database, report: BatchReport) -> None:
    with db.session() as s:
        b = s.get(Batch, report.batch_id)
        b.finished_at = utcnow()
        b.stats = {
            "pages": report.pages,
            "seconds": round(report.seconds, 1),
            **{k: report.count(k) for k in ("accessioned", "skipped", "quarantined")},
        }


def _stage(db: Database, sha: str, page: IntakePage) -> None:
    with db.session() as s:
        stage_page(s, sha, page)


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
    rows: list[ManifestRow] | None,
    patience: Patience,
) -> _Folder | None:
    """Decide whether a file enters the pipeline: skip known bytes, quarantine bad files."""
    sha = sha256_file(path)
    numbers = patience.call(lambda: _numbers_of(db, sha), uses=DATABASE)
    if numbers:
        already = _("already in the archive as {numbers}").format(numbers=", ".join(numbers))
        for number in numbers:
            done(FolderResult(str(path), "skipped", number, reason=already))
        return None
    try:
        info = inspect(path)
    except RejectedFile as e:
        reason = str(e)
        refuse = partial(quarantine, path, reason, db, store, options.actor, batch_id, reason_kept=e.kept)
        patience.call(refuse, uses=DATABASE)
        done(FolderResult(str(path), "quarantined", reason=reason))
        return None
    stored = store.put_file("sources", path, SUFFIX[info.media_type], sha=sha)
    staged = patience.call(lambda: _staged_numbers(db, sha), uses=DATABASE)
    return _Folder(path, sha, info, stored.relpath, staged, rows)


def _numbers_of(db: Database, sha: str) -> list[str]:
    """The records made from the file SHA, if it is in the archive."""
    with db.session() as s:
        return records_of_source(s, sha) if already_accessioned(s, sha) is not None else []


def _staged_numbers(db: Database, sha: str) -> set[int]:
    with db.session() as s:
        return staged_numbers(s, sha)


def quarantine(
    path: Path,
    reason: str,
    db: Database,
    store: FileStore,
    actor: str,
    batch_id: int | None,
    *,
    staged_sha256: str = "",
    reason_kept: dict | None = None,
) -> None:
    """Quarantine the file at PATH; its pages staged so far (STAGED_SHA256) are let go."""
    with db.session() as s:
        if staged_sha256:
            clear_staged(s, staged_sha256)
        quarantine_file(s, store, path, reason, actor=actor, batch_id=batch_id, reason_kept=reason_kept)


def _pages_of(
    folders: list[_Folder], store: FileStore, options: ScanOptions, runner: PageRunner
) -> Iterator[tuple[_Folder, PageDone]]:
    by_key = {f.sha256: f for f in folders}
    tasks = (
        PageTask(f.info, n, str(store.root), options.pipeline, f.sha256)
        for f in folders
        for n in range(1, f.info.page_count + 1)
        if n not in f.staged
    )
    for task, page in runner(tasks, options.jobs):
        yield by_key[task.source_sha256], page


def _parts(folder: _Folder, pages: list[StagedSummary]) -> list[FilePart]:
    """Split a file into customer folders: by its manifest rows if it has any, else at covers."""
    if folder.rows:
        runs = [
            ([p for p in pages if r.first_page <= p.page_no <= r.last_page], "manifest", r.link, "")
            for r in folder.rows
        ]
    else:
        runs = []
        for run in split_at_covers(pages):
            cover = cover_of(run[0].fields)
            if cover is None:
                runs.append((run, "", None, ""))
                continue
            try:
                runs.append((run, "cover", parse_cover_payload(cover["value"]), ""))
            except CoverCodeError as e:
                runs.append((run, "cover", None, str(e)))
    return [
        FilePart(folder_intake(folder, run), tuple(p.page_no for p in run), how, link, problem, folder_flags(run))
        for run, how, link, problem in runs
    ]


def _accession(folder: _Folder, db: Database, options: ScanOptions, batch_id: int) -> list[FolderResult]:
    """Accession a staged file: one record per customer folder in it, all in one transaction, so a
    crash leaves the whole file to redo and a rerun finds it by its checksum."""
    with db.session() as s:
        serialise_accessions(s)  # before looking: a twin station may be accessioning this file now
        if already_accessioned(s, folder.sha256) is not None:
            clear_staged(s, folder.sha256)
            if s.scalar(select(SourceFile.batch_id).filter_by(sha256=folder.sha256)) == batch_id:
                return _ours(s, folder)  # we committed it, then lost the connection before hearing so
            return [  # a twin station was quicker
                FolderResult(
                    str(folder.path), "skipped", n, reason=_("already in the archive as {numbers}").format(numbers=n)
                )
                for n in records_of_source(s, folder.sha256)
            ]
        summaries = staged_summaries(s, folder.sha256)
        if len(summaries) != folder.info.page_count:  # never a record short of pages
            return [
                FolderResult(
                    str(folder.path),
                    "skipped",
                    reason=_(
                        "only {staged} of its {pages} pages are in the batch journal (another station let the "
                        "file go meanwhile?); run the same scan again"
                    ).format(staged=len(summaries), pages=folder.info.page_count),
                )
            ]
        parts = _parts(folder, summaries)
        filed = file_parts(
            s,
            parts,
            staged_pages(s, folder.sha256),
            fonds=options.fonds,
            actor=options.actor,
            batch_id=batch_id,
            scheme=options.scheme or load_scheme(),
        )
        clear_staged(s, folder.sha256)
        return [
            FolderResult(
                str(folder.path),
                "accessioned",
                f.record.number,
                pages=paper_page_count(s, [f.record.id]),
                documents=len(f.part.intake.documents),
                flagged=qa_count(s, f.record.id),  # what the QA queue shows, whatever flagged it
                reason=f.problem,
                first_page=f.part.span[0],
                last_page=f.part.span[1],
                link=str(f.part.link) if f.part.link else "",
                images=len(f.part.pages),
                duplicate_of=records_like(s, f.record.id),
            )
            for f in filed
        ]


def _ours(s, folder: _Folder) -> list[FolderResult]:
    source_id = s.scalar(select(SourceFile.id).filter_by(sha256=folder.sha256))
    rows = s.execute(
        select(
            Page.record_id,
            func.count(Page.id),
            func.count(func.distinct(Page.document_id)),
            func.min(Page.source_page),
            func.max(Page.source_page),
        )
        .where(Page.source_id == source_id)
        .group_by(Page.record_id)
        .order_by(Page.record_id)
    ).all()
    numbers = dict(zip(records_of_source(s, folder.sha256), rows, strict=False))
    return [
        FolderResult(str(folder.path), "accessioned", n, pages=r[1], documents=r[2], first_page=r[3], last_page=r[4])
        for n, r in numbers.items()
    ]


def folder_intake(folder: _Folder, pages: list[StagedSummary]) -> FolderIntake:
    """A customer folder's pages split into documents, with what OCR read about the case."""
    fields = fields_summary(p.fields for p in pages if not is_cover(p))
    documents = [
        IntakeDocument(
            doc_type=d[0].doc_type,
            doc_type_score=d[0].doc_type_score,
            title=_document_title(d[0]),
            page_numbers=[p.page_no for p in d],
            dated=document_date(p.fields for p in d),
            origin="electronic" if all(p.origin == "electronic" for p in d) else "paper",
        )
        for d in split_documents(pages)
    ]
    return FolderIntake(
        source_name=folder.path.name,
        source_sha256=folder.sha256,
        source_path=folder.stored_path,
        source_size=folder.path.stat().st_size,
        media_type=folder.info.media_type,
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
    options: ScanOptions | None = None,
    page_no: int = 1,
    runner: PageRunner | None = None,
) -> tuple[int, int, list[dict]]:
    """Replace the page REF (id or NUMBER/SEQ) with page PAGE_NO of the file at PATH, processed
    by RUNNER (default: here). Returns (old page id, new page id, the new page's flags)."""

    options = options or ScanOptions()
    info = inspect(path)  # RejectedFile tells the operator what is wrong with the new scan
    if not 1 <= page_no <= info.page_count:
        raise RejectedFile(f"{path} has {info.page_count} pages; there is no page {page_no}")
    store.create()
    stored = store.put_file("sources", path, SUFFIX[info.media_type])
    source = RescanSource(Path(path).name, stored.sha256, stored.relpath, stored.size, info.media_type, info.page_count)
    task = PageTask(info, page_no, str(store.root), options.pipeline, stored.sha256)
    if runner is None:
        page = process_page(task)
    else:
        _, page = next(iter(runner([task], 1)))
        if isinstance(page, RejectedFile):
            raise page
    with db.session() as s:
        old = find_page(s, ref)
        new = replace_page(s, old, page, actor=options.actor, reason=f"rescan from {Path(path).name}", source=source)
        return old.id, new.id, new.flags
