"""An OFD and a born-digital PDF uploaded through the web like scans: accessioned, their own text."""

from __future__ import annotations

import io
import time
from pathlib import Path

from dangan.testing.born_digital import write_born_digital_pdf
from tests.web.conftest import build_archive

SEALED = Path(__file__).resolve().parents[1] / "data" / "real" / "ofdrw-SESV4SignDoc.ofd"


def test_an_ofd_and_a_born_digital_pdf_upload_like_scans(tmp_path, login):
    from dangan.web import create_app

    home, _ = build_archive(tmp_path, {})
    client = login("operator", client_app=create_app(home, secret_key="test", secure_cookies=False))
    pdf = io.BytesIO()
    write_born_digital_pdf(pdf, [["供用电合同", "户号 3301082231 户名 欧阳修远"]])
    files = [
        ("files", ("notice.ofd", SEALED.read_bytes(), "application/ofd")),
        ("files", ("contract.pdf", pdf.getvalue(), "application/pdf")),
    ]
    job = client.post("/api/uploads", files=files, headers={"X-CSRF-Token": client.csrf}).json()
    deadline = time.monotonic() + 120
    while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)  # polling a job with a deadline, not waiting to prove something absent
        job = client.get(f"/api/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    assert sorted((Path(f["source"]).name, f["status"]) for f in job["folders"]) == [
        ("contract.pdf", "accessioned"),
        ("notice.ofd", "accessioned"),
    ]
    number = next(f["number"] for f in job["folders"] if f["source"].endswith(".ofd"))
    record = client.get(f"/api/records/{number}").json()
    (document,) = record["documents"]
    assert document["origin"] == "electronic"
    assert document["pages"][0]["ocr_engine"] == "text-layer"
