"""Ingest: scanned files become archive records and are indexed; a flagged page is accepted
or replaced by a rescan; the hot folder; the two ends of shared mode (station and worker)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dangan.app.archive import Archive
from dangan.app.index import IndexUpdate, index_after_change
from dangan.archive.models import Page
from dangan.archive.records.qa import QaError, accept_page, find_page
from dangan.errors import Conflict, DanganError, ExitStatus
from dangan.i18n import _
from dangan.scanning.batch import BatchReport, FolderResult, ScanOptions, rescan_page, scan
from dangan.scanning.covers import Manifest, load_manifest
from dangan.scanning.ocr import ENGINES
from dangan.scanning.outage import (
    DATABASE,
    QUEUE,
    OutageLimit,
    Patience,
    describe_broker,
    describe_db,
    outage_limit,
)
from dangan.scanning.page import PipelineOptions
from dangan.scanning.pipeline import options_from_scheme
from dangan.scanning.runner import PageRunner
from dangan.scanning.watch import WatchSummary, stop_on_interrupt, watch

Progress = Callable[[int, int], None]
OCR_ENGINES = tuple(sorted(ENGINES))
DEFAULT_ENGINE = PipelineOptions().engine

__all__ = [
    "DEFAULT_ENGINE",
    "OCR_ENGINES",
    "IngestResult",
    "NotQueued",
    "Station",
    "connect_station",
    "ingest",
    "load_manifest",
    "qa_accept",
    "rescan",
    "run_worker",
    "scan_options",
    "stop_on_interrupt",
    "watch_folder",
]


def default_jobs() -> int:
    return os.cpu_count() or 1


def scan_options(
    archive: Archive, *, engine: str | None = None, jobs: int | None = None, fonds: str | None = None, label: str = ""
) -> ScanOptions:
    """What a batch needs from the archive: the scheme's fonds and document-type hints, who acts."""
    scheme = archive.scheme
    pipeline = options_from_scheme(scheme, **({"engine": engine} if engine else {}))
    return ScanOptions(
        fonds=fonds or scheme.fonds.code,
        actor=archive.actor,
        jobs=jobs or default_jobs(),
        label=label,
        pipeline=pipeline,
        scheme=scheme,
    )


@dataclass(frozen=True)
class IngestResult:
    report: BatchReport
    index: IndexUpdate
    queue: dict | None = None  # shared mode: what went through the queue (published, reused, late pages …)

    @property
    def exit_status(self) -> int:
        if self.index.problem:
            return ExitStatus.ERROR
        return ExitStatus.INPUT_REFUSED if self.report.count("quarantined") else ExitStatus.OK

    def as_dict(self) -> dict[str, Any]:
        r = self.report
        return {
            "batch": r.batch_id,
            "pages": r.pages,
            "seconds": round(r.seconds, 1),
            "pages_per_minute": round(r.pages_per_minute, 1),
            "indexed": self.index.indexed,
            "indexed_at_commit": self.index.at_commit,
            **({"index_problem": self.index.problem} if self.index.problem else {}),
            "folders": [asdict(f) for f in r.folders],
            **({"queue": self.queue} if self.queue is not None else {}),
        }


def ingest(
    archive: Archive,
    paths: Iterable[str | os.PathLike],
    options: ScanOptions | None = None,
    *,
    manifest: Manifest | None = None,
    runner: PageRunner | None = None,
    progress: Progress | None = None,
    on_folder: Callable[[FolderResult], None] | None = None,
    index_progress: Progress | None = None,
    patience: Patience | None = None,
) -> IngestResult:
    """Scan files or folders of files into the archive; each folder is searchable as soon as
    it is accessioned (indexed at once, not at the end of a long batch).

    PATIENCE waits out an outage of the database (and, for a station, of the queue), saying
    so; without it an outage raises OutageLimit at once. Either way nothing finished is lost."""
    options = options or scan_options(archive)
    patience = patience or Patience(limit=0)
    patience.call(archive.check, uses=DATABASE)
    indexed = _IndexEachFolder(archive)

    def folder_done(result: FolderResult) -> None:
        indexed(result)
        if on_folder:
            on_folder(result)

    report = scan(
        paths,
        archive.db,
        archive.store,
        options,
        progress=progress,
        on_folder=folder_done,
        runner=runner,
        manifest=manifest,
        patience=patience,
    )
    stats = getattr(runner, "stats", None)  # a queue runner tells what went through the queue
    queue = stats() if stats else None
    last = index_after_change(archive, progress=index_progress)  # whatever is still waiting
    total = None if last.indexed is None else indexed.pages + last.indexed
    return IngestResult(report, IndexUpdate(total, last.problem, last.at_commit), queue)


