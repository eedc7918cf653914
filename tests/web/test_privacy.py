"""Personal data stays masked for users without the grant, everywhere, through the real app:
search is no oracle for ID numbers, flag messages are masked, nothing with personal data is
cached by the browser, a replaced page is shown only in its history.

The archive here: one customer folder whose ID card copy carries a number with a wrong check
character (as a clerk's typo or OCR leaves it), so the pipeline flags it with a message
that quotes the number; scanned with real Tesseract."""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

import pytest
from sqlalchemy import select

from dangan.archive.db import Database
from dangan.archive.models import Event
from tests.web.conftest import build_archive


@pytest.fixture(scope="module")
def privacy(tmp_path_factory):
    from dangan.testing.synthetic import demo_cases, render_document

    case = next(c for c in demo_cases(seed=7) if c.business_type == "JR")
    ric = case.customer.id_number
    printed = ric[:-1] + ("0" if ric[-1] != "0" else "1")  # the check character is wrong
    case = dataclasses.replace(case, customer=dataclasses.replace(case.customer, id_number=printed))
    pages = [(p.image, 300) for p in render_document("SF", case) + render_document("SQ", case)]
    home, report = build_archive(tmp_path_factory.mktemp("privacy"), {"folder.pdf": pages})
    number = next(f.number for f in report.folders if f.status == "accessioned")
    return {"home": home, "number": number, "ric": printed, "case": case}


@pytest.fixture(scope="module")
def privacy_app(privacy):
    from dangan.web import create_app

    return create_app(privacy["home"], secret_key="test", secure_cookies=False)


@pytest.fixture
def as_user(login, privacy_app):
    return lambda name: login(name, client_app=privacy_app)


def events_since(privacy, seq: int) -> list[Event]:
    db = Database(privacy["home"].db_url)
    try:
        with db.session() as s:
            return list(s.scalars(select(Event).where(Event.seq > seq).order_by(Event.seq)))
    finally:
        db.dispose()


def last_seq(privacy) -> int:
    found = events_since(privacy, 0)
    return found[-1].seq if found else 0


def id_page(client, privacy) -> dict:
    view = client.get(f"/api/records/{quote(privacy['number'])}").json()
    return next(
        p for d in view["documents"] for p in d["pages"] if any(f["code"] == "field_invalid" for f in p["flags"])
    )


# --- the ID oracle --------------------------------------------------------------------------------


def test_staff_cannot_search_by_an_id_number_or_its_beginning_right_or_wrong_alike(privacy, as_user):
    ric = privacy["ric"]
    wrong = ric[:6] + "19700101" + ric[14:]  # a guess
    staff = as_user("staff")
    before = last_seq(privacy)
    attempts = [
        ric,
        wrong,
        ric[:14] + "*",  # rebuilding it digit by digit
        ric[:11] + "*",
        ric[:12],
        f'"{ric[:6]} {ric[6:14]} {ric[14:]}"',  # typed with spaces
        f"text:{ric}",
        f"户号:{ric}",
        f"减容 -{ric}",  # even excluding it would tell whether it is there
    ]
    answers = set()
    for q in attempts:
        r = staff.get("/api/search", params={"q": q})
        assert r.status_code == 403, (q, r.status_code)
        answers.add(r.json()["detail"])
    assert len(answers) == 1  # the right number and a wrong guess get the same answer
    assert "personal number" in answers.pop()
    page = staff.get("/search", params={"q": ric})
    assert page.status_code == 403 and "personal number" in page.text and 'class="hits"' not in page.text
    refused = [e for e in events_since(privacy, before) if e.type == "search refused"]
    assert len(refused) == len(attempts) + 1 and {e.actor for e in refused} == {"staff"}
    assert all(ric[:12] not in str(e.detail) for e in refused)  # the log keeps the query masked
    assert refused[0].detail["query"] == "*" * 14 + ric[-4:]


def test_a_short_beginning_finds_nothing_through_the_id_but_the_granted_find_it(privacy, as_user):
    ric = privacy["ric"]
    prefix = ric[:4] + "*"  # too short to be refused (it could start a 户号), harmless all the same
    staff = as_user("staff").get("/api/search", params={"q": prefix})
    assert staff.status_code == 200 and staff.json()["total_hits"] == 0
    granted = as_user("staff-ids").get("/api/search", params={"q": prefix}).json()
    assert granted["total_hits"] >= 1 and granted["total_exact"] is True  # counted, not bounded
    exact = as_user("staff-ids").get("/api/search", params={"q": ric}).json()
    hits = [h for g in exact["groups"] for h in g["hits"]]
    assert hits and ric in hits[0]["snippet"] and hits[0]["boxes"]


def test_words_on_the_id_page_are_found_but_the_number_is_masked_in_snippet_and_boxes(privacy, as_user):
    ric = privacy["ric"]
    r = as_user("staff").get("/api/search", params={"q": "公民身份号码"})
    assert r.status_code == 200 and ric not in r.text and ric[:6] not in r.text
    hit = r.json()["groups"][0]["hits"][0]
    assert "*" * 14 + ric[-4:] in hit["snippet"]
    assert all("*" not in b["text"] or b["text"].endswith(ric[-4:]) for b in hit["boxes"])


