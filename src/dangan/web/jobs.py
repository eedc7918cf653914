"""Upload batches: files an operator uploads are saved under the data home and scanned by
scanning.batch.scan in a background thread; the progress page polls the job as JSON."""

from __future__ import annotations

import re
import secrets
import shutil
import threading
import traceback
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dangan.archive.home import DataHome
from dangan.archive.store import FileStore
from dangan.errors import DanganError

SAFE_SUFFIXES = {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}
MAX_NAME = 120


class UnsafeFileName(DanganError, ValueError):
    pass


def safe_upload_name(name: str) -> str:
    """The name to save an uploaded file under, or UnsafeFileName. Path parts are refused,
    not stripped: a client sending '../x' or '/etc/x' is either broken or hostile."""
    if not name or len(name) > 255:
        raise UnsafeFileName("a file needs a name of at most 255 characters")
    norm = unicodedata.normalize("NFKC", name)
    if (
        "/" in norm
        or "\\" in norm
        or norm.startswith(".")
        or ".." in norm
        or ":" in norm
        or "\x00" in norm
        or re.match(r"^[A-Za-z]:", norm)
    ):
        raise UnsafeFileName(f"{name!r}: file names may not contain folders, '..' or drive letters")
    if Path(norm).suffix.lower() not in SAFE_SUFFIXES:
        raise UnsafeFileName(f"{name!r}: only PDF, TIFF, PNG and JPEG scans can be uploaded")
    if any(ord(c) < 32 for c in norm):
        raise UnsafeFileName(f"{name!r}: control characters in the name")
    return norm[-MAX_NAME:]


@dataclass
class Job:
    id: str
    owner: str
    files: list[str]
    state: str = "queued"  # queued | scanning | indexing | done | failed
    pages_done: int = 0
    pages_total: int | None = None
    folders: list[dict[str, Any]] = field(default_factory=list)
    indexed: int = 0
    error: str = ""
    batch_id: int | None = None

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d["folders"] = [{**f, "source": Path(f["source"]).name} for f in self.folders]
        return d


class Jobs:
    """In-process job table (one server process). Scans run one at a time: the machine's
    cores are shared, and the index has a single writer anyway."""

    def __init__(self, home: DataHome, backend_name: str, db, jobs_per_scan: int = 2):
        self.home, self.backend_name, self.db = home, backend_name, db
        self.jobs_per_scan = jobs_per_scan
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    def upload_dir(self, job_id: str) -> Path:
        return self.home.root / "uploads" / job_id

    def new(self, owner: str) -> Job:
        job = Job(id=secrets.token_hex(8), owner=owner, files=[])
        self.upload_dir(job.id).mkdir(parents=True, exist_ok=False)
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def discard(self, job: Job) -> None:
        shutil.rmtree(self.upload_dir(job.id), ignore_errors=True)
        with self._lock:
            self._jobs.pop(job.id, None)

    def start(self, job: Job) -> threading.Thread:
        t = threading.Thread(target=self._run, args=(job,), name=f"scan-{job.id}", daemon=True)
        t.start()
        return t

    def _run(self, job: Job) -> None:
        from dangan.archive.business.scheme import load_scheme
        from dangan.indexing import feed
        from dangan.indexing.backend import open_backend
        from dangan.scanning.batch import ScanOptions, scan
        from dangan.scanning.pipeline import options_from_scheme

        with self._run_lock:
            try:
                job.state = "scanning"
                scheme = load_scheme()
                options = ScanOptions(
                    fonds=scheme.fonds.code,
                    actor=job.owner,
                    jobs=self.jobs_per_scan,
                    label=f"web upload {job.id}",
                    pipeline=options_from_scheme(scheme),
                )

                def progress(done: int, total: int) -> None:
                    job.pages_done, job.pages_total = done, total

                report = scan(
                    [self.upload_dir(job.id)],
                    self.db,
                    FileStore(self.home.store_dir),
                    options,
                    progress=progress,
                    on_folder=lambda f: job.folders.append(asdict(f)),
                )
                job.batch_id = report.batch_id
                job.state = "indexing"
                self.home.index_dir.mkdir(parents=True, exist_ok=True)
                backend = open_backend(self.home.index_dir, self.backend_name)
                try:
                    job.indexed = feed.sync(self.db, backend)
                finally:
                    backend.close()
                job.state = "done"
            except Exception as e:  # noqa: BLE001 - shown to the operator on the progress page
                job.state, job.error = "failed", f"{type(e).__name__}: {e}"
                traceback.print_exc()
            finally:
                # the sources are in the file store now (or quarantined there): drop the upload copy
                shutil.rmtree(self.upload_dir(job.id), ignore_errors=True)