class _IndexEachFolder:
    """Syncs the index after each accessioned folder; a failure waits for the final sync."""

    def __init__(self, archive: Archive):
        self.archive, self.pages, self.failed = archive, 0, False

    def __call__(self, result: FolderResult) -> None:
        if result.status != "accessioned" or self.failed:
            return
        update = index_after_change(self.archive)
        self.failed = update.indexed is None
        self.pages += update.indexed or 0


# --- the QA queue: accept or rescan -----------------------------------------------------------


class NotQueued(Conflict):
    """The page is not (or no longer) waiting in the QA queue: someone else dealt with it."""


def _queued(page: Page) -> Page:
    if page.superseded_by_id is not None:
        raise NotQueued(
            _("page {id} was already replaced by a rescan (page {superseded_by_id}); reload the queue").format(
                id=page.id, superseded_by_id=page.superseded_by_id
            )
        )
    if page.qa_status != "flagged":
        raise NotQueued(
            _("page {id} is not waiting in the QA queue (it is {qa_status}); reload the queue").format(
                id=page.id, qa_status=page.qa_status
            )
        )
    return page


def qa_accept(archive: Archive, page_ref: str | int, note: str, *, only_queued: bool = False) -> dict[str, Any]:
    """Accept a flagged page as it is, with the reason; the index follows."""
    if not (note or "").strip():
        raise QaError(_("say why the page is acceptable as it is (a note is required)"))
    with archive.session() as s:
        page = find_page(s, str(page_ref))
        if only_queued:
            _queued(page)
        accept_page(s, page, actor=archive.actor, note=note.strip())
        done = {
            "page_id": page.id,
            "record": page.record.number,
            "seq": page.seq,
            "qa_status": "accepted",
        }
    return done | (archive.last_index or IndexUpdate(0)).as_dict()  # the session brought the index along


def rescan(
    archive: Archive,
    page_ref: str | int,
    file: str | os.PathLike,
    *,
    page_no: int = 1,
    only_queued: bool = False,
    runner: PageRunner | None = None,
) -> dict[str, Any]:
    """Replace a page with page PAGE_NO of FILE (a new scan): the old page and its master stay,
    superseded; the new page takes its place and is indexed. Raises RejectedFile for a file
    that cannot be taken, QaError / NotFound / NotQueued for the page."""
    with archive.session() as s:
        page = find_page(s, str(page_ref))
        if only_queued:
            _queued(page)
        record, seq = page.record.number, page.seq
    options = scan_options(archive, jobs=1)
    old, new, flags = rescan_page(str(page.id), file, archive.db, archive.store, options, page_no, runner)
    with archive.session() as s:
        status = s.get_one(Page, new).qa_status
    done = {"page_id": old, "new_page_id": new, "record": record, "seq": seq, "qa_status": status, "flags": flags}
    return done | index_after_change(archive).as_dict()


# --- the hot folder ------------------------------------------------------------------------------


def watch_folder(
    archive: Archive,
    folder: str | os.PathLike,
    options: ScanOptions,
    *,
    settle: float,
    interval: float,
    stop_event: threading.Event,
    on_batch: Callable[[BatchReport, IndexUpdate], None] | None = None,
    on_error: Callable[[list[Path], BaseException], None] | None = None,
) -> WatchSummary:
    """Scan files dropped into FOLDER once they stop growing, until STOP_EVENT; each batch is
    indexed as soon as it is accessioned. The state file in the data home makes restarts safe."""

    def batch_done(report: BatchReport) -> None:
        update = index_after_change(archive)
        if on_batch:
            on_batch(report, update)

    return watch(
        folder,
        archive.db,
        archive.store,
        options,
        settle=settle,
        interval=interval,
        stop_event=stop_event,
        on_batch=batch_done,
        on_error=on_error,
        state_path=archive.home.root / "watch-state.json",
    )


# --- shared mode --------------------------------------------------------------------------------


class QueueUnreachable(OutageLimit):
    """The queue did not answer within the outage limit (exit status 75: try again later)."""


