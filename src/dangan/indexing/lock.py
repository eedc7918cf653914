"""ONE index writer at a time, across processes: an exclusive fcntl lock on a file in
the index directory. Whoosh's own lock fails fast (documents lost in trials) and
Tantivy's raises; this one waits, and tells the caller who holds it."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Self

from dangan.errors import Unavailable

LOCK_FILE = "writer.lock"
WaitCallback = Callable[[int | None], None]


class IndexLockTimeout(Unavailable, TimeoutError):
    pass


class WriterLock:
    """Context manager. `on_wait(pid)` is called once if another process holds the lock
    (pid may be None if unknown), e.g. to print "waiting for the index writer (held by
    pid N)…". `timeout=None` waits forever. Not re-entrant within one process."""

    POLL_SECONDS = 0.05

    def __init__(
        self, directory: str | os.PathLike, *, on_wait: WaitCallback | None = None, timeout: float | None = None
    ):
        self.path = Path(directory) / LOCK_FILE
        self.on_wait = on_wait
        self.timeout = timeout
        self._fd: int | None = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and self.on_wait is not None:
                    self.on_wait(self.holder_pid())
                told = True
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    raise IndexLockTimeout(
                        f"the index writer is still held by pid {self.holder_pid() or '?'} "
                        f"after {self.timeout:g} s ({self.path})"
                    ) from None
                time.sleep(self.POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def holder_pid(self) -> int | None:
        try:
            text = self.path.read_text().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None
