"""One small real archive for all web tests: a customer folder (ID card copy + 减容
application) generated, scanned with real Tesseract, indexed; a broken file quarantined;
one user per role."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from archive.db import Database, upgrade
from archive.home import DataHome
from archive.store import FileStore
from archive.users import add_user

PASSWORD = "correct horse battery"
ROLES = ("operator", "staff", "auditor", "admin")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture(scope="session")
def web_archive(tmp_path_factory):
    from indexing import feed
    from indexing.backend import open_backend
    from scanning.batch import ScanOptions, scan
    from scanning.synthetic import demo_cases, render_document, write_pdf

    tmp = tmp_path_factory.mktemp("web")
    case = next(c for c in demo_cases(seed=3) if c.business_type == "JR")
    pages = render_document("SF", case) + render_document("SQ", case)
    scans = tmp / "scans"
    scans.mkdir()
    write_pdf(scans / "folder-01.pdf", (p.image for p in pages))
    (scans / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntruncated")
    home = DataHome(root=tmp / "home", db_url=f"sqlite:///{tmp / 'home' / 'dangan.sqlite3'}")
    home.root.mkdir()
    upgrade(home.db_url)
    db = Database(home.db_url)
    report = scan([scans], db, FileStore(home.store_dir), ScanOptions(actor="scanner", jobs=2))
    home.index_dir.mkdir(exist_ok=True)
    backend = open_backend(home.index_dir)
    feed.sync(db, backend)
    backend.close()
    with db.session() as s:
        for role in ROLES:
            add_user(s, role, PASSWORD, role, actor="setup")
        add_user(s, "staff-ids", PASSWORD, "staff", can_see_ids=True, actor="setup")
    db.dispose()
    number = next(f.number for f in report.folders if f.status == "accessioned")
    return {"home": home, "case": case, "number": number, "report": report,
            "id_number": case.customer.id_number}


@pytest.fixture(scope="session")
def app(web_archive):
    from web import create_app

    return create_app(web_archive["home"], secret_key="test", secure_cookies=False)


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def login(app):
    """login(name) -> a TestClient with a live session; .csrf holds the session's token."""
    from fastapi.testclient import TestClient

    clients = []

    def make(name: str, password: str = PASSWORD, client_app=None, base_url: str = "http://testserver"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c = TestClient(client_app or app, base_url=base_url)
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
