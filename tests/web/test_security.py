"""The web app's guards, through HTTP: roles, CSRF, sessions and cookies, throttling,
no file-store path reachable from a URL, ID numbers masked for staff."""

from __future__ import annotations

import warnings
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from dangan.archive.db import Database
from dangan.archive.models import ArchiveRecord, Batch, Event
from tests.web.conftest import PASSWORD, csrf_from, low_dpi_page, queue_a_flagged_page


def counts(web_archive) -> tuple[int, int, int]:
    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            return (
                s.scalar(select(func.count(Event.id))),
                s.scalar(select(func.count(ArchiveRecord.id))),
                s.scalar(select(func.count(Batch.id))),
            )
    finally:
        db.dispose()


def anonymous(app):
    from fastapi.testclient import TestClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app, headers={"Accept-Language": "en"})


def tiny_pdf() -> tuple[str, bytes, str]:
    return ("folder.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")


# --- who may do what ------------------------------------------------------------------------

# QA actions and labels are the operators' (and admins'); reports the auditors' (and admins').
# {page} is the fixture's 150-dpi page, {number} its record.
QA = [
    ("GET", "/qa"),
    ("GET", "/api/qa"),
    ("POST", "/qa/{page}/accept"),
    ("POST", "/api/qa/{page}/accept"),
    ("POST", "/qa/{page}/rescan"),
    ("POST", "/api/qa/{page}/rescan"),
]
LABELS = [("GET", "/records/{number}/labels/folder.pdf"), ("GET", "/records/{number}/labels/box.pdf")]
REPORTS = [
    ("GET", "/reports"),
    ("GET", "/reports/completeness.csv"),
    ("GET", "/reports/numbering.html"),
    ("GET", "/reports/all.html"),
    ("GET", "/api/reports"),
    ("GET", "/api/reports/overdue"),
]
DENIED = {
    "staff": [
        ("GET", "/upload"),
        ("POST", "/upload"),
        ("POST", "/api/uploads"),
        ("GET", "/quarantine"),
        ("GET", "/api/quarantine"),
        ("GET", "/audit/events"),
        ("GET", "/audit/events.csv"),
        ("GET", "/api/events"),
        ("GET", "/api/events/verify"),
    ]
    + QA
    + LABELS
    + REPORTS,
    "auditor": [("GET", "/upload"), ("POST", "/upload"), ("POST", "/api/uploads")] + QA + LABELS,
    "operator": [
        ("GET", "/audit/events"),
        ("GET", "/audit/events.csv"),
        ("GET", "/api/events"),
        ("GET", "/api/events/verify"),
    ]
    + REPORTS,
}


def page_state(web_archive, page_id: int) -> tuple:
    from dangan.archive.models import Page

    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            p = s.get(Page, page_id)
            return p.qa_status, p.superseded_by_id, s.scalar(select(func.count(Page.id)))
    finally:
        db.dispose()


@pytest.mark.parametrize("role", DENIED)
def test_each_role_is_refused_what_it_must_not_do_and_nothing_changes(web_archive, login, role):
    client = login(role)
    page_id = low_dpi_page(web_archive)[0]
    before, page_before = counts(web_archive), page_state(web_archive, page_id)
    for method, template in DENIED[role]:
        path = template.format(page=page_id, number=quote(web_archive["number"]))
        if method == "GET":
            r = client.get(path)
        else:  # a well-formed request with a valid CSRF token: only the role stops it
            r = client.post(
                path,
                files={"files": tiny_pdf(), "file": tiny_pdf()},
                data={"csrf": client.csrf, "note": "looks fine"},
                headers={"X-CSRF-Token": client.csrf},
            )
        assert r.status_code == 403, (role, path, r.status_code)
    assert counts(web_archive) == before
    assert page_state(web_archive, page_id) == page_before
    assert not (web_archive["home"].root / "uploads").exists() or not any(
        (web_archive["home"].root / "uploads").iterdir()
    )


