"""An archive as the use cases see it (dangan.app.Archive) on a real data home: SQLite file
(or the PostgreSQL server named by DANGAN_TEST_DB), a Whoosh index, a file store."""

from __future__ import annotations

import pytest

from dangan.app.archive import Archive, init_archive


@pytest.fixture
def archive(home) -> Archive:
    a = Archive(home, actor="王芳", backend="whoosh")
    init_archive(a)
    yield a
    a.close()


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    """Generated scanned folders (tests/app/scans.py), written once per session."""
    from tests.app.scans import make_folders

    return make_folders(tmp_path_factory.mktemp("folders"))


@pytest.fixture(scope="session")
def runner(tmp_path_factory):
    """The real page pipeline, run once per distinct page in the session."""
    from tests.app.scans import CachedRunner

    store = tmp_path_factory.mktemp("ocr-cache")
    return CachedRunner(store)


@pytest.fixture
def scan(archive, folders, runner):
    """Scan the named generated folders into the archive, as `dangan scan` does."""
    from dangan.app import ingest

    def run(*names: str):
        return ingest.ingest(archive, [folders[n] for n in names], ingest.scan_options(archive, jobs=1), runner=runner)

    return run
