"""The web app in a real browser (Debian's headless Chromium through Playwright): each role
logs in, searches a Chinese phrase, sees the hit boxes drawn on the page image, opens the
record; the auditor downloads the event log and a report; the operator works the QA queue,
prints a label and uploads a scan. Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from dangan.app.reports import REPORT_KINDS
from tests.web.conftest import ARTIFACTS, LOW_DPI, PASSWORD, queue_a_flagged_page

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install -y chromium)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHRASE = "公民身份号码"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(app):
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page_for(browser, server):
    contexts = []

    def make(name: str, locale: str = "en-US"):
        # these tests read English; the Chinese pages: test_main_pages_in_both_languages
        ctx = browser.new_context(
            base_url=server, viewport={"width": 1360, "height": 900}, accept_downloads=True, locale=locale
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        login_as(page, name)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def login_as(page, name: str) -> None:
    page.goto("/search")  # not logged in: sent to the log-in form, then back
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/search")


def wait_until(page, expression: str, timeout: float = 20) -> None:
    """Poll a JS expression from Python (page.wait_for_function evaluates strings in the
    page, which the app's Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        time.sleep(0.2)


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("role", ["operator", "staff", "auditor", "admin"])
def test_each_role_searches_a_chinese_phrase_and_sees_the_hits_boxed_on_the_page(page_for, web_archive, role):
    page = page_for(role)
    page.fill("input[name=q]", PHRASE)
    page.click("form.search button[type=submit]")
    page.wait_for_selector("ol.hits mark")
    assert PHRASE in page.inner_text("ol.hits mark")
    snippet = page.inner_text("ol.hits .snippet")
    ric = web_archive["id_number"]
    if role == "staff":
        assert ric not in snippet and "*" * 14 + ric[-4:] in snippet
    shot(page, f"{role}-1-search")

    page.click("ol.hits a.pg")
    page.wait_for_selector("svg.boxes rect.hit", state="attached")
    wait_until(
        page, "document.getElementById('page-image').complete && document.getElementById('page-image').naturalWidth > 0"
    )
    rects = page.locator("svg.boxes rect.hit")
    assert rects.count() >= 1
    image_box = page.locator("#page-image").bounding_box()
    hit_box = rects.first.bounding_box()
    assert hit_box["width"] > 0 and hit_box["height"] > 0
    assert image_box["x"] <= hit_box["x"] and hit_box["x"] + hit_box["width"] <= image_box["x"] + image_box["width"]
    assert image_box["y"] <= hit_box["y"] <= image_box["y"] + image_box["height"]
    shot(page, f"{role}-2-page-with-hit-boxes")

    page.click("[data-act=rotate]")
    assert page.get_attribute("#stage", "data-rotation") == "90"
    page.click("[data-act=zoom-in]")
    page.click("[data-act=rotate]"), page.click("[data-act=rotate]"), page.click("[data-act=rotate]")
    assert page.get_attribute("#stage", "data-rotation") == "0"

    page.click(".viewer-head h1 a")
    page.wait_for_selector(".thumbs img")
    wait_until(page, "[...document.querySelectorAll('.thumbs img')].every(i => i.complete && i.naturalWidth > 0)")
    assert web_archive["number"] in page.inner_text("h1")
    assert page.locator("table.events td[data-type=access]").count() >= 1
    shot(page, f"{role}-3-record")


def test_the_auditor_verifies_the_chain_and_downloads_the_event_log(page_for):
    page = page_for("auditor")
    page.click("nav a[href='/audit/events']")
    page.click("#verify")
    assert "Chain intact" in page.inner_text("#chain-result")
    shot(page, "auditor-4-event-log")
    with page.expect_download() as info:
        page.click("#csv")
    target = ARTIFACTS / "dangan-events.csv"
    info.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert text.startswith("seq,at,type,actor")
    assert "access" in text and "registration" in text


def test_staff_have_no_operator_or_auditor_pages(page_for, server):
    page = page_for("staff")
    assert page.locator("nav a[href='/upload']").count() == 0
    assert page.locator("nav a[href='/audit/events']").count() == 0
    assert page.locator("nav a[href='/qa']").count() == 0
    assert page.locator("nav a[href='/reports']").count() == 0
    response = page.goto("/audit/events")
    assert response.status == 403
    shot(page, "staff-5-denied")
    assert page.goto("/qa").status == 403
    assert page.goto("/reports").status == 403


def test_the_operator_walks_the_qa_queue_and_accepts_the_low_dpi_page_with_a_note(page_for, web_archive):
    page_id = queue_a_flagged_page(web_archive)
    page = page_for("operator")
    page.click("nav a[href='/qa']")
    item = page.locator(f"#qa-{page_id}")
    item.wait_for()
    assert web_archive["number"] in item.locator("h2").inner_text()
    assert f"Scanned at {LOW_DPI} dpi, below the 200 dpi minimum" in item.locator("ul.flags").inner_text()
    wait_until(
        page,
        f"document.querySelector('#qa-{page_id} img').complete && "
        f"document.querySelector('#qa-{page_id} img').naturalWidth > 0",
    )
    shot(page, "operator-5-qa-queue")

    # the note is required: the browser will not send an empty one
    item.locator("form.qa-accept button[type=submit]").click()
    assert page.evaluate(f"document.querySelector('#qa-{page_id} input[name=note]').validity.valueMissing")
    assert page.locator(f"#qa-{page_id}").count() == 1
    item.locator("input[name=note]").fill("合同页字迹清晰，可以辨认；原件即为低分辨率传真件")
    item.locator("form.qa-accept button[type=submit]").click()
    page.wait_for_url("**/qa?accepted=*")
    assert f"Page {page_id} accepted" in page.inner_text("#qa-done")
    assert page.locator(f"#qa-{page_id}").count() == 0
    assert page.locator(".qa-item").count() == 0 and page.locator("#qa-empty").is_visible()
    shot(page, "operator-6-qa-queue-empty")


def test_the_operator_sees_completeness_and_paper_and_prints_a_folder_label(page_for, web_archive):
    from urllib.parse import quote

    page = page_for("operator")
    page.goto(f"/records/{quote(web_archive['number'])}")
    page.wait_for_selector("#completeness")
    assert "Loan" in page.inner_text("dl.facts")
    shot(page, "operator-7-record-completeness-labels")
    with page.expect_download() as info:
        page.click("#label-folder")
    target = ARTIFACTS / "folder-label.pdf"
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")


def test_the_auditor_opens_the_reports_and_downloads_one_as_csv(page_for):
    page = page_for("auditor")
    page.click("nav a[href='/reports']")
    page.wait_for_selector("#report-numbering")
    for kind in ("completeness", "overdue", "digitisation", "reconciliation", "numbering"):
        assert page.locator(f"#report-{kind} h2").count() == 1
    assert page.locator("#report-completeness figure.chart svg").count() == 1
    shot(page, "auditor-5-reports")
    with page.expect_download() as info:
        page.click("#csv-completeness")
    target = ARTIFACTS / "completeness-report.csv"
    info.value.save_as(target)
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "# Completeness of business cases"
    assert (
        "work_order,business_type,department,month,customer,records,ok,missing,invalid_fields,unmet_preconditions,other"
    ) in lines
    assert "# actor,auditor" in lines
    with page.expect_download() as info:
        page.click("#html-numbering")
    html = ARTIFACTS / "numbering-report.html"
    info.value.save_as(html)
    assert "Archive numbering" in html.read_text(encoding="utf-8")
    page.goto("/reports/all.html")  # the printable version opens in the browser under its own CSP
    assert page.locator("section.report").count() == len(REPORT_KINDS)
    shot(page, "auditor-6-reports-printable")


def test_the_operator_uploads_a_scan_and_watches_the_batch_finish(page_for, web_archive, tmp_path):
    from dangan.testing.synthetic import demo_cases, render_document

    case = next(c for c in demo_cases(seed=5) if c.business_type != "JR")
    image = render_document("SQ", case)[0].image
    scan = tmp_path / "申请书-扫描.png"
    image.save(scan, dpi=(300, 300))
    page = page_for("operator")
    page.click("nav a[href='/upload']")
    page.set_input_files("input[type=file]", str(scan))
    page.click("form[action='/upload'] button[type=submit]")
    page.wait_for_url("**/jobs/*")
    wait_until(page, "['done', 'failed'].includes(document.getElementById('job').dataset.state)", timeout=180)
    assert page.get_attribute("#job-state", "data-state") == "done", page.inner_text("#job-error")
    assert page.locator("#job-folders td[data-status=accessioned]").count() >= 1
    shot(page, "operator-4-upload-done")
    page.click("#job-folders a")
    page.wait_for_selector(".thumbs img")
    assert case.customer.account_no in page.inner_text("dl.facts") or page.locator(".thumbs img").count() == 1


def test_a_shared_browser_shows_the_next_user_the_masked_image_not_the_cached_one(browser, server, web_archive):
    """An auditor (who sees ID numbers) looks at the ID card copy, logs out; a staff member
    logs in on the same browser: the page image they get is the masked one, from the server."""
    from urllib.parse import quote

    ctx = browser.new_context(base_url=server, viewport={"width": 1360, "height": 900}, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        images: dict[str, list] = {}

        def remember(response):
            if "/image" in response.url:
                images.setdefault(who[0], []).append((response.url, response.headers, response.body()))

        page.on("response", remember)
        who = ["auditor"]
        login_as(page, "auditor")
        page.goto(f"/records/{quote(web_archive['number'])}")
        page.click(".thumbs a.thumb")  # the first page: the ID card copy
        wait_until(page, "document.getElementById('page-image').naturalWidth > 0")
        viewer_url = page.url
        page.click("form.who button[type=submit]")  # log out
        page.wait_for_url("**/login")
        who[0] = "staff"
        login_as(page, "staff")
        page.goto(viewer_url)
        wait_until(page, "document.getElementById('page-image').naturalWidth > 0")
        assert web_archive["id_number"] not in page.inner_text("aside.text")
        shot(page, "staff-6-same-browser-after-auditor")
        full = lambda who: [body for url, _, body in images.get(who, []) if "size=thumb" not in url]
        assert full("auditor") and full("staff"), images.keys()
        assert full("staff")[-1] != full("auditor")[-1]  # not the auditor's unmasked image from the cache
        assert all(h.get("cache-control") == "no-store" for w in images for _, h, _ in images[w])
    finally:
        ctx.close()


def test_the_api_documentation_renders_without_internet(browser, server):
    ctx = browser.new_context(base_url=server)
    try:
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        outside = []
        local = (server, "blob:" + server, "data:")  # ReDoc starts its search worker from a blob
        # (ReDoc asks for its vendor's logo on a CDN: the page's CSP refuses it, it never loads)
        page.on("response", lambda r: outside.append(r.url) if not r.url.startswith(local) else None)
        page.goto("/api/docs")
        page.wait_for_selector(".opblock-summary-path")
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/search" in paths and "/api/records/{number}" in paths
        shot(page, "api-docs-swagger")
        page.goto("/api/redoc")
        page.get_by_text("/api/search").first.wait_for()
        shot(page, "api-docs-redoc")
        assert outside == []  # nothing loaded from a CDN or anywhere else
    finally:
        ctx.close()


# the README's screenshots are refreshed on request (DANGAN_SCREENSHOTS=docs), so a test run
# leaves the checkout as it found it
DOCS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("DANGAN_SCREENSHOTS") == "docs"
    else ARTIFACTS / "languages"
)


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_main_pages_in_both_languages(page_for, web_archive, locale):
    """Search, record, page viewer, QA queue, reports and the printable audit report as a
    browser set to LOCALE shows them; the screenshots in docs/screenshots are these
    (`DANGAN_SCREENSHOTS=docs pytest tests/web/test_browser.py -k both` refreshes them)."""
    from urllib.parse import quote

    zh = locale == "zh-CN"
    lang = "zh" if zh else "en"
    DOCS.mkdir(parents=True, exist_ok=True)
    queue_a_flagged_page(web_archive)
    page = page_for("auditor", locale)

    def doc_shot(name: str) -> None:
        page.screenshot(path=str(DOCS / f"{lang}-{name}.png"), full_page=False)

    assert page.get_attribute("html", "lang") == ("zh-CN" if zh else "en")
    assert page.inner_text("nav a[href='/search']") == ("检索" if zh else "Search")
    page.fill("input[name=q]", PHRASE)
    page.click("form.search button[type=submit]")
    page.wait_for_selector("ol.hits mark")
    summary = page.inner_text("p.summary")
    assert ("命中" in summary and "件" in summary) if zh else ("match" in summary and "record" in summary)
    doc_shot("1-search")

    page.click("ol.hits a.pg")
    page.wait_for_selector("svg.boxes rect.hit", state="attached")
    wait_until(page, "document.getElementById('page-image').naturalWidth > 0")
    assert page.inner_text("aside.text h2") == ("识别文字" if zh else "OCR text")
    doc_shot("3-page-viewer")

    page.goto(f"/records/{quote(web_archive['number'])}")
    page.wait_for_selector(".thumbs img")
    wait_until(page, "[...document.querySelectorAll('.thumbs img')].every(i => i.complete && i.naturalWidth > 0)")
    facts = page.inner_text("dl.facts")
    assert ("纸质位置" in facts and "借阅" in facts) if zh else ("Paper" in facts and "Loan" in facts)
    accessioned = page.inner_text("dl.facts dd.accessioned")  # in prose: 2026年12月2日 / 2 December 2026
    assert re.fullmatch(
        r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d" if zh else r"\d{1,2} [A-Z][a-z]+ \d{4} \d\d:\d\d", accessioned
    )
    doc_shot("2-record")

    operator = page_for("operator", locale)
    operator.goto("/qa")
    operator.locator(".qa-item").first.wait_for()
    assert ("待检查" if zh else "to check") in operator.inner_text("#qa-count")
    operator.screenshot(path=str(DOCS / f"{lang}-4-qa-queue.png"), full_page=False)

    page.goto("/reports")
    page.wait_for_selector("#report-numbering")
    assert page.inner_text("h1") == ("稽查报告" if zh else "Auditor reports")
    reports = page.locator("section.report").count()
    doc_shot("5-reports")

    page.goto("/reports/all.html")
    assert page.locator("section.report").count() == reports
    assert page.get_attribute("html", "lang") == ("zh-CN" if zh else "en")
    assert page.inner_text("section.report h1 >> nth=0") == (
        "业务档案完整性" if zh else "Completeness of business cases"
    )
    assert ("检查人（签字）" if zh else "checked by (signature)") in page.inner_text("div.sign >> nth=0")
    doc_shot("6-audit-report-printable")
