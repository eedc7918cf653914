"""Shared mode: pages OCR'd by workers on any machine, through a Celery queue on Redis.

    station: scan(…, runner=QueueRunner(db)) ─ publishes one `dangan.page` task per page ─► Redis
    worker (`dangan worker`, any machine that sees the file store and the database):
        page task → process_page_guarded → stage the page in the database → receipt ─► Redis
    station: receipts come back → the page is handed to `scan`, which stages it and accessions
        each folder as it completes (the one `_accession` path) → index outbox → one index writer

Why the results travel both ways. The worker *stages* each page (archive.staging, keyed by
(source SHA-256, page number)) before it acknowledges the task, so finished OCR is durable the
moment it is done: a station that dies loses nothing (a rerun asks `staged_numbers` and
publishes only what is missing), and a task delivered twice — a worker killed after staging,
two stations submitting the same file — finds the page staged and returns it without
running OCR again. The page also comes back in the Celery result, so the station never polls
the database and sees errors as they happen; the result is deleted once read.

Delivery. Tasks are acknowledged late (after the page is staged), rejected back to the queue
if the worker process dies (SIGKILL, OOM), and each worker takes one task at a time
(prefetch 1). A worker *machine* that dies holds its task unacknowledged in Redis; the broker
hands it to another worker after `DANGAN_VISIBILITY_TIMEOUT` seconds (default one hour — it
must exceed the slowest page, or a healthy worker's page is also run twice: harmless, wasted).

Several stations at once. Numbers are gap-free by the counter's row lock; two stations that
accession the same file or two files of one new customer at the same moment would still race
on the unique source checksum and 户号. The runner therefore hands each finished page to `scan`
under one PostgreSQL advisory lock (held from the yield until `scan` asks for the next page,
i.e. across its staging and accession), so the second station sees the first one's record and
returns it instead of failing. Accession is milliseconds against seconds of OCR per page.

Messages are JSON (never pickle: a broker reachable from the network must not be able to run
code in a worker); paths in them are relative to the file store, which each worker finds
under its own data home (the shared path may be mounted differently on each machine).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path

from celery import Celery, signals

from dangan.archive.db import Database
from dangan.archive.home import DataHome
from dangan.archive.models import Page, SourceFile, StagedPage
from dangan.archive.records.accession import IntakePage, already_accessioned
from dangan.archive.records.staging import stage_page
from dangan.archive.store import FileStore
from dangan.scanning.page import PipelineOptions
from dangan.scanning.runner import PageTask, process_page_guarded
from dangan.scanning.sources import SUFFIX, RejectedFile, SourceInfo

QUEUE = "dangan.pages"
TASK = "dangan.page"
DEFAULT_BROKER = "redis://localhost:6379/0"
HANDOVER_LOCK = 0x64616E67  # "dang": one advisory lock for handing pages to accession


def broker_url() -> str:
    return os.environ.get("DANGAN_BROKER") or DEFAULT_BROKER


def make_app(broker: str | None = None, visibility_timeout: float | None = None) -> Celery:
    """The Celery app: Redis as broker and result store, settings that make delivery safe."""
    url = broker or broker_url()
    vt = float(visibility_timeout or os.environ.get("DANGAN_VISIBILITY_TIMEOUT") or 3600)
    app = Celery("dangan", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # acknowledged only after the page is staged
        task_reject_on_worker_lost=True,  # a worker process killed mid-page: back to the queue
        worker_prefetch_multiplier=1,  # a worker holds no page it is not working on
        task_default_queue=QUEUE,
        task_routes={TASK: {"queue": QUEUE}},
        result_expires=24 * 3600,
        result_extended=False,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_max_tasks_per_child=500,  # bounds any slow leak in OCR libraries
        broker_transport_options={
            "visibility_timeout": vt,
            # look for abandoned tasks often enough for the timeout to mean what it says
            "unacked_restore_interval": max(1, min(10, int(vt // 4))),
            "unacked_restore_throttle": 1,
            # The restorer takes a Redis mutex; kombu keeps it 5 minutes by default, so a
            # worker killed while holding it would stop every restore for that long.
            "unacked_mutex_expire": max(2, min(60, int(vt // 4))),
        },
        result_backend_transport_options={"visibility_timeout": vt},
    )
    app.task(name=TASK, bind=True)(_page_task)
    return app


# ---------------------------------------------------------------- messages


def task_message(task: PageTask) -> dict:
    """A PageTask as JSON, its source given relative to the file store (already stored by scan)."""
    store = FileStore(task.store_root)
    stored = store.put_file("sources", task.info.path, SUFFIX[task.info.media_type], sha=task.source_sha256)
    return {
        "source": stored.relpath,
        "name": Path(task.info.path).name,
        "media_type": task.info.media_type,
        "page_count": task.info.page_count,
        "page_no": task.page_no,
        "source_sha256": task.source_sha256,
        "options": asdict(task.options),
    }


def task_from_message(msg: dict, store_root: str | os.PathLike) -> PageTask:
    store = FileStore(store_root)
    info = SourceInfo(path=str(store.path(msg["source"])), media_type=msg["media_type"], page_count=msg["page_count"])
    return PageTask(info, msg["page_no"], str(store.root), _options(msg["options"]), msg["source_sha256"])


def _options(d: dict) -> PipelineOptions:
    d = dict(d)
    d["doc_type_hints"] = tuple((code, tuple(hints)) for code, hints in d.get("doc_type_hints", ()))
    d["business_type_names"] = tuple(tuple(p) for p in d.get("business_type_names", ()))
    return PipelineOptions(**d)


# ---------------------------------------------------------------- worker side

_worker: dict = {}  # per worker process: {"db": Database, "store": str}


@signals.worker_process_init.connect
def _forget_parent_connections(**_kw) -> None:
    db = _worker.pop("db", None)
    if db is not None:
        db.engine.dispose(close=False)


def _worker_home() -> tuple[Database, str]:
    """This machine's view of the archive: DANGAN_DB and DANGAN_HOME, as for every command."""
    if "db" not in _worker:
        home = DataHome.resolve()
        _worker["db"], _worker["store"] = Database(home.db_url), str(home.store_dir)
    return _worker["db"], _worker["store"]


