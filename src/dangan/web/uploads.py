"""Uploads: files an operator uploads are saved under the data home (names checked first) and
scanned by dangan.app.ingest in a background thread; the progress page polls the job. A
rescan upload replaces one page of the QA queue."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
import traceback
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import HTTPException, UploadFile

from dangan.app import Archive, ingest
from dangan.app.names import display_name
from dangan.errors import DanganError, without_paths

SAFE_SUFFIXES = {".pdf", ".ofd", ".tif", ".tiff", ".png", ".jpg", ".jpeg"}
MAX_NAME = 120
MAX_UPLOAD_BYTES = 1 << 30
MAX_RESCAN_BYTES = 256 << 20
_JOB_ID = re.compile(r"[0-9a-f]{16}")


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
        raise UnsafeFileName(f"{name!r}: only PDF, OFD, TIFF, PNG and JPEG files can be uploaded")
    if any(ord(c) < 32 for c in norm):
        raise UnsafeFileName(f"{name!r}: control characters in the name")
    return norm[-MAX_NAME:]


async def _save(upload: UploadFile, target: Path, limit: int) -> None:
    """Stream UPLOAD to a new file TARGET; 413 beyond LIMIT bytes."""
    written = 0
    async with await anyio.open_file(target, "xb") as out:
        while chunk := await upload.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise HTTPException(413, f"{target.name} is larger than {limit >> 20} MB")
            await out.write(chunk)


@dataclass
class Job:
    id: str
    owner: str
    files: list[str]
    state: str = "queued"  # queued | scanning | indexing | done | failed
    pages_done: int = 0
    pages_total: int | None = None
    folders: list[dict[str, Any]] = field(default_factory=list)
    indexed: int | None = 0
    error: str = ""
    batch_id: int | None = None

    def public(self) -> dict[str, Any]:
        """The job as its owner's browser sees it: file names, never server paths."""
        d = asdict(self)
        d["folders"] = [
            {
                **f,
                "source": Path(f["source"]).name,
                "reason": without_paths(f.get("reason") or ""),
                "status_name": display_name("folder_status", f.get("status")),
            }
            for f in self.folders
        ]
        d["error"] = without_paths(self.error)
        d["state_name"] = display_name("job_state", self.state)
        return d


class Jobs:
    """Upload batches and their progress. Each job's state is a small JSON file under the data
    home (web-jobs/), written as the scan goes on, so whichever server worker process a
    browser's poll reaches can answer it. The scan runs in the worker that took the upload;
    scans of one worker run one at a time (the cores are shared, and the index has a single
    writer anyway)."""

    def __init__(self, archive: Archive, jobs_per_scan: int = 2):
        self.archive = archive
        self.jobs_per_scan = jobs_per_scan
        self._run_lock = threading.Lock()

    def upload_dir(self, job_id: str) -> Path:
        return self.archive.home.root / "uploads" / job_id

    @property
    def _state_dir(self) -> Path:
        return self.archive.home.root / "web-jobs"

    def save(self, job: Job) -> None:
        self._state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._state_dir / f".{job.id}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self._state_dir / f"{job.id}.json")

    def get(self, job_id: str) -> Job | None:
        if not _JOB_ID.fullmatch(job_id or ""):
            return None
        try:
            return Job(**json.loads((self._state_dir / f"{job_id}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def all(self) -> list[Job]:
        if not self._state_dir.is_dir():
            return []
        files = sorted(self._state_dir.glob("*.json"), key=lambda p: p.stat().st_mtime)
        return [j for j in (self.get(p.stem) for p in files) if j is not None]

    async def upload(self, owner: str, files: list[UploadFile]) -> Job:
        """Check every name first (nothing is saved if one is unsafe), then save and start the scan."""
        try:
            names = [safe_upload_name(f.filename or "") for f in files]
        except UnsafeFileName as e:
            raise HTTPException(400, str(e)) from None
        if len(set(names)) != len(names):
            raise HTTPException(400, "two uploaded files have the same name")
        job = Job(id=secrets.token_hex(8), owner=owner, files=[])
        folder = self.upload_dir(job.id)
        folder.mkdir(parents=True, exist_ok=False)
        try:
            for f, name in zip(files, names, strict=True):
                await _save(f, folder / name, MAX_UPLOAD_BYTES)
                job.files.append(name)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.save(job)
        threading.Thread(target=self._run, args=(job,), name=f"scan-{job.id}", daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        archive = self.archive.acting_as(job.owner)
        with self._run_lock:
            try:
                job.state = "scanning"
                self.save(job)

                def progress(done: int, total: int) -> None:
                    job.pages_done, job.pages_total = done, total
                    self.save(job)

                def indexing(_done: int, _total: int) -> None:
                    job.state = "indexing"
                    self.save(job)

                def folder_done(f) -> None:
                    job.folders.append(asdict(f))
                    self.save(job)

                options = ingest.scan_options(archive, jobs=self.jobs_per_scan, label=f"web upload {job.id}")
                result = ingest.ingest(
                    archive,
                    [self.upload_dir(job.id)],
                    options,
                    progress=progress,
                    on_folder=folder_done,
                    index_progress=indexing,
                )
                job.batch_id, job.indexed = result.report.batch_id, result.index.indexed
                job.error = result.index.problem
                job.state = "done"
            except Exception as e:  # noqa: BLE001 - shown to the operator on the progress page
                job.state, job.error = "failed", str(e) if isinstance(e, DanganError) else f"{type(e).__name__}: {e}"
                traceback.print_exc()
            finally:
                self.save(job)
                # the sources are in the file store now (or quarantined there): drop the upload copy
                shutil.rmtree(self.upload_dir(job.id), ignore_errors=True)


async def rescan_upload(archive: Archive, page_id: int, upload: UploadFile, page_no: int) -> dict[str, Any]:
    """Save the new scan of a queued page under the data home (name checked as for uploads),
    replace the page with it in a worker thread (OCR takes seconds) and remove the copy (its
    bytes are in the file store now)."""
    try:
        name = safe_upload_name(upload.filename or "")
    except UnsafeFileName as e:
        raise HTTPException(400, str(e)) from None
    folder = archive.home.root / "uploads" / f"qa-{secrets.token_hex(8)}"
    folder.mkdir(parents=True)
    try:
        await _save(upload, folder / name, MAX_RESCAN_BYTES)
        return await anyio.to_thread.run_sync(
            lambda: ingest.rescan(archive, page_id, folder / name, page_no=page_no, only_queued=True)
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