# --- flag messages and every other place the number appears ---------------------------------------


def test_the_field_invalid_message_quotes_the_number_masked_for_staff(privacy, as_user):
    ric = privacy["ric"]
    staff = as_user("staff")
    page = id_page(staff, privacy)
    flag = next(f for f in page["flags"] if f["code"] == "field_invalid")
    assert ric not in flag["message"] and "*" * 14 + ric[-4:] in flag["message"]
    assert page["fields"]["id_number"]["value"] == "*" * 14 + ric[-4:]
    for url in (f"/api/pages/{page['id']}", f"/pages/{page['id']}", f"/api/records/{quote(privacy['number'])}"):
        body = staff.get(url).text
        assert ric not in body and ric[:6] not in body, url
    # the operator, who handles the paper, reads the whole number to check it against the ID card
    operator = id_page(as_user("operator"), privacy)
    assert ric in next(f for f in operator["flags"] if f["code"] == "field_invalid")["message"]


def test_the_image_is_blacked_out_for_staff_and_never_cached(privacy, as_user):
    staff, auditor = as_user("staff"), as_user("auditor")
    page_id = id_page(auditor, privacy)["id"]
    for client in (staff, auditor):
        for url in (
            f"/pages/{page_id}/image",
            f"/pages/{page_id}/image?size=thumb",
            f"/api/pages/{page_id}",
            f"/pages/{page_id}",
            f"/records/{quote(privacy['number'])}",
            "/api/search?q=%E5%87%8F%E5%AE%B9",
        ):
            r = client.get(url)
            assert r.status_code == 200 and r.headers["cache-control"] == "no-store", url
    assert staff.get(f"/pages/{page_id}/image").content != auditor.get(f"/pages/{page_id}/image").content
    assert staff.get("/static/style.css").headers.get("cache-control") != "no-store"  # no personal data there
    logout = staff.post("/logout", data={"csrf": staff.csrf}, follow_redirects=False)
    assert logout.headers["clear-site-data"] == '"cache", "storage"'


def test_the_event_log_masks_personal_numbers_for_a_viewer_without_the_grant(privacy, as_user):
    from dangan.app import Archive
    from dangan.app.audit import event_log
    from dangan.archive.users import User

    as_user("staff").get("/api/search", params={"q": privacy["ric"]})  # refused, logged masked
    archive = Archive(privacy["home"])
    try:
        staff = User(name="someone", role="staff", can_see_ids=False, disabled=False)
        rows = event_log(archive, viewer=staff, per_page=1000)["events"]
    finally:
        archive.close()
    assert rows and privacy["ric"] not in str(rows)


# --- replaced pages: only in their history ------------------------------------------------------


def test_a_replaced_page_is_shown_only_to_those_who_may_see_history(privacy, as_user, tmp_path):
    from dangan.testing.synthetic import render_document

    operator, staff, auditor = as_user("operator"), as_user("staff"), as_user("auditor")
    old = id_page(operator, privacy)["id"]
    scan = tmp_path / "重扫.png"
    render_document("SF", privacy["case"])[0].image.save(scan, dpi=(300, 300))
    db = Database(privacy["home"].db_url)
    with db.session() as s:  # put it in the QA queue, as an operator would have found it
        from dangan.archive.models import Page

        s.get(Page, old).qa_status = "flagged"
    db.dispose()
    with open(scan, "rb") as fh:
        r = operator.post(
            f"/api/qa/{old}/rescan",
            files={"file": (scan.name, fh, "image/png")},
            headers={"X-CSRF-Token": operator.csrf},
        )
    assert r.status_code == 200, r.text
    new = r.json()["new_page_id"]
    assert privacy["ric"] not in str(staff.get(f"/api/pages/{new}").json())
    for url in (f"/pages/{old}/image", f"/pages/{old}/image?size=thumb", f"/api/pages/{old}", f"/pages/{old}"):
        assert staff.get(url).status_code == 404, url
        assert operator.get(url).status_code == 404, url
        assert auditor.get(url).status_code == 200, url
    assert auditor.get(f"/api/pages/{old}").json()["replaced_by"] == new
    assert "replaced by a rescan" in auditor.get(f"/pages/{old}").text
    number = quote(privacy["number"])
    assert [p["id"] for p in auditor.get(f"/api/records/{number}").json()["replaced_pages"]] == [old]
    assert staff.get(f"/api/records/{number}").json()["replaced_pages"] == []


# --- bad ids and server paths -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["99999999999999999999", "2147483648", "0", "-1"])
def test_an_impossible_page_id_is_404_not_500(privacy, as_user, bad):
    operator = as_user("operator")
    for url in (f"/pages/{bad}/image", f"/pages/{bad}", f"/api/pages/{bad}"):
        assert operator.get(url).status_code == 404, url
    r = operator.post(f"/api/qa/{bad}/accept", json={"note": "x"}, headers={"X-CSRF-Token": operator.csrf})
    assert r.status_code == 404
