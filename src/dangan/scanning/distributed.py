"""Shared mode: pages OCR'd by workers on any machine, through a Celery queue on Redis.

    station: scan(…, runner=QueueRunner(db)) ─ publishes one `dangan.page` task per page ─► Redis
    worker (`dangan worker`, any machine that sees the file store and the database):
        page task → process_page_guarded → stage the page in the database → receipt ─► Redis
    station: receipts come back → `scan` accessions each folder as its last page is staged
        (the one `_accession` path, under the accession lock) → index outbox → one index writer

The page travels through the database, not the queue. The worker *stages* each page
(archive.staging, keyed by (source SHA-256, page number)) before it acknowledges the task, so
finished OCR is durable the moment it is done: a station that dies loses nothing (a rerun asks
`staged_numbers` and publishes only what is missing), and a task delivered twice — a worker
killed after staging, two stations submitting the same file, a page published again after a
queue restart — finds the page staged and answers at once. The receipt in Redis holds only ids,
an outcome and timings: no page text or field value ever sits in Redis or in a worker's log.

Faults, and what each side does (the README's shared-mode section tells the operator):
- database or store unreachable on a worker: the worker keeps the page and retries, saying so
  in its log; past `hold` seconds it puts the page back in the queue. A page is failed (its file
  quarantined) only for a reason in the page itself.
- a worker that cannot see the file store (or lacks an OCR program) takes itself out of
  service: the page goes back to the queue for the others, the worker stops taking pages and
  says why in its log and to the stations (a Redis key they read).
- a worker process killed: its page goes back to the queue at once (reject_on_worker_lost); a
  worker machine that dies holds its page until the visibility timeout, which the station shows.
- Redis restarted (its queue possibly lost): the station sees the server change and publishes
  the pages it still waits for again; twins are answered from the journal.
- database or Redis unreachable on a station: it waits (outage.Patience) and carries on.

Messages are JSON (never pickle: a broker reachable from the network must not be able to run
code in a worker); paths in them are relative to the file store, which each worker finds
under its own data home (the shared path may be mounted differently on each machine).
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from celery import Celery, signals
from celery.exceptions import Reject
from celery.utils.log import get_task_logger

from dangan.archive.db import Database
from dangan.archive.home import DataHome
from dangan.archive.models import Page, SourceFile, StagedPage
from dangan.archive.records.accession import already_accessioned
from dangan.archive.records.staging import stage_page
from dangan.archive.store import FileStore
from dangan.i18n import _
from dangan.scanning.outage import DATABASE, STORE, OutageLimit, Patience, describe_db
from dangan.scanning.page import PipelineOptions
from dangan.scanning.runner import PageTask, process_page_guarded
from dangan.scanning.sources import SUFFIX, RejectedFile, SourceInfo
from dangan.tools import ToolMissing

QUEUE = "dangan.pages"
TASK = "dangan.page"
DEFAULT_BROKER = "redis://localhost:6379/0"
# Pages take 0.5–4 s of OCR on one core (bench/scale.py, both engines); 300 s is far above the
# slowest page yet lets a dead machine's page move on within minutes, not the hour it was.
DEFAULT_VISIBILITY_TIMEOUT = 300.0
OUT_OF_SERVICE = "dangan:out-of-service:"  # + worker name -> why it stopped taking pages (JSON)

log = get_task_logger(__name__)


class _RejectsWithoutTraceback(logging.Filter):
    """A page given back to the queue is an outcome, logged with its reason: no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], Reject):
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("celery.app.trace").addFilter(_RejectsWithoutTraceback())


def broker_url() -> str:
    return os.environ.get("DANGAN_BROKER") or DEFAULT_BROKER


def configured_visibility_timeout() -> float:
    return float(os.environ.get("DANGAN_VISIBILITY_TIMEOUT") or DEFAULT_VISIBILITY_TIMEOUT)


