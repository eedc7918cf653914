"""Waiting out an outage: what the operator is told, when the wait ends, what is not waited for.
A fake clock stands in for time; the errors are the ones the real libraries raise."""

from __future__ import annotations

import pytest
import redis.exceptions
from kombu.exceptions import OperationalError as KombuOperationalError
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from dangan.archive.store import FileStore, StoreUnavailable
from dangan.errors import ExitStatus
from dangan.scanning.outage import (
    DATABASE,
    QUEUE,
    STORE,
    OutageLimit,
    Patience,
    describe_broker,
    describe_db,
    transient,
)


class Clock:
    def __init__(self):
        self.now = 36000.0  # 10:00 local time, give or take the zone

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def refused_db() -> OperationalError:
    """What SQLAlchemy raises when PostgreSQL is down (the real error, from a real connect)."""
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    with pytest.raises(OperationalError) as e:
        engine.connect()
    return e.value


def flaky(errors: list[BaseException], result="done"):
    calls = []

    def fn():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


def test_each_service_is_recognised_by_its_errors_and_the_work_itself_is_not(tmp_path):
    assert transient(refused_db()) == DATABASE
    assert transient(redis.exceptions.ConnectionError("Connection refused")) == QUEUE
    try:  # kombu wraps the redis error, Celery may wrap that: the cause chain is followed
        raise KombuOperationalError("wrapped") from redis.exceptions.ConnectionError("refused")
    except KombuOperationalError as e:
        assert transient(e) == QUEUE
    (tmp_path / "store").write_text("a file where the store should be mounted")
    store = FileStore(tmp_path / "store")
    with pytest.raises(StoreUnavailable) as e:
        store.put_bytes("masters", b"x", ".jpg")
    assert transient(e.value) == STORE
    assert transient(IntegrityError("insert", {}, Exception("duplicate key"))) is None
    assert transient(ValueError("a page that breaks the engine")) is None
    sqlite = create_engine("sqlite://")
    with pytest.raises(OperationalError) as e, sqlite.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert transient(e.value) is None  # SQLite: a missing table is a fault, not an outage


def test_an_outage_is_told_once_then_its_end_and_the_work_goes_on():
    clock, told = Clock(), []
    services = {DATABASE: "PostgreSQL at db:5432/dangan"}
    patience = Patience(limit=60, notify=told.append, clock=clock, sleep=clock.sleep, services=services)
    fn, calls = flaky([refused_db()] * 4)
    assert patience.call(fn, uses=DATABASE) == "done" and len(calls) == 5
    assert len(told) == 2, told
    assert told[0].startswith("PostgreSQL at db:5432/dangan unreachable since ")
    assert "Connection refused" in told[0] and ", retrying; giving up at " in told[0]
    assert told[1].startswith("PostgreSQL at db:5432/dangan reachable again after ")
    assert clock.now - 36000.0 < 5  # the pauses grow from a quarter of a second


def test_a_long_outage_is_recalled_now_and_then_and_ends_the_wait_at_the_limit_with_the_command_to_resume():
    clock, told = Clock(), []
    patience = Patience(
        limit=300,
        notify=told.append,
        clock=clock,
        sleep=clock.sleep,
        resume="dangan scan --distributed /mnt/scanner/batch-0412",
        services={QUEUE: "the queue (Redis) at queue-host:6379/0"},
    )
    fn, _calls = flaky([redis.exceptions.ConnectionError("Connection refused")] * 10_000)
    with pytest.raises(OutageLimit) as e:
        patience.call(fn)
    assert 295 <= clock.now - 36000.0 <= 305  # waited the limit, not more
    assert e.value.exit_status == ExitStatus.TEMPORARY == 75
    message = str(e.value)
    assert message.startswith("the queue (Redis) at queue-host:6379/0 unreachable since ")
    assert "stopped after waiting 300 s. Nothing finished is lost." in message
    assert message.endswith("run the same command again to resume: dangan scan --distributed /mnt/scanner/batch-0412")
    assert [t.split(" ")[5] for t in told] == ["unreachable"] + ["still"] * 4  # at 0, then every minute


def test_without_patience_an_outage_stops_at_once_and_anything_else_is_never_retried():
    fn, calls = flaky([refused_db()])
    with pytest.raises(OutageLimit):
        Patience(limit=0).call(fn)
    assert len(calls) == 1
    fn, calls = flaky([IntegrityError("insert", {}, Exception("duplicate key"))])
    with pytest.raises(IntegrityError):
        Patience(limit=60).call(fn)
    assert len(calls) == 1


def test_messages_name_servers_without_their_passwords():
    assert describe_db("postgresql+psycopg://dangan:pw@db-host:5433/archive") == "PostgreSQL at db-host:5433/archive"
    assert describe_broker("redis://:pw@queue-host:6379/0") == "the queue (Redis) at queue-host:6379/0"
