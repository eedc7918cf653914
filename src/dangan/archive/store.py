"""The file store: content-addressed, write-once, checksummed.

Files are named by their SHA-256, so storing the same bytes twice is a no-op (a rerun
after a crash never duplicates), a stored path never changes when a record is
reclassified, and fixity is checked by re-hashing. Writes go to a temporary file, are
fsync'd and then renamed, so a crash never leaves a half-written file under a real name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dangan.errors import DanganError, Unavailable
from dangan.i18n import _

CHUNK = 1 << 20


class StoreError(DanganError):
    pass


class StoreUnavailable(StoreError, Unavailable):
    """The file store could not be written (a share gone away, a full disk): nothing is wrong
    with what was being stored."""


@dataclass(frozen=True)
class StoredFile:
    relpath: str  # relative to the store root: what the database keeps
    sha256: str
    size: int


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    KINDS = ("sources", "masters", "derived", "quarantine")

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def create(self) -> None:
        try:
            for kind in self.KINDS:
                (self.root / kind).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailable(
                _("could not create the file store at {root}: {error}").format(root=self.root, error=e.strerror or e)
            ) from e

    def path(self, relpath: str) -> Path:
        """Absolute path of a stored file; refuses anything that escapes the store."""
        p = (self.root / relpath).resolve()
        if self.root.resolve() not in p.parents:
            raise StoreError(_("{relpath!r} is outside the file store").format(relpath=relpath))
        return p

    def _target(self, kind: str, sha: str, suffix: str) -> tuple[str, Path]:
        if kind not in self.KINDS:
            raise StoreError(_("unknown store area {kind!r}").format(kind=kind))
        rel = f"{kind}/{sha[:2]}/{sha}{suffix.lower()}"
        return rel, self.root / rel

    def put_bytes(self, kind: str, data: bytes, suffix: str) -> StoredFile:
        sha = sha256_bytes(data)
        rel, target = self._target(kind, sha, suffix)
        try:
            if not target.exists():
                self._atomic_write(target, lambda f: f.write(data))
        except OSError as e:  # the bytes are in memory: whatever failed is the store
            raise StoreUnavailable(
                _("could not write {path} in the file store at {root}: {error}").format(
                    path=rel, root=self.root, error=e.strerror or e
                )
            ) from e
        return StoredFile(rel, sha, len(data))

    def put_file(
        self, kind: str, src: str | os.PathLike, suffix: str | None = None, sha: str | None = None
    ) -> StoredFile:
        sha = sha or sha256_file(src)
        rel, target = self._target(kind, sha, suffix if suffix is not None else Path(src).suffix)
        if not target.exists():

            def copy(f: BinaryIO) -> None:
                with open(src, "rb") as s:
                    shutil.copyfileobj(s, f, CHUNK)

            self._atomic_write(target, copy)
        return StoredFile(rel, sha, target.stat().st_size)

    def put_named(self, kind: str, name: str, src: str | os.PathLike) -> StoredFile:
        """Store under a chosen name (quarantine keeps the sender's name to help people)."""
        sha = sha256_file(src)
        rel = f"{kind}/{sha[:12]}-{Path(name).name}"
        target = self.root / rel
        if not target.exists():

            def copy(f: BinaryIO) -> None:
                with open(src, "rb") as s:
                    shutil.copyfileobj(s, f, CHUNK)

            self._atomic_write(target, copy)
        return StoredFile(rel, sha, target.stat().st_size)

    @staticmethod
    def _atomic_write(target: Path, write) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)  # masters are never modified in place
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
