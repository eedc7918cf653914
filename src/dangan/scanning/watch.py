"""The hot folder: scanners drop files into a folder; each file is scanned once it has stopped
growing, and nothing is moved.

    poll the folder → a file whose size and mtime stayed the same for `settle` seconds is
    settled → the settled files of one poll go to `scanning.batch.scan` as one batch
    → what was handed over and how it ended is kept in a small state file

The state file (``watch-state.json`` in the data home, rewritten atomically) makes restarts
safe both ways: a file recorded as *done* with the same size and mtime is not handed again,
and a file recorded as *handed* but not *done* (the process died mid-batch) is simply
handed again — scanning is idempotent (known bytes are skipped by checksum, staged pages
are not redone). A file that arrived while the watcher was down is not in the state, so it
is picked up like any new file. "Settled" is judged on this machine's monotonic clock, not
by comparing file mtimes with the clock, so a scanner share with a skewed clock cannot make
a half-written file look finished.

What is not a scan: dot-files and dot-folders, and the names copy tools and office programs
use while writing (``*.part``, ``*.tmp``, ``~$*`` …). Everything else goes to `scan`, which
quarantines what it cannot read, exactly as `dangan scan` would.
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import json
import logging
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dangan.archive.db import Database
from dangan.archive.store import FileStore
from dangan.errors import DanganError
from dangan.scanning.batch import BatchReport, FolderResult, ScanOptions, quarantine, scan
from dangan.scanning.sources import RejectedFile

log = logging.getLogger(__name__)

STATE_NAME = "watch-state.json"
# Names of files still being written (browsers, rsync/WinSCP, Office lock files) or that are
# not scans at all (Windows folder metadata). Dot-files are skipped separately.
IGNORED = (
    "*.part",
    "*.partial",
    "*.filepart",
    "*.crdownload",
    "*.tmp",
    "*.temp",
    "~$*",
    "~*.tmp",
    "Thumbs.db",
    "desktop.ini",
)
MAX_BATCH = 50  # files per scan call: bounds how long a Ctrl-C waits for "the current batch"


class WatchError(DanganError):
    pass


@dataclass
class WatchSummary:
    """What one `watch` run did (for tests and the final line of the CLI)."""

    batches: int = 0
    folders: list[FolderResult] = field(default_factory=list)
    errors: int = 0

    def count(self, status: str) -> int:
        return sum(1 for f in self.folders if f.status == status)


@dataclass
class _Seen:
    signature: tuple[int, int]  # (size, mtime_ns)
    since: float  # monotonic time the signature was first seen unchanged


def default_state_path(store: FileStore) -> Path:
    """The state file lives in the data home, beside the store."""
    return store.root.parent / STATE_NAME


def is_ignored(name: str, patterns: tuple[str, ...] = IGNORED) -> bool:
    return name.startswith(".") or any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


def candidates(folder: Path, patterns: tuple[str, ...] = IGNORED) -> Iterator[tuple[Path, tuple[int, int]]]:
    """Regular files under FOLDER (dot-folders skipped) with their (size, mtime_ns)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if is_ignored(name, patterns):
                continue
            path = Path(root) / name
            try:
                st = path.lstat()
            except FileNotFoundError:  # gone between listing and stat
                continue
            if stat.S_ISREG(st.st_mode):  # not symlinks, sockets, fifos
                yield path, (st.st_size, st.st_mtime_ns)


class WatchState:
    """Per watched folder: relative path → {size, mtime_ns, state: handed|done, …}.
    Rewritten whole and atomically (temporary file, fsync, rename, fsync the folder)."""

    VERSION = 1

    def __init__(self, path: Path, folder: Path):
        self.path = path
        self.key = str(folder)
        self._all: dict = {"version": self.VERSION, "folders": {}}
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise WatchError(
                    f"the watch state {path} cannot be read ({e}); move it aside to start "
                    "afresh (files already in the archive are then skipped by checksum)"
                ) from None
            if loaded.get("version") != self.VERSION:
                raise WatchError(
                    f"{path} was written by another version of dangan (version "
                    f"{loaded.get('version')!r}); move it aside to start afresh"
                )
            self._all = loaded
        self.files: dict[str, dict] = self._all["folders"].setdefault(self.key, {})

    def is_done(self, rel: str, signature: tuple[int, int]) -> bool:
        e = self.files.get(rel)
        return bool(e) and e["state"] == "done" and (e["size"], e["mtime_ns"]) == tuple(signature)

    def mark(self, rel: str, signature: tuple[int, int], state: str, **detail) -> None:
        self.files[rel] = {
            "size": signature[0],
            "mtime_ns": signature[1],
            "state": state,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            **detail,
        }

    def forget_missing(self, present: set[str]) -> None:
        """Drop done entries for files no longer in the folder (taken away after scanning),
        so the state stays small; handed entries are kept until they are done."""
        for rel in [r for r, e in self.files.items() if r not in present and e["state"] == "done"]:
            del self.files[rel]

    def pending(self) -> list[str]:
        return sorted(r for r, e in self.files.items() if e["state"] == "handed")

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self._all, ensure_ascii=False, indent=1, sort_keys=True).encode()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


