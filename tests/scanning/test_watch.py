"""The hot folder as an archive room runs it: a scanner drops files, the watcher scans each
once it has stopped growing, a restart neither repeats nor loses a file, Ctrl-C is clean."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import func, select

from dangan.archive.models import ArchiveRecord, SourceFile
from dangan.scanning.batch import ScanOptions
from dangan.scanning.watch import WatchError, WatchState, candidates, default_state_path, watch
from tests.conftest import render_page

pytestmark = pytest.mark.database


def write_scan(path: Path, account: str, name: str = "王建国") -> Path:
    render_page(["用电申请书", f"户号：{account}", f"户名：{name}"], dpi=200).save(path, "PNG", dpi=(200, 200))
    return path


class Clock:
    """The time the watcher judges settling by, moved on by the test, not by waiting."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Watcher:
    """`watch` in a thread, as the CLI runs it, with its batches and its looks at the folder counted."""

    def __init__(self, folder, db, store, **kw):
        self.stop, self.reports, self.polls = threading.Event(), [], 0
        kw = {"settle": 0.5, "interval": 0.05, **kw}
        self.thread = threading.Thread(target=self._run, args=(folder, db, store), kwargs=kw)
        self.summary, self.error = None, None

    def _run(self, folder, db, store, **kw):
        try:
            self.summary = watch(
                folder,
                db,
                store,
                ScanOptions(jobs=1),
                stop_event=self.stop,
                on_batch=self.reports.append,
                on_poll=self._polled,
                **kw,
            )
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            self.error = e

    def _polled(self) -> None:
        self.polls += 1

    def looks_again(self, times: int = 2) -> None:
        """Wait until the watcher has looked at the folder TIMES more times."""
        start = self.polls
        self.wait_for(lambda: self.polls >= start + times)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(120)
        assert not self.thread.is_alive()

    def wait_for(self, condition, timeout=90.0):
        deadline = time.monotonic() + timeout
        while not condition():
            if self.error:
                raise self.error
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)

    def folders(self):
        return [f for r in self.reports for f in r.folders]


def records(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count(ArchiveRecord.id)))