def make_app(broker: str | None = None, visibility_timeout: float | None = None) -> Celery:
    """The Celery app: Redis as broker and result store, settings that make delivery safe."""
    url = broker or broker_url()
    vt = float(visibility_timeout or configured_visibility_timeout())
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
        broker_connection_max_retries=None,  # a worker is a service: it reconnects for as long as it runs
        worker_cancel_long_running_tasks_on_connection_loss=False,  # the page in hand is staged all the same
        worker_hijack_root_logger=False,
        worker_max_tasks_per_child=500,  # bounds any slow leak in OCR libraries
        redis_socket_connect_timeout=5,
        redis_socket_timeout=30,
        broker_transport_options={
            "visibility_timeout": vt,
            "socket_connect_timeout": 5,
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
    """A PageTask as JSON, its source given relative to the file store (already stored by scan).
    No file name: scanners name files after customers, and the message sits in Redis."""
    store = FileStore(task.store_root)
    stored = store.put_file("sources", task.info.path, SUFFIX[task.info.media_type], sha=task.source_sha256)
    return {
        "source": stored.relpath,
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


def page_ref(msg: dict) -> str:
    """How logs name a page: its file's checksum and page number (never its name or text)."""
    return f"{msg['source_sha256'][:12]}#{msg['page_no']}"


# ---------------------------------------------------------------- worker side

_worker: dict = {}  # per worker process: db, store, patience, and why it is out of service


@signals.worker_process_init.connect
def _forget_parent_connections(**_kw) -> None:
    db = _worker.pop("db", None)
    if db is not None:
        db.engine.dispose(close=False)


@signals.worker_ready.connect
def _back_in_service(sender=None, **_kw) -> None:
    """A (re)started worker takes pages again: forget what a former run said about it."""
    try:
        sender.app.backend.client.delete(OUT_OF_SERVICE + sender.hostname)
    except Exception as e:  # noqa: BLE001 - the queue may be down; the worker reconnects on its own
        log.warning(_("could not clear the out-of-service mark of %s: %s"), sender.hostname, e)


def _worker_home() -> tuple[Database, str, Patience]:
    """This machine's view of the archive: DANGAN_DB and DANGAN_HOME, as for every command."""
    if "db" not in _worker:
        home = DataHome.resolve()
        _worker["db"], _worker["store"] = Database(home.db_url), str(home.store_dir)
        vt = configured_visibility_timeout()
        _worker["patience"] = Patience(
            # keep the page through a short outage; give it back well before the queue would
            limit=float(os.environ.get("DANGAN_WORKER_HOLD") or max(5.0, vt / 3)),
            notify=_waiting,
            then=_("the page goes back to the queue at {until}"),
            services={
                "database": describe_db(home.db_url),
                "store": _("the file store at {root}").format(root=home.store_dir),
            },
        )
    return _worker["db"], _worker["store"], _worker["patience"]


def _page_task(self, msg: dict) -> dict:
    started = time.monotonic()
    db, store_root, patience = _worker_home()
    worker = self.request.hostname
    if _worker.get("out_of_service"):
        raise Reject(_worker["out_of_service"], requeue=True)
    task = task_from_message(msg, store_root)
    if not Path(task.info.path).exists():
        _out_of_service(
            self,
            _(
                "worker {worker} does not see {source} in its file store at {root}: out of service, "
                "its pages go to the other workers. Mount the archive's shared store there (DANGAN_HOME "
                "or --home), then restart this worker."
            ).format(worker=worker, source=msg["source"], root=store_root),
        )
    _mark_started(self, worker)
    sha, n = task.source_sha256, task.page_no
    ref = page_ref(msg)
    try:
        outcome = patience.call(lambda: _already_done(db, sha, n), uses=DATABASE)
        reused = outcome is not None
        if not reused:
            try:
                page = patience.call(lambda: process_page_guarded(task), uses=STORE)
            except RejectedFile as e:  # the page itself: its file is quarantined by the station
                log.info(_("page %s refused after %.2f s"), ref, time.monotonic() - started)
                return {"page": n, "outcome": "refused", "error": str(e), "error_kept": e.kept, "worker": worker}
            outcome = patience.call(lambda: stage_once(db, sha, page), uses=DATABASE)
    except OutageLimit as e:
        log.warning(_("page %s goes back to the queue: %s"), ref, e)
        raise Reject(str(e), requeue=True) from None
    except ToolMissing as e:
        _out_of_service(self, _("worker {worker} cannot OCR: {error}; out of service").format(worker=worker, error=e))
    return {
        "page": n,
        "outcome": outcome,
        "reused": reused,
        "seconds": round(time.monotonic() - started, 2),
        "worker": worker,
        "redelivered": bool((self.request.delivery_info or {}).get("redelivered")),
    }


def _mark_started(task, worker: str, waiting: str = "") -> None:
    """Tell the stations which worker holds the page, and what it waits for (best effort: the
    page matters more)."""
    try:
        meta = {"worker": worker, "pid": os.getpid(), **({"waiting": waiting} if waiting else {})}
        task.update_state(state="STARTED", meta=meta)
    except Exception as e:  # noqa: BLE001 - Redis down for a moment: the receipt will still come
        log.warning(_("could not mark page as started: %s"), e)


def _waiting(message: str) -> None:
    """An outage met while holding a page: in the log, and to the station waiting for the page."""
    from celery import current_task

    log.warning(message)
    if current_task and current_task.request.id:
        _mark_started(current_task, current_task.request.hostname, message)


def _out_of_service(task, reason: str) -> None:
    """Stop this worker taking pages, say why (log and stations), and give the page back."""
    worker = task.request.hostname
    if not _worker.get("out_of_service"):
        _worker["out_of_service"] = reason
        log.error(reason)
        try:
            task.app.backend.client.set(
                OUT_OF_SERVICE + worker, json.dumps({"reason": reason, "since": time.time()}), ex=7 * 86400
            )
            task.app.control.cancel_consumer(QUEUE, destination=[worker])
        except Exception as e:  # noqa: BLE001 - the queue may be down too; the flag above still holds
            log.warning(_("could not announce that %s is out of service: %s"), worker, e)
    raise Reject(reason, requeue=True)


def _already_done(db: Database, sha: str, page_no: int) -> str | None:
    """'staged' (a task delivered twice), 'archived' (another station was first), or None."""
    with db.session() as s:
        if s.get(StagedPage, (sha, page_no)) is not None:
            return "staged"
        if s.scalar(select_archived(sha, page_no).with_only_columns(Page.id)) is not None:
            return "archived"
    return None


def select_archived(sha: str, page_no: int):
    from sqlalchemy import select

    return (
        select(Page)
        .join(SourceFile, Page.source_id == SourceFile.id)
        .where(SourceFile.sha256 == sha, Page.source_page == page_no, Page.superseded_by_id.is_(None))
    )


def stage_once(db: Database, sha: str, page) -> str:
    """Stage PAGE unless its folder is already in the archive; a concurrent twin is fine.
    Returns 'staged' or 'archived'."""
    from sqlalchemy.exc import IntegrityError

    try:
        with db.session() as s:
            if already_accessioned(s, sha) is not None:
                return "archived"
            stage_page(s, sha, page)
    except IntegrityError:
        pass  # the same page, staged by a twin delivery a moment ago: one row, same content
    return "staged"


def store_problem(db: Database, store_root: str | os.PathLike, sample: int = 5) -> str | None:
    """Why this machine's file store cannot be the archive's (none of the newest source files
    the database records is in it), or None. An empty archive cannot tell: the page tasks check
    again, file by file."""
    from sqlalchemy import select

    with db.session() as s:
        paths = list(s.scalars(select(SourceFile.stored_path).order_by(SourceFile.id.desc()).limit(sample)))
    root = Path(store_root)
    if not paths or any((root / p).is_file() for p in paths):
        return None
    return _(
        "the file store at {root} holds none of the archive's newest source files (e.g. {example}): "
        "it is not the archive's shared store. Mount the shared store there, or pass --home / set "
        "DANGAN_HOME to the folder that holds it"
    ).format(root=root, example=paths[0])


def run_worker(app: Celery, concurrency: int = 1, loglevel: str = "INFO", hostname: str | None = None) -> None:
    """Work pages until stopped (Ctrl-C finishes the page in hand; SIGKILL loses nothing)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    # We keep the page in hand when the broker connection drops (it is staged all the same);
    # Celery warns at every reconnection that its default will change: said once, here.
    warnings.filterwarnings("ignore", message=".*worker_cancel_long_running_tasks_on_connection_loss")
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


def out_of_service(app: Celery) -> dict[str, str]:
    """Workers that took themselves out of service, and why."""
    client = app.backend.client
    found = {}
    for key in client.scan_iter(match=OUT_OF_SERVICE + "*", count=100):
        raw = client.get(key)
        if raw:
            name = (key.decode() if isinstance(key, bytes) else key)[len(OUT_OF_SERVICE) :]
            found[name] = json.loads(raw)["reason"]
    return found


def check_queue(app: Celery) -> None:
    """Raise the broker's connection error now if the queue cannot be reached."""
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=5)
        app.backend.client.ping()


app = make_app()  # `celery -A dangan.scanning.distributed worker` finds it; settings from the environment


def main(argv: list[str] | None = None) -> None:
    """python -m dangan.scanning.distributed [--concurrency N]: a worker, without the dangan CLI."""
    import argparse

    ap = argparse.ArgumentParser(description="dangan page worker (Celery on Redis)")
    ap.add_argument("--concurrency", "-c", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--loglevel", default="INFO")
    ap.add_argument("--hostname", default=None)
    args = ap.parse_args(argv)
    run_worker(app, args.concurrency, args.loglevel, args.hostname)


if __name__ == "__main__":
    main()