def _page_task(self, msg: dict) -> dict:
    db, store_root = _worker_home()
    task = task_from_message(msg, store_root)
    if not Path(task.info.path).exists():
        return {
            "error": f"worker {self.request.hostname} does not see {msg['name']} in the file store at "
            f"{store_root} (no {msg['source']}): give every worker the shared store "
            "(DANGAN_HOME) and the archive's database (DANGAN_DB)"
        }
    sha, n = task.source_sha256, task.page_no
    done = _already_done(db, sha, n)
    if done is not None:
        return {"page": asdict(done), "reused": True}
    try:
        page = process_page_guarded(task)
    except RejectedFile as e:
        return {"error": str(e)}
    stage_once(db, sha, page)
    return {
        "page": asdict(page),
        "reused": False,
        "redelivered": bool((self.request.delivery_info or {}).get("redelivered")),
    }


def _already_done(db: Database, sha: str, page_no: int) -> IntakePage | None:
    """The page as staged (a task delivered twice), or as archived (another station was first)."""
    with db.session() as s:
        row = s.get(StagedPage, (sha, page_no))
        if row is not None:
            return IntakePage(**row.payload)
        page = s.scalar(select_archived(sha, page_no))
        if page is not None:
            cols = {c.name for c in Page.__table__.columns}
            return IntakePage(**{f.name: getattr(page, f.name) for f in fields(IntakePage) if f.name in cols})
    return None


