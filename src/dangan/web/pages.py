"""The HTML pages: parse the request, call dangan.app (as the logged-in user), render a template."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from markdown_it import MarkdownIt

from dangan.app import audit, ingest, records, users
from dangan.app.labels import record_label_kinds, record_labels_pdf
from dangan.app.reports import as_html, charts, exported, make_all, make_report
from dangan.app.users import DEVICE_LIFETIME, BadCredentials, LoginThrottled, UserError
from dangan.errors import DanganError
from dangan.i18n import N_, _
from dangan.web.deps import (
    CanIngest,
    CanPrintLabels,
    CanQa,
    CanReadEvents,
    CanReport,
    CanSearch,
    CanSeeQuarantine,
    CanView,
    LoggedIn,
    archive_for,
    as_of_date,
    client_address,
    csrf_ok,
    disposition,
    page,
)
from dangan.web.forms import SearchForm, choices
from dangan.web.images import THUMB_WIDTH, render
from dangan.web.uploads import rescan_upload

router = APIRouter(include_in_schema=False)
PER_PAGE = 10
MAX_NOTE = 2000
REPORT_ROW_LIMIT = 200  # rows per section shown in the page; the downloads have them all
DEVICE_COOKIE_AGE = int(DEVICE_LIFETIME.total_seconds())
LABEL_NAMES = {"folder": N_("Folder label"), "box": N_("Box label"), "cover": N_("Cover sheet")}


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/search"
    return target


# --- log-in ------------------------------------------------------------------------------


def _login_form(request: Request, next_: str, error: str = "", status_code: int = 200, name: str = ""):
    settings = request.app.state.settings
    token = settings.login_token()
    context = {"login_csrf": token, "next": _safe_next(next_), "error": error, "name": name}
    response = page(request, "login.html", context, status_code=status_code)
    response.set_cookie(settings.login_cookie, token, **settings.cookie_args(3600))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/search"):
    return _login_form(request, next)


@router.post("/login")
def login(
    request: Request, name: str = Form(""), password: str = Form(""), csrf: str = Form(""), next: str = Form("/search")
):
    settings = request.app.state.settings
    if not settings.login_token_ok(csrf, request.cookies.get(settings.login_cookie)):
        raise HTTPException(
            403,
            "The log-in form's security token (CSRF) is missing or out of date: "
            "reload the page and try again. 安全令牌无效，请刷新页面后重试。",
        )
    try:
        done = users.log_in(
            request.app.state.archive,
            name,
            password,
            client_address(request),
            request.cookies.get(settings.device_cookie),
        )
    except LoginThrottled as e:
        response = _login_form(request, next, str(e), status_code=429, name=name)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    except BadCredentials as e:
        return _login_form(request, next, str(e), status_code=401, name=name)
    target = "/account/password" if done.must_change_password else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(settings.session_cookie, done.token, **settings.cookie_args())
    response.set_cookie(settings.device_cookie, done.device_token, **settings.cookie_args(DEVICE_COOKIE_AGE))
    response.delete_cookie(
        settings.login_cookie, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
    )
    return response


@router.post("/logout", dependencies=[Depends(csrf_ok)])
def logout(request: Request):
    settings = request.app.state.settings
    users.log_out(request.app.state.archive, request.cookies.get(settings.session_cookie), client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        settings.session_cookie, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
    )
    # the browser forgets everything it was shown while logged in (Cache-Control: no-store
    # kept it out of the cache; this also empties storage a future page might use)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


# --- the user's own account -------------------------------------------------------------------------


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, user: LoggedIn):
    return page(request, "password.html", {"error": "", "done": False})


@router.post("/account/password", dependencies=[Depends(csrf_ok)])
def change_password(
    request: Request,
    user: LoggedIn,
    current: str = Form(""),
    new: str = Form(""),
    repeat: str = Form(""),
):
    try:
        if new != repeat:
            raise UserError(_("the two new passwords differ"))
        users.change_own_password(request.app.state.archive, user.name, current, new)
    except DanganError as e:
        return page(request, "password.html", {"error": str(e), "done": False}, status_code=e.http_status)
    # every session of the user ended with the change: log in again with the new password
    settings = request.app.state.settings
    response = _login_form(request, "/search", _("Password changed: log in with the new one."))
    response.delete_cookie(
        settings.session_cookie, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
    )
    return response


@router.post("/account/language", dependencies=[Depends(csrf_ok)])
def choose_language(request: Request, user: LoggedIn, language: str = Form(""), next: str = Form("/search")):
    """The user's language for every page from now on ("" follows the browser)."""
    users.set_language(request.app.state.archive, user.name, language)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/")
