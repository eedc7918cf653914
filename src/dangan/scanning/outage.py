"""Waiting out an outage of a server dangan needs — the database, the queue, the file store —
and saying so, instead of failing on the first refused connection.

    patience = Patience(limit=900, notify=print, services={"database": "PostgreSQL at db:5432/dangan"})
    batch = patience.call(create_batch)     # retried while the database is unreachable

`Patience.call` runs a unit of work (one transaction, one publish) and, while it fails with a
*transient* error (a connection refused or dropped, a store that cannot be written), tells the
operator once what it waits for ("PostgreSQL at db:5432/dangan unreachable since 10:42:05 …"),
retries with a growing pause, says when the server is back, and after LIMIT seconds of one
outage raises OutageLimit: an error a person can act on, whose exit status (75, EX_TEMPFAIL)
says "try again later". Anything else is raised at once: only the outage is waited for.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from dangan.errors import ExitStatus, Unavailable
from dangan.i18n import _

T = TypeVar("T")

DATABASE, QUEUE, STORE = "database", "queue", "store"
DEFAULT_LIMIT = 900.0  # a server restart or fail-over takes seconds to minutes; lunch is longer


class OutageLimit(Unavailable):
    """A server stayed unreachable longer than we were told to wait. Nothing finished is lost."""

    exit_status = ExitStatus.TEMPORARY

    def __init__(self, message: str, service: str):
        super().__init__(message)
        self.service = service


def outage_limit(default: float = DEFAULT_LIMIT) -> float:
    """Seconds to wait out one outage: DANGAN_OUTAGE_LIMIT, or DEFAULT."""
    value = os.environ.get("DANGAN_OUTAGE_LIMIT")
    return float(value) if value else default


def transient(exc: BaseException) -> str | None:
    """Which service EXC says is unreachable (DATABASE, QUEUE, STORE), or None when EXC is
    about the work itself. Looks through the chain of causes: Celery and kombu wrap errors."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        service = _service_of(e)
        if service:
            return service
        e = e.__cause__ or e.__context__
    return None


def _service_of(e: BaseException) -> str | None:
    from dangan.archive.store import StoreUnavailable

    if isinstance(e, StoreUnavailable):
        return STORE
    module = type(e).__module__ or ""
    if module.startswith("sqlalchemy"):
        from sqlalchemy import exc as sa

        if isinstance(e, sa.DBAPIError) and e.connection_invalidated:
            return DATABASE
        if type(getattr(e, "orig", None)).__module__ == "sqlite3":  # a file, not a server: few errors pass
            return DATABASE if any(w in str(e.orig) for w in ("locked", "unable to open", "disk I/O")) else None
        if isinstance(e, (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError)):
            return DATABASE
        return None
    if module.startswith(("kombu", "redis", "celery")):
        from kombu.exceptions import OperationalError as KombuOperationalError
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout

        if isinstance(e, (KombuOperationalError, RedisConnectionError, RedisTimeout)):
            return QUEUE
        return None
    return None


def one_line(exc: BaseException) -> str:
    """The gist of EXC for a person: its first line, without SQLAlchemy's background links."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


@dataclass
class Patience:
    """How long to wait out an outage and whom to tell. One object per station or worker.

    SERVICES names each service for the messages ("PostgreSQL at db:5432/dangan"); RESUME is
    what the operator runs to carry on after OutageLimit (a station's own command line)."""

    limit: float = field(default_factory=outage_limit)
    notify: Callable[[str], None] | None = None
    services: dict[str, str] = field(default_factory=dict)
    resume: str = ""
    then: str = ""  # what happens at the limit, with {until}: default "giving up at {until}"
    first_pause: float = 0.25
    max_pause: float = 5.0
    remind_every: float = 60.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _down: dict[str, list[float]] = field(default_factory=dict, repr=False)  # service -> [since, last said]

    def name(self, service: str) -> str:
        default = {DATABASE: _("the database"), QUEUE: _("the queue"), STORE: _("the file store")}
        return self.services.get(service) or default[service]

    def call(self, fn: Callable[[], T], *, uses: str | None = None) -> T:
        """FN(), retried while it fails because a service is unreachable (see `transient`).
        USES names the service FN needs (DATABASE, QUEUE, STORE): its success proves that one
        back, if an outage of it was seen elsewhere."""
        pause, failed = self.first_pause, {uses} if uses else set()
        while True:
            try:
                result = fn()
            except Exception as e:
                service = transient(e)
                if service is None:
                    raise
                failed.add(service)
                self.failed(service, e)
                since = self._down[service][0]
                self.sleep(min(pause, max(0.0, since + self.limit - self.clock())))
                pause = min(pause * 2, self.max_pause)
                continue
            for service in failed:
                self.recovered(service)
            return result

    def failed(self, service: str, exc: BaseException) -> None:
        """SERVICE did not answer (EXC): say so (once, then now and then); OutageLimit once it
        has been down for longer than the limit."""
        now = self.clock()
        since, said = self._down.setdefault(service, [now, 0.0])
        until = since + self.limit
        if not said or now - said >= self.remind_every:
            template = (
                _("{what} unreachable since {since} ({error}), retrying; {then}")
                if not said
                else _("{what} still unreachable since {since} ({error}); {then}")
            )
            then = (self.then or _("giving up at {until}")).format(until=_hms(until))
            what = self.name(service)
            self._say(template.format(what=what, since=_hms(since), error=one_line(exc), then=then))
            self._down[service][1] = now
        if now >= until:
            del self._down[service]
            raise self.gave_up(service, since, exc) from None

    def recovered(self, service: str) -> None:
        """SERVICE answered again: say so, once, if it was down."""
        if service not in self._down:
            return
        since, _said = self._down.pop(service)
        self._say(
            _("{what} reachable again after {seconds:.0f} s; carrying on").format(
                what=self.name(service), seconds=self.clock() - since
            )
        )

    @property
    def outage(self) -> bool:
        """Is some service down right now (as far as we have seen)?"""
        return bool(self._down)

    def gave_up(self, service: str, since: float, exc: BaseException) -> OutageLimit:
        message = _("{what} unreachable since {since} ({error}): stopped after waiting {seconds:.0f} s.").format(
            what=self.name(service), since=_hms(since), error=one_line(exc), seconds=self.clock() - since
        )
        if self.resume:
            message += " " + _(
                "Nothing finished is lost. Once it is back, run the same command again to resume: {command}"
            ).format(command=self.resume)
        return OutageLimit(message, service)

    def _say(self, message: str) -> None:
        if self.notify:
            self.notify(message)


def _hms(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def describe_db(url: str) -> str:
    """'PostgreSQL at db-host:5432/dangan' (no password), or 'SQLite at /path' for messages."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return _("SQLite at {path}").format(path=u.database)
    return _("PostgreSQL at {host}:{port}/{db}").format(host=u.host or "localhost", port=u.port or 5432, db=u.database)


def describe_broker(url: str) -> str:
    """'the queue (Redis) at queue-host:6379/0' (no password) for messages."""
    from urllib.parse import urlsplit

    u = urlsplit(url)
    where = f"{u.hostname or 'localhost'}:{u.port or 6379}{u.path or '/0'}"
    return _("the queue (Redis) at {where}").format(where=where)