def select_archived(sha: str, page_no: int):
    from sqlalchemy import select

    return (
        select(Page)
        .join(SourceFile, Page.source_id == SourceFile.id)
        .where(SourceFile.sha256 == sha, Page.source_page == page_no, Page.superseded_by_id.is_(None))
    )


def stage_once(db: Database, sha: str, page: IntakePage) -> None:
    """Stage PAGE unless its folder is already in the archive; a concurrent twin is fine."""
    from sqlalchemy.exc import IntegrityError

    try:
        with db.session() as s:
            if already_accessioned(s, sha) is None:
                stage_page(s, sha, page)
    except IntegrityError:
        pass  # the same page, staged by a twin delivery a moment ago: one row, same content


def run_worker(app: Celery, concurrency: int = 1, loglevel: str = "INFO", hostname: str | None = None) -> None:
    """Work pages until stopped (Ctrl-C finishes the page in hand; SIGKILL loses nothing)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    argv = [
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--queues",
        QUEUE,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]
    if hostname:
        argv += ["--hostname", hostname]
    app.worker_main(argv)


def workers_listening(app: Celery, timeout: float = 1.0) -> list[str]:
    """Names of the workers that answer a ping (to warn a station that nobody is listening)."""
    replies = app.control.ping(timeout=timeout) or []
    return sorted(name for r in replies for name in r)


# ---------------------------------------------------------------- station side


class QueueRunner:
    """A PageRunner for `scanning.batch.scan`: publishes the pages, yields them as workers finish.

    `jobs` is ignored: how many pages run at once is the sum of the workers' concurrency."""

    def __init__(self, db: Database, app: Celery | None = None, *, poll: float = 0.2):
        self.db = db
        self.app = app or make_app()
        self.poll = poll
        self.published = 0
        self.reused = 0  # pages a worker found already done (twin delivery or another station)

    def __call__(self, tasks: Iterable[PageTask], jobs: int = 1) -> Iterator[tuple[PageTask, IntakePage]]:
        page_task = self.app.tasks[TASK]
        pending: dict[str, PageTask] = {}
        for task in tasks:
            pending[page_task.apply_async((task_message(task),), queue=QUEUE).id] = task
        self.published += len(pending)
        if not pending:
            return
        with self._handover() as handover:
            for task_id, meta in self.app.backend.get_many(set(pending), interval=self.poll):
                task = pending.pop(task_id)
                self.app.backend.forget(task_id)
                result = meta.get("result")
                if meta.get("status") != "SUCCESS":
                    raise RuntimeError(
                        f"page {task.page_no} of {Path(task.info.path).name} failed on a worker: {result!r}"
                    )
                if "error" in result:
                    yield task, RejectedFile(result["error"])
                    continue
                self.reused += bool(result.get("reused"))
                with handover():
                    yield task, IntakePage(**result["page"])

    @contextmanager
    def _handover(self):
        """A PostgreSQL session-level advisory lock, taken around each yield (no-op elsewhere:
        SQLite's BEGIN IMMEDIATE already serialises writers on its one machine)."""
        if self.db.engine.dialect.name != "postgresql":

            @contextmanager
            def nothing():
                yield

            yield nothing
            return
        from sqlalchemy import text

        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

        @contextmanager
        def held():
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": HANDOVER_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": HANDOVER_LOCK})

        try:
            yield held
        finally:
            conn.close()


app = make_app()  # `celery -A scanning.distributed worker` finds it; settings come from the environment


def main(argv: list[str] | None = None) -> None:
    """python -m scanning.distributed [--concurrency N]: a worker, without the dangan CLI."""
    import argparse

    ap = argparse.ArgumentParser(description="dangan page worker (Celery on Redis)")
    ap.add_argument("--concurrency", "-c", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--loglevel", default="INFO")
    ap.add_argument("--hostname", default=None)
    args = ap.parse_args(argv)
    run_worker(app, args.concurrency, args.loglevel, args.hostname)


if __name__ == "__main__":
    main()