def home(request: Request):
    return RedirectResponse("/search" if request.state.user else "/login", status_code=303)


# --- search ------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    user: CanSearch,
    q: str = "",
    account: str = "",
    business: str = "",
    doctype: str = "",
    date_from: str = "",
    date_to: str = "",
    page_no: int = Query(1, alias="page", ge=1, le=10_000),
):
    form = SearchForm(q, account, business, doctype, date_from, date_to)
    ctx = {
        "form": form,
        "choices": choices(request.app.state.archive.scheme),
        "results": None,
        "error": "",
        "query": "",
    }
    try:
        ctx["query"] = form.query(request.app.state.archive.scheme)
        if ctx["query"]:
            ctx["results"] = records.search(
                archive_for(request, user), ctx["query"], page=page_no, per_page=PER_PAGE, viewer=user
            )
    except records.SearchRefused as e:
        ctx["error"], status = f"{str(e)[:1].upper()}{str(e)[1:]}.", e.http_status
    except DanganError as e:
        ctx["error"], status = f"{str(e)[:1].upper()}{str(e)[1:]}. 查询无法识别。", e.http_status
    else:
        status = 200
    return page(request, "search.html", ctx, status_code=status)


@router.get("/help/search", response_class=HTMLResponse)
def search_help(request: Request, user: CanSearch):
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(records.QUERY_SYNTAX)
    return page(request, "help.html", {"body": body})


# --- records and pages ------------------------------------------------------------------------


@router.get("/records/{number}", response_class=HTMLResponse)
def record_page(request: Request, number: str, user: CanView, q: str = ""):
    view = records.record_view(archive_for(request, user), number, viewer=user)
    kinds = [(k, LABEL_NAMES[k]) for k in record_label_kinds(view.get("paper"))]
    return page(request, "record.html", {"r": view, "q": q, "label_kinds": kinds})


@router.get("/pages/{page_id}", response_class=HTMLResponse)
def page_viewer(request: Request, page_id: int, user: CanView, q: str = ""):
    return page(
        request, "page.html", {"p": records.page_view(archive_for(request, user), page_id, viewer=user, query=q)}
    )


@router.get("/pages/{page_id}/image")
def page_image(request: Request, page_id: int, user: CanView, size: Literal["full", "thumb"] = "full"):
    """The derived image of a page, found by page id through the database (never a path), with
    personal values blacked out for those who may not see them. Never cached by the browser
    (the app's middleware says no-store): masked and unmasked images share this address."""
    path, redact = records.page_image(
        archive_for(request, user), page_id, viewer=user, session_digest=request.state.session
    )
    data = render(path, width=THUMB_WIDTH if size == "thumb" else None, redact=redact)
    if data is None:
        return FileResponse(path, media_type="image/jpeg")
    return Response(data, media_type="image/jpeg")


# --- operators ----------------------------------------------------------------------------------


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, user: CanIngest):
    return page(request, "upload.html", {"jobs": request.app.state.jobs.all(), "error": ""})


@router.post("/upload", dependencies=[Depends(csrf_ok)])
async def upload(request: Request, user: CanIngest, files: list[UploadFile] = File(...)):
    job = await request.app.state.jobs.upload(user.name, files)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, user: CanIngest):
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "no such upload batch (batches are kept until the server restarts)")
    return page(request, "job.html", {"job": job.public()})


@router.get("/quarantine", response_class=HTMLResponse)
def quarantine_page(request: Request, user: CanSeeQuarantine):
    return page(request, "quarantine.html", {"rows": records.quarantined(archive_for(request, user), viewer=user)})


# --- the QA queue (operators) -------------------------------------------------------------------


def qa_items(request: Request, user) -> list[dict]:
    """The queue with the image addresses the browser fetches."""
    items = records.qa_queue(archive_for(request, user), viewer=user)
    for i in items:
        i["image_url"] = f"/pages/{i['page_id']}/image"
        i["thumb_url"] = f"/pages/{i['page_id']}/image?size=thumb"
    return items


def _qa_page(request: Request, user, *, error: str = "", status_code: int = 200, done: dict | None = None):
    context = {"items": qa_items(request, user), "error": error, "done": done or {}}
    return page(request, "qa.html", context, status_code=status_code)


@router.get("/qa", response_class=HTMLResponse)
def qa_page(
    request: Request, user: CanQa, accepted: int | None = None, rescanned: int | None = None, new: int | None = None
):
    done = {"accepted": accepted, "rescanned": rescanned, "new": new}
    return _qa_page(request, user, done={k: v for k, v in done.items() if v is not None})