@dataclass
class Station:
    """A scanning station's side of shared mode: the runner that sends pages to the workers."""

    runner: PageRunner
    broker: str
    workers: list[str]
    warnings: list[str]


def station_patience(
    archive: Archive, *, limit: float | None = None, notify: Callable[[str], None] | None = None, resume: str = ""
) -> Patience:
    """How a station waits out an outage of its database or queue (LIMIT seconds; default
    DANGAN_OUTAGE_LIMIT or 15 minutes), telling NOTIFY; RESUME is the command to run after.
    (The queue is named once it is known: connect_station, run_worker.)"""
    return Patience(
        limit=outage_limit() if limit is None else limit,
        notify=notify,
        resume=resume,
        services={
            "database": describe_db(archive.home.db_url),
            "store": _("the file store at {root}").format(root=archive.home.store_dir),
        },
    )


def connect_station(archive: Archive, broker: str | None, patience: Patience | None = None) -> Station:
    """Reach the queue (waiting out an outage through PATIENCE) and see who listens, with
    warnings an operator can act on."""
    # Celery loads only for shared mode
    from dangan.scanning.distributed import check_queue, make_app, out_of_service, workers_listening
    from dangan.scanning.station import QueueRunner

    patience = patience or station_patience(archive, limit=0)
    patience.call(archive.check, uses=DATABASE)
    warnings = []
    if archive.home.is_sqlite:
        warnings.append(
            _(
                "--distributed with SQLite: only workers on this machine can reach the database; give "
                "every station and worker the same --db postgresql+psycopg://… for shared mode"
            )
        )
    app = make_app(broker)
    patience.services[QUEUE] = describe_broker(app.conf.broker_url)
    try:
        patience.call(lambda: check_queue(app), uses=QUEUE)
    except OutageLimit as e:
        hint = _("(is redis-server running there? check --broker / DANGAN_BROKER)")
        raise QueueUnreachable(f"{e} {hint}", e.service) from None
    listening = patience.call(lambda: workers_listening(app, timeout=2.0), uses=QUEUE)
    out = patience.call(lambda: out_of_service(app), uses=QUEUE)
    for name, reason in sorted(out.items()):
        warnings.append(_("worker {worker} is out of service: {reason}").format(worker=name, reason=reason))
    listening = [w for w in listening if w not in out]
    if not listening:
        warnings.append(
            _(
                "no worker is listening yet: pages wait in the queue until one starts "
                "(`dangan worker` on any machine with this database and file store)"
            )
        )
    runner = QueueRunner(archive.db, app, patience=patience)
    return Station(runner, app.conf.broker_url, listening, warnings)


def run_worker(
    archive: Archive,
    *,
    broker: str | None,
    concurrency: int,
    loglevel: str,
    name: str | None,
    notify: Callable[[str], None] | None = None,
) -> None:
    """OCR pages from the queue until stopped, on a machine that sees the database and the store.

    Refuses to start, with the fix, without the archive's database and shared store; waits for
    the queue (DANGAN_OUTAGE_LIMIT) saying so through NOTIFY, then hands over to Celery."""
    # Celery loads only for shared mode
    from dangan.scanning.distributed import check_queue, make_app, store_problem
    from dangan.scanning.distributed import run_worker as work

    patience = station_patience(archive, notify=notify)
    patience.call(archive.check, uses=DATABASE)  # refuses a missing or outdated database, with the fix
    if not (archive.home.store_dir / "sources").is_dir():
        raise DanganError(
            _(
                "no file store at {store}: mount the archive's shared store there "
                "or pass --home (the folder that holds store/)"
            ).format(store=archive.home.store_dir)
        )
    problem = patience.call(lambda: store_problem(archive.db, archive.home.store_dir), uses=DATABASE)
    if problem:
        raise DanganError(problem)
    app = make_app(broker)
    patience.services[QUEUE] = describe_broker(app.conf.broker_url)
    try:
        patience.call(lambda: check_queue(app), uses=QUEUE)
    except OutageLimit as e:
        raise QueueUnreachable(f"{e} " + _("(check --broker / DANGAN_BROKER)"), e.service) from None
    # the pool processes read these, as every dangan command does
    os.environ["DANGAN_HOME"] = str(archive.home.root)
    os.environ["DANGAN_DB"] = archive.home.db_url
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    work(app, concurrency, loglevel, name or "dangan@%h")
