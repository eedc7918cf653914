"""A scanning station's side of shared mode: publish a batch's pages to the queue, wait for the
workers' receipts, and keep the operator told.

The runner yields `Staged(page_no)` as each page's receipt arrives (the worker has journaled
the page in the database; `scan` accessions the folder once all its pages are in), or the
RejectedFile a worker found in the page itself. While it waits it watches:

- pages in flight longer than expected: which page, on which worker, for how long, and when
  the queue will give it to another worker if that one is dead (the visibility timeout);
- pages nobody takes: no worker listening, or every worker out of service (and why);
- the queue server restarting: its run id changes, and a Redis without persistence forgets its
  queue, so the pages still awaited are published again (a twin finds the page journaled);
- outages of the queue or the database: waited out through `outage.Patience`, which says what
  it waits for and stops cleanly, with the command to resume, past its limit.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from celery import Celery
from celery.utils import uuid

from dangan.archive.db import Database
from dangan.errors import DanganError
from dangan.i18n import _
from dangan.scanning import outage
from dangan.scanning.batch import PageDone, PageTask, Staged
from dangan.scanning.distributed import QUEUE, TASK, make_app, out_of_service, task_message
from dangan.scanning.outage import Patience, describe_broker
from dangan.scanning.sources import RejectedFile

TYPICAL_PAGE = 6.0  # seconds, until the batch has measured its own
MIN_STALL = 30.0


class WorkersFailing(DanganError):
    """A page failed on workers for a reason that is not in the page (a broken worker)."""


@dataclass
class _Awaited:
    task: PageTask
    msg: dict
    published: float
    attempts: int = 1
    worker: str = ""  # who holds the page now, as last seen
    since: float = 0.0  # when we first saw that worker hold it
    told: str = ""  # the worker we last told the operator it was stuck on
    waiting: str = ""  # what that worker says it waits for (an outage it met)
    failures: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return _("page {page} of {file}").format(page=self.task.page_no, file=Path(self.task.info.path).name)


def failure_reason(meta: dict) -> str:
    """What broke, from a FAILURE or REVOKED receipt. The result backend hands the worker's
    exception back as an exception object (a dict only when it cannot rebuild the class), e.g.
    the ConnectionError of a worker that lost Redis while storing its answer."""
    info = meta.get("result")
    if isinstance(info, BaseException):
        return f"{type(info).__name__}: {info}"
    if isinstance(info, dict) and info.get("exc_type"):
        return f"{info['exc_type']}: {info.get('exc_message', '')}"
    return str(meta["status"])


class QueueRunner:
    """A PageRunner for `scanning.batch.scan`: publishes the pages, yields them as workers finish.

    `jobs` is ignored: how many pages run at once is the sum of the workers' concurrency.
    STALL_AFTER (seconds; DANGAN_STALL_AFTER) is when a page in flight is called late; by
    default five times the batch's typical page time, at least 30 s."""

    def __init__(
        self,
        db: Database,
        app: Celery | None = None,
        *,
        poll: float = 0.2,
        patience: Patience | None = None,
        notify: Callable[[str], None] | None = None,
        stall_after: float | None = None,
        attempts: int = 3,
    ):
        self.db = db
        self.app = app or make_app()
        self.poll = poll
        self.patience = patience or Patience(limit=0)
        self.notify = notify or self.patience.notify or (lambda _m: None)
        self.stall_after = stall_after or float(os.environ.get("DANGAN_STALL_AFTER") or 0) or None
        self.attempts = attempts
        self.visibility_timeout = float(self.app.conf.broker_transport_options["visibility_timeout"])
        self.published = 0
        self.republished = 0  # published again after a queue restart or a failing worker
        self.reused = 0  # pages a worker found already done (twin delivery or another station)
        self.late: list[dict] = []  # pages the operator was told about, for the batch report
        self.page_seconds: list[float] = []
        self._out: dict[str, str] = {}
        self._server = ""

    def stats(self) -> dict:
        return {
            "published": self.published,
            "republished": self.republished,
            "reused": self.reused,
            "late": self.late,
            "out_of_service": self._out,
        }

    # ------------------------------------------------------------------ the loop

    def __call__(self, tasks: Iterable[PageTask], jobs: int = 1) -> Iterator[tuple[PageTask, PageDone]]:
        awaited: dict[str, _Awaited] = {}
        for task in tasks:
            task_id, msg = uuid(), task_message(task)
            awaited[task_id] = _Awaited(task, msg, time.monotonic())
            self._publish(task_id, msg)
        self.published += len(awaited)
        if not awaited:
            return
        self._server = self._call(self._server_id)
        last_look = activity = time.monotonic()
        while awaited:
            seen = self._call(lambda: self._receipts(awaited))
            now = time.monotonic()
            finished: list[tuple[str, dict]] = []
            for task_id, meta in seen.items():
                a = awaited[task_id]
                if meta["status"] == "STARTED":
                    mark = meta.get("result") or {}
                    if mark.get("worker", "") != a.worker:
                        a.worker, a.since, activity = mark.get("worker", ""), now, now
                    a.waiting = mark.get("waiting", "")
                elif meta["status"] == "SUCCESS":
                    finished.append((task_id, meta["result"]))
                else:  # FAILURE or REVOKED: the worker broke, not the page (that would be a refusal)
                    self._failed(task_id, a, meta)
            if finished:
                activity = now
                keys = [self._key(t) for t, _r in finished]
                self._call(partial(self.app.backend.client.delete, *keys))
            for task_id, result in finished:
                a = awaited.pop(task_id)
                yield a.task, self._done(a, result)
            if now - last_look >= self._look_every():
                last_look = now
                activity = self._look(awaited, now, activity)
            if not finished:
                time.sleep(self.poll if len(awaited) <= 1000 else 1.0)

    def _done(self, a: _Awaited, result: dict) -> PageDone:
        if result.get("outcome") == "refused":
            refused = RejectedFile(result["error"])
            refused.kept = result.get("error_kept")  # code + text + params, for readers of other languages
            return refused
        if result.get("reused"):
            self.reused += 1
        elif result.get("seconds"):
            self.page_seconds.append(float(result["seconds"]))
        return Staged(a.task.page_no)

    def _failed(self, task_id: str, a: _Awaited, meta: dict) -> None:
        why = failure_reason(meta)
        a.failures += (why,)
        if a.attempts >= self.attempts:
            raise WorkersFailing(
                _(
                    "{page} failed {n} times on workers ({errors}): see the workers' logs and fix them, then "
                    "run the same command again; nothing finished is lost"
                ).format(page=a.name, n=a.attempts, errors="; ".join(a.failures))
            )
        self.notify(
            _("{page} failed on a worker ({error}); trying again ({n} of {total})").format(
                page=a.name, error=why, n=a.attempts + 1, total=self.attempts
            )
        )
        a.attempts += 1
        self._call(lambda: self.app.backend.client.delete(self._key(task_id)))
        self._publish(task_id, a.msg)
        self.republished += 1

    # ------------------------------------------------------------------ queue access

    def _call(self, fn):
        return self.patience.call(fn, uses=outage.QUEUE)

    def _publish(self, task_id: str, msg: dict) -> None:
        page_task = self.app.tasks[TASK]
        self._call(lambda: page_task.apply_async((msg,), task_id=task_id, queue=QUEUE))

    def _key(self, task_id: str):
        return self.app.backend.get_key_for_task(task_id)

    def _receipts(self, awaited: dict[str, _Awaited]) -> dict[str, dict]:
        """The results and STARTED marks of the awaited pages, in one round trip."""
        backend = self.app.backend
        ids = list(awaited)
        raws = backend.client.mget([self._key(t) for t in ids])
        return {t: backend.decode_result(raw) for t, raw in zip(ids, raws, strict=True) if raw}

    def _database_answers(self) -> None:
        """Say at once when the database is down, not at the next accession; but go on reporting
        late pages meanwhile (past the outage limit this raises OutageLimit)."""
        from sqlalchemy import text

        try:
            with self.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as e:
            if outage.transient(e) != outage.DATABASE:
                raise
            self.patience.failed(outage.DATABASE, e)
        else:
            self.patience.recovered(outage.DATABASE)

    def _server_id(self) -> str:
        return str(self.app.backend.client.info("server").get("run_id", ""))

    # ------------------------------------------------------------------ keeping the operator told

    def typical(self) -> float:
        return statistics.median(self.page_seconds) if self.page_seconds else TYPICAL_PAGE

    def late_after(self) -> float:
        return self.stall_after or max(MIN_STALL, 5 * self.typical())

    def _look_every(self) -> float:
        return max(0.5, min(5.0, self.late_after() / 3))

    def _look(self, awaited: dict[str, _Awaited], now: float, activity: float) -> float:
        """Say what the operator should know; returns the time of the last sign of life."""
        self._database_answers()
        server = self._call(self._server_id)
        if server != self._server:
            self._server = server
            self.notify(
                _("the queue server restarted; publishing the {n} pages still awaited again").format(n=len(awaited))
            )
            for task_id, a in awaited.items():
                self._publish(task_id, a.msg)
                a.published, a.worker = now, ""
            self.republished += len(awaited)
            return now
        out = self._call(lambda: out_of_service(self.app))
        for worker, reason in out.items():
            if worker not in self._out:
                self.notify(_("worker {worker} is out of service: {reason}").format(worker=worker, reason=reason))
        self._out = out
        late = self.late_after()
        for a in awaited.values():
            if a.worker and now - a.since >= late and a.told != a.worker:
                a.told = a.worker
                at = time.time() + (a.since + self.visibility_timeout - now)
                self.late.append({"page": a.task.page_no, "file": a.task.info.path, "worker": a.worker})
                self.notify(
                    _(
                        "{page} has been on worker {worker} for {seconds:.0f} s ({typical}); if that worker is "
                        "down, the queue gives the page to another one at {at}"
                    ).format(
                        page=a.name,
                        worker=a.worker,
                        seconds=now - a.since,
                        typical=_("a page takes about {seconds:.1f} s here").format(seconds=self.typical())
                        if self.page_seconds
                        else _("no page of this batch has come back yet"),
                        at=time.strftime("%H:%M:%S", time.localtime(at)),
                    )
                    + (_("; the worker says: {waiting}").format(waiting=a.waiting) if a.waiting else "")
                )
        if now - activity >= late and not any(a.worker for a in awaited.values()):
            self.notify(
                _(
                    "{n} pages waiting in the queue and no worker has taken one for {seconds:.0f} s: start "
                    "`dangan worker` on a machine that sees this database, file store and queue ({queue})"
                ).format(n=len(awaited), seconds=now - activity, queue=describe_broker(self.app.conf.broker_url))
                + (_("; out of service: {workers}").format(workers=", ".join(sorted(out))) if out else "")
            )
            return now
        return activity
