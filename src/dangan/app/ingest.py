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
from dangan.errors import Conflict, DanganError, ExitStatus, Unavailable
from dangan.scanning.batch import BatchReport, FolderResult, ScanOptions, rescan_page, scan
from dangan.scanning.covers import Manifest, load_manifest
from dangan.scanning.ocr import ENGINES
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
            **({"index_problem": self.index.problem} if self.index.problem else {}),
            "folders": [asdict(f) for f in r.folders],
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
) -> IngestResult:
    """Scan files or folders of files into the archive, then bring the index up to date."""
    options = options or scan_options(archive)
    report = scan(
        paths,
        archive.db,
        archive.store,
        options,
        progress=progress,
        on_folder=on_folder,
        runner=runner,
        manifest=manifest,
    )
    return IngestResult(report, index_after_change(archive, progress=index_progress))


# --- the QA queue: accept or rescan -----------------------------------------------------------


class NotQueued(Conflict):
    """The page is not (or no longer) waiting in the QA queue: someone else dealt with it."""


def _queued(page: Page) -> Page:
    if page.superseded_by_id is not None:
        raise NotQueued(
            f"page {page.id} was already replaced by a rescan (page {page.superseded_by_id}); reload the queue"
        )
    if page.qa_status != "flagged":
        raise NotQueued(f"page {page.id} is not waiting in the QA queue (it is {page.qa_status}); reload the queue")
    return page


def qa_accept(archive: Archive, page_ref: str | int, note: str, *, only_queued: bool = False) -> dict[str, Any]:
    """Accept a flagged page as it is, with the reason; the index follows."""
    if not (note or "").strip():
        raise QaError("say why the page is acceptable as it is (a note is required)")
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
    return done | index_after_change(archive).as_dict()


def rescan(
    archive: Archive, page_ref: str | int, file: str | os.PathLike, *, page_no: int = 1, only_queued: bool = False
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
    old, new, flags = rescan_page(str(page.id), file, archive.db, archive.store, options, page_no)
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


class QueueUnreachable(Unavailable):
    pass


@dataclass
class Station:
    """A scanning station's side of shared mode: the runner that sends pages to the workers."""

    runner: PageRunner
    broker: str
    workers: list[str]
    warnings: list[str]


def connect_station(archive: Archive, broker: str | None) -> Station:
    """Check the queue is reachable and who listens, with warnings an operator can act on."""
    from kombu.exceptions import OperationalError  # Celery loads only for shared mode

    from dangan.scanning.distributed import QueueRunner, make_app, workers_listening

    warnings = []
    if archive.home.is_sqlite:
        warnings.append(
            "--distributed with SQLite: only workers on this machine can reach the database; give "
            "every station and worker the same --db postgresql+psycopg://… for shared mode"
        )
    app = make_app(broker)
    try:
        listening = workers_listening(app, timeout=2.0)
    except OperationalError as e:
        raise QueueUnreachable(
            f"cannot reach the queue at {app.conf.broker_url}: {e} "
            "(is redis-server running? set --broker / DANGAN_BROKER)"
        ) from None
    if not listening:
        warnings.append(
            "no worker is listening yet: pages wait in the queue until one starts "
            "(`dangan worker` on any machine with this database and file store)"
        )
    return Station(QueueRunner(archive.db, app), app.conf.broker_url, listening, warnings)


def run_worker(archive: Archive, *, broker: str | None, concurrency: int, loglevel: str, name: str | None) -> None:
    """OCR pages from the queue until stopped, on a machine that sees the database and the store."""
    from dangan.scanning.distributed import make_app  # Celery loads only for shared mode
    from dangan.scanning.distributed import run_worker as work

    archive.check()  # refuses a missing or outdated database, with the fix
    if not (archive.home.store_dir / "sources").is_dir():
        raise DanganError(
            f"no file store at {archive.home.store_dir}: mount the archive's shared store there "
            "or pass --home (the folder that holds store/)"
        )
    # the pool processes read these, as every dangan command does
    os.environ["DANGAN_HOME"] = str(archive.home.root)
    os.environ["DANGAN_DB"] = archive.home.db_url
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    work(make_app(broker), concurrency, loglevel, name or "dangan@%h")