@contextlib.contextmanager
def _exclusive(state_path: Path) -> Iterator[None]:
    """One watcher per state file: a second one would overwrite the first one's state."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    lock = state_path.with_name(state_path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise WatchError(
                f"another `dangan watch` (process {holder}) is using {state_path}; "
                "stop it first, or give this one another data home"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def watch(
    folder: str | os.PathLike,
    db: Database,
    store: FileStore,
    options: ScanOptions | None = None,
    *,
    settle: float = 5.0,
    interval: float = 2.0,
    stop_event: threading.Event | None = None,
    on_batch: Callable[[BatchReport], None] | None = None,
    on_error: Callable[[list[Path], BaseException], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    state_path: str | os.PathLike | None = None,
    ignore: tuple[str, ...] = IGNORED,
    max_batch: int = MAX_BATCH,
    clock: Callable[[], float] = time.monotonic,
    on_poll: Callable[[], None] | None = None,
) -> WatchSummary:
    """Watch FOLDER until STOP_EVENT is set; scan each file once it has settled.

    The stop event is checked between batches: a batch under way is finished first. A scan
    that fails (database unreachable, disk full …) is reported to ON_ERROR and retried with
    a growing pause; a file that breaks the page pipeline on its own is quarantined with the
    reason, so one bad file never holds up the others. CLOCK tells the time settling is judged
    by; ON_POLL hears each look at the folder (both for tests, which must not wait on time)."""
    options = options or ScanOptions()
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise WatchError(f"{folder}: no such folder to watch")
    if settle < 0 or interval <= 0:
        raise ValueError("settle must be ≥ 0 and interval > 0 seconds")
    stop_event = stop_event or threading.Event()
    state_file = Path(state_path) if state_path else default_state_path(store)
    summary = WatchSummary()
    seen: dict[str, _Seen] = {}
    retry_at: dict[str, tuple[float, int]] = {}  # rel → (monotonic time to retry, failures so far)

    with _exclusive(state_file):
        state = WatchState(state_file, folder)
        if state.pending():
            log.info(
                "%d file(s) were handed to scan but not finished before the last stop; they are scanned again",
                len(state.pending()),
            )
        while not stop_event.is_set():
            now = clock()
            present: dict[str, tuple[int, int]] = {}
            for path, sig in candidates(folder, ignore):
                rel = str(path.relative_to(folder))
                present[rel] = sig
                s = seen.get(rel)
                if s is None or s.signature != sig:
                    seen[rel] = _Seen(sig, now)
            for rel in set(seen) - set(present):
                del seen[rel]
            if on_poll:
                on_poll()
            ready = [
                rel
                for rel, s in sorted(seen.items())
                if now - s.since >= settle
                and not state.is_done(rel, s.signature)
                and retry_at.get(rel, (0.0, 0))[0] <= now
            ][:max_batch]
            if ready:
                _hand_over(
                    ready,
                    folder,
                    present,
                    state,
                    db,
                    store,
                    options,
                    summary,
                    retry_at,
                    on_batch,
                    on_error,
                    progress,
                    now,
                )
                state.forget_missing(set(present))
                state.save()
                continue  # look again at once: more may have settled during the batch
            stop_event.wait(interval)
    return summary


def _hand_over(
    ready: list[str],
    folder: Path,
    present: dict[str, tuple[int, int]],
    state: WatchState,
    db: Database,
    store: FileStore,
    options: ScanOptions,
    summary: WatchSummary,
    retry_at: dict[str, tuple[float, int]],
    on_batch,
    on_error,
    progress,
    now: float,
) -> None:
    """Hand READY to scan as one batch; on a failure, find the file at fault one by one."""
    for rel in ready:
        state.mark(rel, present[rel], "handed")
    state.save()  # before scanning: a crash from here on means "scan these again"
    groups = [ready]
    while groups:
        group = groups.pop(0)
        paths = [folder / rel for rel in group]
        try:
            report = scan(paths, db, store, options, progress=progress)
        except RejectedFile as e:
            if len(group) > 1:  # which file? try them one at a time
                groups = [[rel] for rel in group] + groups
                continue
            try:
                quarantine(paths[0], str(e), db, store, options.actor, None)
            except Exception as q:  # noqa: BLE001 - e.g. the database is down: retry the file later
                _failed(group, paths, q, summary, retry_at, on_error, now)
                continue
            summary.folders.append(FolderResult(str(paths[0]), "quarantined", reason=str(e)))
            state.mark(group[0], present[group[0]], "done", status="quarantined", number="", batch=None)
            state.save()
            continue
        except Exception as e:  # noqa: BLE001 - not the file's fault: keep it handed and try again later
            _failed(group, paths, e, summary, retry_at, on_error, now)
            continue
        summary.batches += 1
        by_source = {f.source: f for f in report.folders}
        for rel, path in zip(group, paths):
            result = by_source.get(str(path))
            retry_at.pop(rel, None)
            if result is None:  # vanished between settling and scanning: look again later
                state.files.pop(rel, None)
                continue
            summary.folders.append(result)
            state.mark(rel, present[rel], "done", status=result.status, number=result.number, batch=report.batch_id)
        state.save()
        if on_batch:
            on_batch(report)


def _failed(
    group: list[str],
    paths: list[Path],
    e: Exception,
    summary: WatchSummary,
    retry_at: dict[str, tuple[float, int]],
    on_error,
    now: float,
) -> None:
    """Keep the files handed; try them again after 5 s, 10 s, 20 s … at most 5 minutes."""
    summary.errors += 1
    for rel in group:
        fails = retry_at.get(rel, (0.0, 0))[1] + 1
        retry_at[rel] = (now + min(300.0, 5.0 * 2 ** (fails - 1)), fails)
    (on_error or _log_error)(paths, e)


def _log_error(paths: list[Path], e: BaseException) -> None:
    log.error("scanning %s failed, will retry: %s", ", ".join(p.name for p in paths), e)


@contextlib.contextmanager
def stop_on_interrupt(stop_event: threading.Event, on_first: Callable[[], None] | None = None) -> Iterator[None]:
    """Ctrl-C (or SIGTERM) sets STOP_EVENT: the batch under way finishes, then `watch` returns.
    A second Ctrl-C stops at once (the unfinished files are scanned again next time).

    A terminal sends Ctrl-C to every process of the foreground group, which would kill the
    page workers and Tesseract mid-page. So SIGINT is *blocked* here before any worker is
    started — children inherit the mask and never see it — and one thread takes it with
    sigtimedwait. Call this in the main thread, before the first scan starts workers."""
    import _thread

    interrupts = 0

    def on_interrupt(*_) -> None:  # runs in the main thread, however the signal came in
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise KeyboardInterrupt
        stop_event.set()
        if on_first:
            on_first()

    # The mask keeps SIGINT from the children started from here on. Threads that native
    # libraries (OpenCV, BLAS) started before us may still take it: then Python calls the
    # handler; otherwise it stays pending and the waiter thread takes it.
    # multiprocessing unblocks SIGINT after starting its resource tracker: start it first.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    old_int = signal.signal(signal.SIGINT, on_interrupt)
    old_term = signal.signal(signal.SIGTERM, lambda *_: None if stop_event.is_set() else on_interrupt())
    done = threading.Event()

    def waiter() -> None:
        taken = 0
        while not done.is_set():
            if signal.sigtimedwait({signal.SIGINT}, 0.2) is None:
                continue
            taken += 1
            _thread.interrupt_main(signal.SIGINT)  # on_interrupt, in the main thread
            if taken > 1 and not done.wait(5.0):  # the main thread is stuck waiting: leave now
                os._exit(130)

    t = threading.Thread(target=waiter, name="dangan-watch-signals", daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
