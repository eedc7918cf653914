"""The QA queue, the auditor reports, the record's completeness and paper state, and labels,
through HTTP (the browser walk is in test_browser.py; the role matrix in test_security.py)."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from sqlalchemy import select

from dangan.app.reports import REPORT_KINDS
from dangan.archive.db import Database
from dangan.archive.models import Event, Page
from tests.web.conftest import LOW_DPI, queue_a_flagged_page


def page_row(web_archive, page_id: int) -> dict:
    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            p = s.get(Page, page_id)
            return {"qa_status": p.qa_status, "superseded_by_id": p.superseded_by_id}
    finally:
        db.dispose()


def events_about(web_archive, page_id: int) -> list[Event]:
    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            rows = s.scalars(select(Event).where(Event.object_type == "page").order_by(Event.seq)).all()
            return [
                (e.type, e.actor, e.object_id, e.detail)
                for e in rows
                if e.object_id == str(page_id) or (e.detail or {}).get("replaces_page") == page_id
            ]
    finally:
        db.dispose()


def test_the_queue_lists_the_low_dpi_page_with_the_pipelines_message(web_archive, login):
    page_id = queue_a_flagged_page(web_archive)
    client = login("operator")
    items = client.get("/api/qa").json()
    item = next(i for i in items if i["page_id"] == page_id)
    assert item["record"] == web_archive["number"] and item["dpi"] == LOW_DPI
    low = next(f for f in item["flags"] if f["code"] == "low_dpi")
    assert low["severity"] == "fail" and f"Scanned at {LOW_DPI} dpi" in low["message"]
    html = client.get("/qa").text
    assert f'id="qa-{page_id}"' in html and "below the 200 dpi minimum" in html
    assert client.get(item["thumb_url"]).headers["content-type"] == "image/jpeg"


def test_accept_needs_a_note_then_the_page_leaves_the_queue_with_an_event(web_archive, login):
    page_id = queue_a_flagged_page(web_archive)
    client = login("operator")
    before = events_about(web_archive, page_id)
    r = client.post(f"/api/qa/{page_id}/accept", json={"note": "   "}, headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == 400 and "note" in r.json()["detail"]
    r = client.post(f"/qa/{page_id}/accept", data={"csrf": client.csrf, "note": ""})
    assert r.status_code == 400 and f'id="qa-{page_id}"' in r.text  # the form again, with the reason
    assert page_row(web_archive, page_id)["qa_status"] == "flagged"
    assert events_about(web_archive, page_id) == before

    r = client.post(
        f"/qa/{page_id}/accept", data={"csrf": client.csrf, "note": "合同页清晰可读，原件如此"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/qa?accepted={page_id}"
    assert page_row(web_archive, page_id)["qa_status"] == "accepted"
    assert page_id not in [i["page_id"] for i in client.get("/api/qa").json()]
    new = events_about(web_archive, page_id)[len(before) :]
    assert [(t, a, d["outcome"], d["note"]) for t, a, _, d in new] == [
        ("validation", "operator", "accepted", "合同页清晰可读，原件如此")
    ]
    # a second accept (a double submit, or a colleague was quicker) is refused: 409, no event
    r = client.post(f"/api/qa/{page_id}/accept", json={"note": "again"}, headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == 409
    assert len(events_about(web_archive, page_id)) == len(before) + 1
    assert (
        client.post("/api/qa/999999/accept", json={"note": "x"}, headers={"X-CSRF-Token": client.csrf}).status_code
        == 404
    )


def test_rescan_replaces_the_page_keeps_the_old_one_and_indexes_the_new(web_archive, login, tmp_path):
    from dangan.testing.synthetic import render_document

    page_id = queue_a_flagged_page(web_archive)
    client = login("operator")
    scan = tmp_path / "合同-重扫.png"
    render_document("HT", web_archive["case"])[0].image.save(scan, dpi=(300, 300))
    # an unreadable file is refused with the reason and changes nothing
    r = client.post(
        f"/api/qa/{page_id}/rescan",
        files={"file": ("bad.pdf", b"%PDF-1.4\ntruncated", "application/pdf")},
        headers={"X-CSRF-Token": client.csrf},
    )
    assert r.status_code == 400, r.text
    assert page_row(web_archive, page_id) == {"qa_status": "flagged", "superseded_by_id": None}

    with open(scan, "rb") as fh:
        r = client.post(
            f"/api/qa/{page_id}/rescan",
            files={"file": (scan.name, fh, "image/png")},
            data={"page_no": "1"},
            headers={"X-CSRF-Token": client.csrf},
        )
    assert r.status_code == 200, r.text
    done = r.json()
    new_id = done["new_page_id"]
    assert done["page_id"] == page_id and done["record"] == web_archive["number"]
    assert "low_dpi" not in [f["code"] for f in done["flags"] if f["severity"] == "fail"]
    assert page_row(web_archive, page_id) == {"qa_status": "rescanned", "superseded_by_id": new_id}
    assert page_id not in [i["page_id"] for i in client.get("/api/qa").json()]
    replacement = [e for e in events_about(web_archive, page_id) if e[0] == "replacement"]
    assert replacement and replacement[-1][1] == "operator" and replacement[-1][2] == str(new_id)
    # the new page is searchable (the index was synced) and the old one is not shown
    view = client.get(f"/api/pages/{new_id}").json()
    assert view["record_number"] == web_archive["number"] and view["dpi"] == 300
    assert client.get(f"/api/pages/{page_id}").status_code == 404
    hits = client.get("/api/search", params={"q": "供用电合同"}).json()
    pages = [h["page_id"] for g in hits["groups"] for h in g["hits"]]
    assert page_id not in pages
    # nothing of the upload is left behind
    uploads = web_archive["home"].root / "uploads"
    assert not uploads.exists() or not any(p.name.startswith("qa-") for p in uploads.iterdir())


def test_the_auditor_reads_every_report_and_downloads_csv_and_html(login):
    client = login("auditor")
    html = client.get("/reports").text
    for kind in ("completeness", "overdue", "digitisation", "reconciliation", "numbering"):
        assert f'id="report-{kind}"' in html and f'href="/reports/{kind}.csv' in html
        r = client.get(f"/reports/{kind}.csv")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        text = r.content.decode("utf-8-sig")
        assert text.startswith("# "), text[:80]
        rows = list(csv.reader(io.StringIO(text)))
        assert ["# actor", "auditor"] in rows
        page = client.get(f"/reports/{kind}.html", params={"download": 1})
        assert page.status_code == 200 and "attachment" in page.headers["content-disposition"]
        assert page.text.startswith("<!DOCTYPE html>") and "checked by" in page.text
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]
        data = client.get(f"/api/reports/{kind}").json()
        assert data["report"] == kind and data["about"]["actor"] == "auditor"
    assert "<svg" in html  # the completeness chart, inline
    completeness = client.get("/reports/completeness.csv").content.decode("utf-8-sig")
    assert "work_order,business_type,department,month,customer,records,ok,missing" in completeness
    assert client.get("/reports/nonsense.csv").status_code == 404
    assert client.get("/reports", params={"as_of": "2024-13-01"}).status_code == 400
    assert client.get("/reports/all.html").text.count('<section class="report">') == len(REPORT_KINDS)


def test_the_record_shows_completeness_paper_and_loan(web_archive, login):
    client = login("staff")
    view = client.get(f"/api/records/{quote(web_archive['number'])}").json()
    c = view["completeness"]
    assert set(c) >= {"ok", "problems", "missing", "invalid_fields", "unmet_preconditions", "scheme_version"}
    assert c["ok"] is (not (c["problems"] or c["missing"] or c["invalid_fields"] or c["unmet_preconditions"]))
    html = client.get(f"/records/{quote(web_archive['number'])}").text
    assert 'id="completeness"' in html and "<dt>Loan</dt>" in html
    assert 'id="labels"' not in html  # staff print no labels


def test_the_operator_downloads_labels_for_a_record(web_archive, login):
    client = login("operator")
    number = quote(web_archive["number"])
    html = client.get(f"/records/{number}").text
    assert 'id="label-folder"' in html and 'id="label-box"' not in html  # not in a box yet
    r = client.get(f"/records/{number}/labels/folder.pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"]
    r = client.get(f"/records/{number}/labels/box.pdf")
    assert r.status_code == 404 and "not shelved in a box" in r.text
    assert client.get(f"/records/{number}/labels/nonsense.pdf").status_code == 422
