"""Shared fixtures: a real data home with a real database (SQLite file by default, or the
PostgreSQL server named by DANGAN_TEST_DB for tests marked `database`)."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from archive.db import Database, upgrade
from archive.home import DataHome
from archive.store import FileStore

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "database: runs against SQLite and, in CI, PostgreSQL too")
    config.addinivalue_line("markers", "slow: runs real OCR over many pages")


def _fresh_postgres(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


@pytest.fixture
def db_url(tmp_path) -> str:
    url = os.environ.get("DANGAN_TEST_DB")
    if url:
        _fresh_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'dangan.sqlite3'}"


@pytest.fixture
def home(tmp_path, db_url) -> DataHome:
    h = DataHome(root=tmp_path / "home", db_url=db_url)
    h.root.mkdir()
    upgrade(db_url)
    return h


@pytest.fixture
def db(home) -> Database:
    d = Database(home.db_url)
    yield d
    d.dispose()


@pytest.fixture
def store(home) -> FileStore:
    s = FileStore(home.store_dir)
    s.create()
    return s
