"""One small real archive for all web tests: a customer folder (ID card copy + 减容
application, and one contract page scanned at 150 dpi, which the pipeline flags as
low_dpi fail for the QA queue) generated, scanned with real Tesseract, indexed; a broken
file quarantined; one user per role."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from dangan.archive.db import Database, upgrade
from dangan.archive.home import DataHome
from dangan.archive.store import FileStore
from dangan.archive.users import add_user

PASSWORD = "correct horse battery"
ROLES = ("operator", "staff", "auditor", "admin")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
LOW_DPI = 150


def build_archive(tmp: Path, folders: dict[str, list[tuple]], *, broken: bool = False) -> tuple[DataHome, object]:
    """A real archive under TMP: each folder a scanner PDF of (image, dpi) pages, scanned with
    real Tesseract and indexed; one user per role (and staff-ids, a staff member granted IDs)."""
    from dangan.archive.business.scheme import load_scheme
    from dangan.indexing import feed
    from dangan.indexing.backends import open_backend
    from dangan.scanning.batch import ScanOptions, scan
    from dangan.scanning.pipeline import options_from_scheme
    from dangan.testing.synthetic import PdfStream, encode_jpeg

    scans = tmp / "scans"
    scans.mkdir()
    for name, pages in folders.items():
        with open(scans / name, "wb") as fh:  # a scanner PDF whose pages may differ in resolution
            pdf = PdfStream(fh)
            for image, dpi in pages:
                pdf.add_page(*encode_jpeg(image, 85, dpi), dpi)
            pdf.close()
    if broken:
        (scans / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntruncated")
    home = DataHome(root=tmp / "home", db_url=f"sqlite:///{tmp / 'home' / 'dangan.sqlite3'}")
    home.root.mkdir()
    upgrade(home.db_url)
    db = Database(home.db_url)
    pipeline = options_from_scheme(load_scheme())  # document types as the app knows them
    report = scan([scans], db, FileStore(home.store_dir), ScanOptions(actor="scanner", jobs=2, pipeline=pipeline))
    home.index_dir.mkdir(exist_ok=True)
    backend = open_backend(home.index_dir)
    feed.sync(db, backend)
    backend.close()
    with db.session() as s:
        for role in ROLES:
            add_user(s, role, PASSWORD, role, actor="setup")
        add_user(s, "staff-ids", PASSWORD, "staff", can_see_ids=True, actor="setup")
    db.dispose()
    return home, report


@pytest.fixture(scope="session")
def web_archive(tmp_path_factory):
    from dangan.testing.synthetic import demo_cases, render_document

    case = next(c for c in demo_cases(seed=3) if c.business_type == "JR")
    pages = [(p.image, 300) for p in render_document("SF", case) + render_document("SQ", case)]
    pages.append((render_document("HT", case, dpi=LOW_DPI)[0].image, LOW_DPI))  # below the 200 dpi minimum
    home, report = build_archive(tmp_path_factory.mktemp("web"), {"folder-01.pdf": pages}, broken=True)
    number = next(f.number for f in report.folders if f.status == "accessioned")
    return {"home": home, "case": case, "number": number, "report": report, "id_number": case.customer.id_number}


@pytest.fixture(scope="session")
def app(web_archive):
    from dangan.web import create_app

    return create_app(web_archive["home"], secret_key="test", secure_cookies=False)


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def login(app):
    """login(name) -> a TestClient with a live session; .csrf holds the session's token."""
    from fastapi.testclient import TestClient

    clients = []

    def make(name: str, password: str = PASSWORD, client_app=None, base_url: str = "http://testserver", headers=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the tests read English; tests/web/test_languages.py reads Chinese
            c = TestClient(client_app or app, base_url=base_url, headers={"Accept-Language": "en", **(headers or {})})
        token = csrf_from(c.get("/login").text)
        r = c.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)
        assert r.status_code == 303, r.text
        c.csrf = c.get("/api/me").json()["csrf_token"]
        c.login_response = r
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def low_dpi_page(web_archive) -> tuple[int, str]:
    """(id, qa_status) of the fixture's 150-dpi page as first scanned (it may have been
    accepted or replaced by a rescan since)."""
    from sqlalchemy import select

    from dangan.archive.models import Page

    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            p = s.scalars(select(Page).where(Page.dpi == LOW_DPI).order_by(Page.id)).first()
            return p.id, p.qa_status
    finally:
        db.dispose()


def queue_a_flagged_page(web_archive) -> int:
    """A page waiting in the QA queue, whatever earlier tests did with the queue: the 150-dpi
    page (or the page that replaced it) is put back as flagged if someone dealt with it."""
    from sqlalchemy import select

    from dangan.archive.models import Page

    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            p = s.scalars(select(Page).where(Page.dpi == LOW_DPI).order_by(Page.id)).first()
            while p.superseded_by_id is not None:
                p = s.get(Page, p.superseded_by_id)
            p.qa_status = "flagged"
            return p.id
    finally:
        db.dispose()