@pytest.mark.parametrize("role", ["operator", "staff", "auditor", "admin"])
def test_every_role_can_search_and_read_a_record(web_archive, login, role):
    client = login(role)
    r = client.get("/search", params={"q": "公民身份号码"})
    assert r.status_code == 200 and "<mark>公民身份号码</mark>" in r.text
    assert client.get(f"/records/{quote(web_archive['number'])}").status_code == 200


def test_not_logged_in_pages_redirect_to_login_and_the_api_answers_401(app, web_archive):
    c = anonymous(app)
    r = c.get("/search?q=减容", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert c.get("/api/search", params={"q": "减容"}).status_code == 401
    assert c.get("/pages/1/image", follow_redirects=False).status_code == 303
    assert c.get("/api/pages/1").status_code == 401


def test_viewing_a_record_or_page_is_an_access_event_with_the_user(web_archive, login):
    client = login("staff")
    before = counts(web_archive)[0]
    view = client.get(f"/api/records/{quote(web_archive['number'])}").json()
    page_id = view["documents"][0]["pages"][0]["id"]
    client.get(f"/pages/{page_id}")
    db = Database(web_archive["home"].db_url)
    with db.session() as s:
        new = s.scalars(select(Event).where(Event.seq > before).order_by(Event.seq)).all()
    db.dispose()
    assert [(e.type, e.actor, e.object_id, e.detail["what"]) for e in new] == [
        ("access", "staff", web_archive["number"], "show"),
        ("access", "staff", web_archive["number"], "page"),
    ]


# --- CSRF, sessions, cookies, throttling ------------------------------------------------------


def test_a_post_without_the_csrf_token_is_refused(app, web_archive, login):
    client = login("operator")
    before = counts(web_archive)
    assert client.post("/upload", files={"files": tiny_pdf()}).status_code == 403
    assert (
        client.post("/api/uploads", files={"files": tiny_pdf()}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    )
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/api/me").status_code == 200  # still logged in: the logout was refused
    assert counts(web_archive) == before
    # the log-in form too: a token not from our form (or no cookie to match it) is refused
    c = anonymous(app)
    assert c.post("/login", data={"name": "staff", "password": PASSWORD}).status_code == 403
    assert c.post("/login", data={"name": "staff", "password": PASSWORD, "csrf": "x.y"}).status_code == 403


@pytest.mark.parametrize("role", ["staff", "auditor"])
def test_only_operators_act_on_the_qa_queue_the_page_stays_flagged(web_archive, login, role):
    page_id = queue_a_flagged_page(web_archive)
    client = login(role)
    before = counts(web_archive)
    r = client.post(f"/qa/{page_id}/accept", data={"csrf": client.csrf, "note": "I think it is fine"})
    assert r.status_code == 403 and "may not do this" in r.text
    r = client.post(
        f"/api/qa/{page_id}/accept", json={"note": "I think it is fine"}, headers={"X-CSRF-Token": client.csrf}
    )
    assert r.status_code == 403
    assert page_state(web_archive, page_id)[:2] == ("flagged", None)
    assert counts(web_archive) == before
    assert client.get("/qa").status_code == 403
    html = client.get(f"/records/{quote(web_archive['number'])}").text
    assert 'href="/qa"' not in html and "/labels/" not in html


def test_a_qa_accept_without_the_csrf_token_is_refused(web_archive, login):
    page_id = queue_a_flagged_page(web_archive)
    client = login("operator")
    before = counts(web_archive)
    assert client.post(f"/qa/{page_id}/accept", data={"note": "fine"}).status_code == 403
    assert client.post(f"/qa/{page_id}/accept", data={"note": "fine", "csrf": "forged"}).status_code == 403
    assert client.post(f"/api/qa/{page_id}/accept", json={"note": "fine"}).status_code == 403
    assert (
        client.post(f"/api/qa/{page_id}/accept", json={"note": "fine"}, headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    assert client.post(f"/api/qa/{page_id}/rescan", files={"file": tiny_pdf()}).status_code == 403
    assert page_state(web_archive, page_id)[:2] == ("flagged", None)
    assert counts(web_archive) == before


def test_log_out_ends_the_session(login):
    client = login("auditor")
    r = client.post("/logout", data={"csrf": client.csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_session_cookie_is_httponly_samesite_strict_and_secure(web_archive, login):
    from dangan.web import create_app

    secure_app = create_app(web_archive["home"], secret_key="test", secure_cookies=True)
    client = login("staff", client_app=secure_app, base_url="https://testserver")
    cookie = next(
        v for k, v in client.login_response.headers.multi_items() if k == "set-cookie" and "dangan_session=" in v
    )
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")}
    assert cookie.startswith("__Host-dangan_session=")
    assert {"httponly", "secure", "samesite"} <= attrs and "samesite=strict" in cookie.lower()
    assert "path=/" in cookie.lower() and "domain" not in attrs
    login_form = anonymous(secure_app).get("/login")
    form_cookie = login_form.headers["set-cookie"].lower()
    assert "httponly" in form_cookie and "secure" in form_cookie and "samesite=strict" in form_cookie
    assert "frame-ancestors 'none'" in login_form.headers["content-security-policy"]


def test_log_in_is_throttled_after_five_failures(app, web_archive):
    from dangan.archive.users import add_user

    db = Database(web_archive["home"].db_url)
    with db.session() as s:
        add_user(s, "forgetful", PASSWORD, "staff", actor="test")
    db.dispose()
    c = anonymous(app)
    for _ in range(5):
        r = c.post(
            "/login", data={"name": "forgetful", "password": "wrong password!", "csrf": csrf_from(c.get("/login").text)}
        )
        assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = c.post(
        "/login",
        data={"name": "forgetful", "password": PASSWORD, "csrf": csrf_from(c.get("/login").text)},
        follow_redirects=False,
    )
    assert r.status_code == 429
    assert "Too many failed log-ins" in r.text and int(r.headers["retry-after"]) > 0
    # other users from the same address are not locked out
    r = c.post(
        "/login",
        data={"name": "staff", "password": PASSWORD, "csrf": csrf_from(c.get("/login").text)},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_a_disabled_user_is_logged_out_at_once(web_archive, login):
    from dangan.archive.users import add_user, disable_user

    db = Database(web_archive["home"].db_url)
    with db.session() as s:
        add_user(s, "leaver", PASSWORD, "staff", actor="test")
    client = login("leaver")
    assert client.get("/api/me").status_code == 200
    with db.session() as s:
        disable_user(s, "leaver", actor="test")
    db.dispose()
    assert client.get("/api/me").status_code == 401


# --- no file-store path from a URL ---------------------------------------------------------------

TRAVERSALS = [
    "../dangan.sqlite3",
    "..%2Fdangan.sqlite3",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "derived%2F..%2F..%2Fdangan.sqlite3",
    "1%2F..%2F..%2Fdangan.sqlite3",
]


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_traversal_and_absolute_paths_in_urls_reach_no_file(web_archive, login, bad):
    client = login("admin")
    for url in (
        f"/pages/{bad}/image",
        f"/pages/{bad}",
        f"/api/pages/{bad}",
        f"/static/{bad}",
        f"/static/..%2F..%2F{bad}",
        f"/records/{bad}",
        f"/api/records/{bad}",
        f"/jobs/{bad}",
        f"/api/jobs/{bad}",
        f"/pages/1/image?size={bad}",
    ):
        r = client.get(url)
        assert r.status_code in (404, 422), (url, r.status_code)
        assert b"SQLite format" not in r.content and b"root:" not in r.content


@pytest.mark.parametrize(
    "name",
    [
        "../evil.pdf",
        "..\\evil.pdf",
        "/etc/evil.pdf",
        "sub/evil.pdf",
        "..",
        ".hidden.pdf",
        "evil.sh",
        "../../etc/cron.d/x.pdf",
    ],
)
def test_upload_names_with_paths_are_refused_and_nothing_is_written(web_archive, login, name):
    client = login("operator")
    before = counts(web_archive)
    r = client.post(
        "/api/uploads", files={"files": (name, b"%PDF-1.4\n", "application/pdf")}, headers={"X-CSRF-Token": client.csrf}
    )
    assert r.status_code == 400, r.text
    assert counts(web_archive) == before
    home = web_archive["home"].root
    assert not (home.parent / "evil.pdf").exists() and not (home / "evil.pdf").exists()
    uploads = home / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


@pytest.mark.parametrize(
    "name", ["../a.pdf", "a/../../b.pdf", "/abs.pdf", "C:\\x.pdf", "C:x.pdf", "..\\a.pdf", "a\x00.pdf", "．．／a.pdf"]
)
def test_the_upload_name_check_refuses_every_path_form(name):
    from dangan.web.uploads import UnsafeFileName, safe_upload_name

    with pytest.raises(UnsafeFileName):
        safe_upload_name(name)
    assert safe_upload_name("客户档案 01.pdf") == "客户档案 01.pdf"


def test_images_come_by_page_id_and_json_carries_no_store_paths(web_archive, login):
    client = login("admin")
    view = client.get(f"/api/records/{quote(web_archive['number'])}").json()
    page = view["documents"][0]["pages"][0]
    assert "master" not in page and "derived" not in page and "store_root" not in view
    r = client.get(f"/pages/{page['id']}/image")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    results = client.get("/api/search", params={"q": "减容"}).json()
    assert all("image" not in h for g in results["groups"] for h in g["hits"])


# --- personal data ------------------------------------------------------------------------------


def test_staff_see_id_numbers_masked_everywhere_unless_granted(web_archive, login):
    ric = web_archive["id_number"]
    masked = "*" * 14 + ric[-4:]
    number = quote(web_archive["number"])
    staff = login("staff")
    r = staff.get("/search", params={"q": "公民身份号码"})
    assert masked in r.text and ric not in r.text
    api = staff.get(f"/api/records/{number}")
    assert ric not in api.text and masked in api.text
    page_id = api.json()["documents"][0]["pages"][0]["id"]
    assert ric not in staff.get(f"/pages/{page_id}").text
    assert ric not in staff.get("/api/search", params={"q": "公民身份号码"}).text
    # the image itself has the number blacked out
    staff_image = staff.get(f"/pages/{page_id}/image").content
    for who in ("auditor", "staff-ids", "operator"):
        other = login(who)
        assert ric in other.get(f"/api/records/{number}").text, who
    assert login("auditor").get(f"/pages/{page_id}/image").content != staff_image


# --- the auditor's log ------------------------------------------------------------------------------


def test_the_event_log_verifies_and_downloads_as_csv(login):
    client = login("auditor")
    r = client.get("/audit/events", params={"verify": 1})
    assert r.status_code == 200 and "Chain intact" in r.text
    csv_response = client.get("/audit/events.csv")
    assert csv_response.status_code == 200
    assert "attachment" in csv_response.headers["content-disposition"]
    text = csv_response.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("seq,at,type,actor,object_type,object_id,detail,prev_hash,hash")
    assert any(",registration," in line for line in lines) and len(lines) > 5
    assert client.get("/api/events/verify").json()["ok"] is True


def test_a_bad_query_is_a_readable_400(login):
    client = login("staff")
    r = client.get("/search", params={"q": '户号:"unclosed'})
    assert r.status_code == 400 and "Cannot read the query" in r.text
    assert client.get("/api/search", params={"q": "x", "date_from": "2024-13-01"}).status_code == 400
    assert client.get("/search", params={"account": "12ab"}).status_code == 400


def test_openapi_describes_the_api(app):
    spec = anonymous(app).get("/api/openapi.json").json()
    assert {
        "/api/search",
        "/api/records/{number}",
        "/api/pages/{page_id}",
        "/api/uploads",
        "/api/events",
        "/api/qa",
        "/api/qa/{page_id}/accept",
        "/api/qa/{page_id}/rescan",
        "/api/reports",
        "/api/reports/{kind}",
    } <= set(spec["paths"])
    assert not any(p.startswith("/login") for p in spec["paths"])
