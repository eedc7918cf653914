"""Shared fixtures: a real data home with a real database (SQLite file by default, or the
PostgreSQL server named by DANGAN_TEST_DB for tests marked `database`)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from dangan.archive.db import Database, upgrade
from dangan.archive.home import DataHome
from dangan.archive.store import FileStore
from dangan.i18n import use_language

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
# The CLI speaks the language of LC_ALL / LC_MESSAGES / LANG: the tests read English whatever
# the machine's locale (tests that read Chinese ask for it)
os.environ["LC_MESSAGES"] = "C"
os.environ["DANGAN_LANGUAGE"] = "en"  # and the archive's reports too
if os.environ.get("LC_ALL"):
    os.environ["LC_ALL"] = "C.UTF-8"


def pytest_configure(config):
    config.addinivalue_line("markers", "database: runs against SQLite and, in CI, PostgreSQL too")
    config.addinivalue_line("markers", "slow: runs real OCR over many pages")


@pytest.fixture(autouse=True)
def english():
    """Messages in English unless a test asks for Chinese (the product's default): the tests
    read English; tests/test_languages.py and tests/web/test_languages.py read Chinese."""
    with use_language("en"):
        yield


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


SONG = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"


def render_page(lines: list[str], *, dpi: int = 300, size_pt: int = 14):
    """A clean A4 page with LINES of Chinese text, as an RGB PIL image."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = int(8.27 * dpi), int(11.69 * dpi)
    px = int(size_pt * dpi / 72)
    font = ImageFont.truetype(SONG, px, index=2)  # Noto Serif CJK SC
    im = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(lines):
        draw.text((int(0.9 * dpi), int(1.0 * dpi) + i * int(px * 1.8)), line, font=font, fill="black")
    return im


@pytest.fixture
def make_folder_pdf(tmp_path):
    """Write a customer folder as a scanner would: one JPEG per page inside a PDF."""

    def make(name: str, pages: list[list[str]], dpi: int = 300):
        images = [render_page(lines, dpi=dpi) for lines in pages]
        path = tmp_path / "scans" / name
        path.parent.mkdir(exist_ok=True)
        images[0].save(path, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
        return path

    return make
