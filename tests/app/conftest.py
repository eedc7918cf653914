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
