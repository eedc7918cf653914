"""The upload page says what the scan left for a person: its "To check" count is the pages the
QA queue holds for that folder (it said 0 for a page waiting in the queue). A fresh archive of
its own, so the shared web archive's queue is left alone; one real page, real OCR."""

from __future__ import annotations

import time
import warnings

from dangan.app import Archive, records
from dangan.app.archive import init_archive
from dangan.archive.home import DataHome
from dangan.archive.users import add_user
from tests.web.conftest import LOW_DPI, PASSWORD, csrf_from


def test_the_upload_job_counts_the_pages_waiting_in_the_qa_queue(tmp_path):
    from dangan.testing.synthetic import demo_cases, render_document
    from dangan.web import create_app

    root = tmp_path / "home"
    home = DataHome(root, f"sqlite:///{root / 'dangan.sqlite3'}")
    archive = Archive(home, actor="setup")
    init_archive(archive)
    with archive.session() as s:
        add_user(s, "operator", PASSWORD, "operator", actor="setup")
    case = next(c for c in demo_cases(seed=5) if c.business_type != "JR")
    scan = tmp_path / "申请书-低分辨率.png"
    render_document("SQ", case, dpi=LOW_DPI)[0].image.save(scan, dpi=(LOW_DPI, LOW_DPI))  # below the 200 dpi minimum

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

        client = TestClient(create_app(home, secret_key="test", secure_cookies=False))
    with client:
        token = csrf_from(client.get("/login").text)
        client.post("/login", data={"name": "operator", "password": PASSWORD, "csrf": token})
        csrf = client.get("/api/me").json()["csrf_token"]
        with scan.open("rb") as fh:
            upload = {"files": (scan.name, fh, "image/png")}
            r = client.post("/api/uploads", files=upload, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        deadline = time.monotonic() + 180
        while (job := client.get(f"/api/jobs/{job_id}").json())["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["state"] == "done", job
        (folder,) = job["folders"]
        queue = [i for i in records.qa_queue(archive) if i["record"] == folder["number"]]
        assert folder["flagged"] == len(queue) >= 1  # was "To check: 0"
        page = client.get(f"/jobs/{job_id}").text
        assert f"<td>{folder['pages']}</td><td>{folder['flagged']}</td>" in page
    archive.close()