@router.post("/qa/{page_id}/accept", dependencies=[Depends(csrf_ok)])
def qa_accept(request: Request, page_id: int, user: CanQa, note: str = Form("", max_length=MAX_NOTE)):
    try:
        ingest.qa_accept(archive_for(request, user), page_id, note, only_queued=True)
    except DanganError as e:
        return _qa_page(request, user, error=str(e), status_code=e.http_status)
    return RedirectResponse(f"/qa?accepted={page_id}", status_code=303)


@router.post("/qa/{page_id}/rescan", dependencies=[Depends(csrf_ok)])
async def qa_rescan(
    request: Request, page_id: int, user: CanQa, file: UploadFile = File(...), page_no: int = Form(1, ge=1, le=10_000)
):
    try:
        done = await rescan_upload(archive_for(request, user), page_id, file, page_no)
    except DanganError as e:
        return _qa_page(request, user, error=str(e), status_code=e.http_status)
    except HTTPException as e:
        if e.status_code == 413:
            raise
        return _qa_page(request, user, error=e.detail, status_code=e.status_code)
    return RedirectResponse(f"/qa?rescanned={done['page_id']}&new={done['new_page_id']}", status_code=303)


# --- auditors ----------------------------------------------------------------------------------


@router.get("/audit/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    user: CanReadEvents,
    type: str = "",
    actor: str = "",
    object: str = "",
    record: str = "",
    page_no: int = Query(1, alias="page", ge=1, le=1_000_000),
    verify: bool = False,
):
    archive = archive_for(request, user)
    data = audit.event_log(
        archive, page=page_no, type_=type, actor=actor, object_id=object, record=record.strip(), viewer=user
    )
    check = audit.verify_chain(archive) if verify else None
    filters = {"type": type, "actor": actor, "object": object, "record": record.strip()}
    return page(request, "events.html", {"data": data, "check": check, "filters": filters})


@router.get("/audit/events.csv")
def events_csv(request: Request, user: CanReadEvents):
    return StreamingResponse(
        audit.events_csv(archive_for(request, user), viewer=user),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="dangan-events.csv"'},
    )


def _report_view(report) -> dict:
    return {"r": report, "charts": charts(report)}


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: CanReport, as_of: str = ""):
    views = [_report_view(r) for r in make_all(archive_for(request, user), as_of=as_of_date(as_of))]
    return page(request, "reports.html", {"reports": views, "as_of": as_of, "limit": REPORT_ROW_LIMIT})


def _download_name(kind: str, suffix: str) -> str:
    return f"dangan-{kind}-report-{dt.date.today().isoformat()}.{suffix}"


@router.get("/reports/all.html")
def reports_all_html(request: Request, user: CanReport, as_of: str = "", download: bool = False):
    archive, day = archive_for(request, user), as_of_date(as_of)
    reports = make_all(archive, as_of=day)
    exported(archive, [r.kind for r in reports], "html", as_of=day)
    return _report_html(reports, _("dangan audit reports"), "all", download)


@router.get("/reports/{kind}.csv")
def report_csv(request: Request, kind: str, user: CanReport, as_of: str = ""):
    archive, day = archive_for(request, user), as_of_date(as_of)
    report = make_report(archive, kind, as_of=day)
    exported(archive, [kind], "csv", as_of=day)
    return Response(
        "\ufeff" + report.to_csv(),
        media_type="text/csv; charset=utf-8",  # BOM: spreadsheets
        headers={"Content-Disposition": disposition("attachment", _download_name(kind, "csv"))},
    )


@router.get("/reports/{kind}.html")
def report_html(request: Request, kind: str, user: CanReport, as_of: str = "", download: bool = False):
    archive, day = archive_for(request, user), as_of_date(as_of)
    report = make_report(archive, kind, as_of=day)
    exported(archive, [kind], "html", as_of=day)
    return _report_html([report], report.title, kind, download)


def _report_html(reports: list, title: str, kind: str, download: bool) -> Response:
    """The self-contained report page (inline CSS, inline SVG, no script): shown in the browser
    to print, or downloaded. Its own CSP allows the inline style and nothing else."""
    how = "attachment" if download else "inline"
    return HTMLResponse(
        as_html(reports, title=title),
        headers={
            "Content-Disposition": disposition(how, _download_name(kind, "html")),
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        },
    )


# --- labels (operators) -------------------------------------------------------------------------------


@router.get("/records/{number}/labels/{kind}.pdf")
def record_labels(request: Request, number: str, kind: Literal["folder", "box", "cover"], user: CanPrintLabels):
    data, name = record_labels_pdf(archive_for(request, user), number, kind)
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": disposition("attachment", name)}
    )
