"""Two processes indexing at once must leave every page in the index."""

import multiprocessing as mp
import os

import pytest

from dangan.indexing.backends import open_backend
from dangan.indexing.lock import IndexLockTimeout, WriterLock
from tests.indexing.conftest import BACKENDS, page

PAGES_PER_WRITER = 120


def _write_pages(path, name, prefix, waits):
    index = open_backend(path, name, on_wait=lambda pid: waits.put((prefix, pid)))
    docs = (page(f"{prefix}{i:04d}", f"进程{prefix}的第{i}页 供用电合同") for i in range(PAGES_PER_WRITER))
    index.add(docs, batch_size=20)
    index.close()


@pytest.mark.parametrize("name", BACKENDS)
def test_two_writer_processes_in_parallel_lose_nothing(tmp_path, name):
    open_backend(tmp_path, name).close()
    ctx = mp.get_context("spawn")
    waits = ctx.Queue()
    writers = [ctx.Process(target=_write_pages, args=(tmp_path, name, p, waits)) for p in "AB"]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
        assert w.exitcode == 0
    index = open_backend(tmp_path, name)
    assert index.count() == 2 * PAGES_PER_WRITER
    assert len({pid for batch in index.fingerprints() for pid, _ in batch}) == 2 * PAGES_PER_WRITER
    assert index.search("进程B的第119页").total == 1


def _hold_lock(path, ready, release):
    with WriterLock(path):
        ready.set()
        release.wait(20)


def test_waiting_writer_is_told_who_holds_the_lock(tmp_path):
    ctx = mp.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        told = []
        with (
            pytest.raises(IndexLockTimeout, match=str(holder.pid)),
            WriterLock(tmp_path, on_wait=told.append, timeout=0.3),
        ):
            pass
        assert told == [holder.pid]
        release.set()  # once the holder lets go, the waiting writer gets the lock and says so
        with WriterLock(tmp_path, timeout=10) as lock:
            assert lock.holder_pid() == os.getpid()
    finally:
        release.set()
        holder.join(20)