def test_a_growing_file_is_scanned_only_once_it_has_settled(db, store, tmp_path):
    hot = tmp_path / "hot"
    hot.mkdir()
    data = write_scan(tmp_path / "whole.png", "3401405288").read_bytes()
    (hot / ".hidden.png").write_bytes(data)
    (hot / "scan.png.part").write_bytes(data)
    (hot / "~$notes.png").write_bytes(data)
    clock = Clock()
    with Watcher(hot, db, store, settle=1.5, clock=clock) as w:
        # the scanner writes the file in pieces, each within the settle time
        target = hot / "scan.png"
        for i in range(0, len(data), len(data) // 4 + 1):
            with open(target, "ab") as f:
                f.write(data[i : i + len(data) // 4 + 1])
            w.looks_again()
            clock.now += 1.0  # less than the settle time since the last change
            w.looks_again()
            assert not w.reports, "scanned while still growing"
        clock.now += 1.0  # now unchanged for longer than the settle time
        w.wait_for(lambda: w.folders())
    assert [(Path(f.source).name, f.status) for f in w.folders()] == [("scan.png", "accessioned")]
    assert records(db) == 1  # the hidden, partial and lock files were left alone


def test_a_restart_neither_repeats_nor_loses_a_file(db, store, tmp_path):
    hot = tmp_path / "hot"
    hot.mkdir()
    write_scan(hot / "a.png", "3401405201")
    with Watcher(hot, db, store) as w:
        w.wait_for(lambda: len(w.folders()) == 1)
    state = json.loads(default_state_path(store).read_text())
    (entry,) = state["folders"][str(hot.resolve())].values()
    assert entry["state"] == "done" and entry["status"] == "accessioned"

    # while the watcher is down, a file arrives; and a crash had left one handed but unfinished
    write_scan(hot / "b.png", "3401405202")
    write_scan(hot / "c.png", "3401405203")
    st = WatchState(default_state_path(store), hot.resolve())
    c = (hot / "c.png").stat()
    st.mark("c.png", (c.st_size, c.st_mtime_ns), "handed")
    st.save()

    with Watcher(hot, db, store) as w:
        w.wait_for(lambda: {Path(f.source).name for f in w.folders()} == {"b.png", "c.png"})
        w.looks_again(5)  # a.png must not come back
    assert sorted(Path(f.source).name for f in w.folders()) == ["b.png", "c.png"]
    assert records(db) == 3
    files = json.loads(default_state_path(store).read_text())["folders"][str(hot.resolve())]
    assert {k: v["state"] for k, v in files.items()} == {"a.png": "done", "b.png": "done", "c.png": "done"}


def test_a_file_replaced_by_new_bytes_is_scanned_again_and_a_copy_is_skipped(db, store, tmp_path):
    hot = tmp_path / "hot"
    hot.mkdir()
    write_scan(hot / "a.png", "3401405211")
    with Watcher(hot, db, store) as w:
        w.wait_for(lambda: len(w.folders()) == 1)
        os.link(hot / "a.png", hot / "copy-of-a.png")  # the same bytes under another name
        write_scan(hot / "a.png.part", "3401405212", "李秀英")
        os.replace(hot / "a.png.part", hot / "a.png")  # the scanner saves a new a.png
        w.wait_for(lambda: len(w.folders()) == 3)
    by_name = {}
    for f in w.folders():
        by_name.setdefault(Path(f.source).name, []).append(f.status)
    assert by_name == {"a.png": ["accessioned", "accessioned"], "copy-of-a.png": ["skipped"]}
    assert records(db) == 2


def test_a_file_that_breaks_the_pipeline_is_quarantined_and_the_others_go_on(db, store, tmp_path, monkeypatch):
    import dangan.scanning.watch as watch_module
    from dangan.scanning.sources import RejectedFile

    real_scan = watch_module.scan

    def scan(paths, *a, **kw):
        if any(p.name == "bad.png" for p in paths):
            raise RejectedFile("page 1 could not be processed (RuntimeError: tesseract failed); rescan this file")
        return real_scan(paths, *a, **kw)

    monkeypatch.setattr(watch_module, "scan", scan)
    hot = tmp_path / "hot"
    hot.mkdir()
    write_scan(hot / "good.png", "3401405221")
    write_scan(hot / "bad.png", "3401405222")
    with Watcher(hot, db, store) as w:
        w.wait_for(lambda: _state_done(store, hot) == {"good.png", "bad.png"})
    assert records(db) == 1
    files = json.loads(default_state_path(store).read_text())["folders"][str(hot.resolve())]
    assert files["bad.png"]["status"] == "quarantined" and files["good.png"]["status"] == "accessioned"


def _state_done(store, hot) -> set[str]:
    path = default_state_path(store)
    if not path.exists():
        return set()
    files = json.loads(path.read_text())["folders"].get(str(hot.resolve()), {})
    return {k for k, v in files.items() if v["state"] == "done"}


def test_two_watchers_on_one_data_home_are_refused(db, store, tmp_path):
    hot = tmp_path / "hot"
    hot.mkdir()
    with Watcher(hot, db, store) as w:
        w.looks_again(1)  # it holds the data home's watch lock
        with pytest.raises(WatchError, match="another `dangan watch`"):
            watch(hot, db, store, stop_event=threading.Event())
        assert w.error is None


def test_ignored_names(tmp_path):
    for name in ("a.pdf", "b.PDF.part", ".c.pdf", "~$d.pdf", "e.tmp", "Thumbs.db"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / ".sync").mkdir()
    (tmp_path / ".sync" / "f.pdf").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "g.pdf").write_bytes(b"x")
    assert [str(p.relative_to(tmp_path)) for p, _ in candidates(tmp_path)] == ["a.pdf", "sub/g.pdf"]


def test_ctrl_c_stops_the_cli_after_the_batch_under_way(home, db, tmp_path):
    """The real command in a terminal: Ctrl-C reaches the whole process group, workers too."""
    hot = tmp_path / "hot"
    hot.mkdir()
    write_scan(hot / "a.png", "3401405231")
    cmd = [
        sys.executable,
        "-m",
        "dangan",
        "--home",
        str(home.root),
        "--db",
        home.db_url,
        "watch",
        "--settle",
        "0.3",
        "--interval",
        "0.1",
        "--jobs",
        "2",
        str(hot),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        state = home.root / "watch-state.json"
        deadline = time.monotonic() + 60
        watcher = psutil.Process(proc.pid)
        # a page is being read: the batch was handed over and its pool processes are running
        while "handed" not in (state.read_text() if state.exists() else "") or len(_children(watcher)) < 2:
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else ""
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the watcher, its workers, Tesseract
        out, errors = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, errors
    assert "stopping after the batch under way" in errors and "1 accessioned" in errors
    assert "a.png: accessioned GD01-KH" in out
    with db.session() as s:
        assert s.scalar(select(func.count(SourceFile.id))) == 1
    (entry,) = json.loads(state.read_text())["folders"][str(hot.resolve())].values()
    assert entry["state"] == "done"


def _children(process):
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []
