"""The HTML pages: parse the request, call web.services (library calls), render a template."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse

from dangan.archive.store import StoreError
from dangan.archive.users import BadCredentials, LoginThrottled, User, authenticate, end_session, start_session
from dangan.errors import NotFound
from dangan.indexing.query import QUERY_SYNTAX, QuerySyntaxError
from dangan.web.app import client_address, csrf_ok, need, page
from dangan.web.forms import FormError, SearchForm, choices

router = APIRouter(include_in_schema=False)
PER_PAGE = 10
MAX_UPLOAD_BYTES = 1 << 30


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/search"
    return target


# --- log-in ------------------------------------------------------------------------------


def _login_form(request: Request, next_: str, error: str = "", status_code: int = 200, name: str = ""):
    settings = request.app.state.settings
    token = settings.login_token()
    response = page(
        request,
        "login.html",
        {"login_csrf": token, "next": _safe_next(next_), "error": error, "name": name},
        status_code=status_code,
    )
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
    db = request.app.state.services.db
    try:
        with db.session() as s:
            user = authenticate(s, name, password, client_address(request))
            new = start_session(s, user, client_address(request)) if user else None
    except LoginThrottled as e:
        response = _login_form(request, next, str(e), status_code=429, name=name)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    if new is None:
        return _login_form(request, next, str(BadCredentials()), status_code=401, name=name)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(settings.session_cookie, new.token, **settings.cookie_args())
    response.delete_cookie(
        settings.login_cookie, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
    )
    return response


@router.post("/logout", dependencies=[Depends(csrf_ok)])
def logout(request: Request):
    settings = request.app.state.settings
    with request.app.state.services.db.session() as s:
        end_session(s, request.cookies.get(settings.session_cookie))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        settings.session_cookie, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
    )
    return response


@router.get("/")
def home(request: Request):
    return RedirectResponse("/search" if request.state.user else "/login", status_code=303)


# --- search ------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    user: User = Depends(need("search")),
    q: str = "",
    account: str = "",
    business: str = "",
    doctype: str = "",
    date_from: str = "",
    date_to: str = "",
    page_no: int = Query(1, alias="page", ge=1, le=10_000),
):
    form = SearchForm(q, account, business, doctype, date_from, date_to)
    ctx = {"form": form, "choices": choices(), "results": None, "error": "", "query": ""}
    try:
        ctx["query"] = form.query()
        if ctx["query"]:
            ctx["results"] = request.app.state.services.search(user, ctx["query"], page=page_no, per_page=PER_PAGE)
    except (FormError, QuerySyntaxError) as e:
        ctx["error"] = f"Cannot read the query: {e}. 查询无法识别。"
    return page(request, "search.html", ctx, status_code=400 if ctx["error"] else 200)


@router.get("/help/search", response_class=HTMLResponse)
def search_help(request: Request, user: User = Depends(need("search"))):
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(QUERY_SYNTAX)
    return page(request, "help.html", {"body": body})


# --- records and pages ------------------------------------------------------------------------


@router.get("/records/{number}", response_class=HTMLResponse)
def record_page(request: Request, number: str, user: User = Depends(need("view")), q: str = ""):
    try:
        view = request.app.state.services.record(user, number)
    except NotFound as e:
        raise HTTPException(404, str(e))
    names = {"folder": "卷标签 Folder label", "box": "盒标签 Box label", "cover": "封面 Cover sheet"}
    kinds = request.app.state.services.label_kinds()
    if not ((view.get("paper") or {}).get("box")):
        kinds = tuple(k for k in kinds if k != "box")  # not in a box yet: no box label to print
    return page(request, "record.html", {"r": view, "q": q, "label_kinds": [(k, names[k]) for k in kinds]})


@router.get("/pages/{page_id}", response_class=HTMLResponse)
def page_viewer(request: Request, page_id: int, user: User = Depends(need("view")), q: str = ""):
    try:
        data = request.app.state.services.page(user, page_id, q)
    except LookupError as e:
        raise HTTPException(404, str(e))
    except QuerySyntaxError as e:
        raise HTTPException(400, f"cannot read the query: {e}")
    return page(request, "page.html", {"p": data})


@router.get("/pages/{page_id}/image")
def page_image(
    request: Request, page_id: int, user: User = Depends(need("view")), size: Literal["full", "thumb"] = "full"
):
    """The derived image of a page, found by page id through the database (never a path)."""
    from dangan.web.images import THUMB_WIDTH, render

    services = request.app.state.services
    try:
        relpath, redact = services.page_image_source(user, page_id)
        path = _store_path(request, relpath)
    except LookupError as e:
        raise HTTPException(404, str(e))
    data = render(path, width=THUMB_WIDTH if size == "thumb" else None, redact=redact)
    headers = {"Cache-Control": "private, max-age=3600"}
    if data is None:
        return FileResponse(path, media_type="image/jpeg", headers=headers)
    return Response(data, media_type="image/jpeg", headers=headers)


def _store_path(request: Request, relpath: str) -> Path:
    from dangan.archive.store import FileStore

    try:
        path = FileStore(request.app.state.home.store_dir).path(relpath)
    except StoreError as e:
        raise HTTPException(404, str(e))
    if not path.is_file():
        raise HTTPException(404, "the page image is missing from the file store")
    return path


# --- operators ----------------------------------------------------------------------------------


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, user: User = Depends(need("ingest"))):
    return page(request, "upload.html", {"jobs": request.app.state.jobs.all(), "error": ""})


@router.post("/upload", dependencies=[Depends(csrf_ok)])
async def upload(request: Request, user: User = Depends(need("ingest")), files: list[UploadFile] = File(...)):
    job = await save_upload(request, user, files)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def save_upload(request: Request, user: User, files: list[UploadFile]):
    """Check every name first (nothing is saved if one is unsafe), then save and start the scan."""
    from dangan.web.jobs import UnsafeFileName, safe_upload_name

    try:
        names = [safe_upload_name(f.filename or "") for f in files]
    except UnsafeFileName as e:
        raise HTTPException(400, str(e))
    if len(set(names)) != len(names):
        raise HTTPException(400, "two uploaded files have the same name")
    jobs = request.app.state.jobs
    job = jobs.new(user.name)
    folder = jobs.upload_dir(job.id)
    try:
        for f, name in zip(files, names):
            written = 0
            with open(folder / name, "xb") as out:
                while chunk := await f.read(1 << 20):
                    written += len(chunk)
                    if written > MAX_UPLOAD_BYTES:
                        raise HTTPException(413, f"{name} is larger than {MAX_UPLOAD_BYTES >> 20} MB")
                    out.write(chunk)
            job.files.append(name)
    except BaseException:
        jobs.discard(job)
        raise
    jobs.start(job)
    return job


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, user: User = Depends(need("ingest"))):
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "no such upload batch (batches are kept until the server restarts)")
    return page(request, "job.html", {"job": job.public()})


@router.get("/quarantine", response_class=HTMLResponse)
def quarantine_page(request: Request, user: User = Depends(need("quarantine"))):
    return page(request, "quarantine.html", {"rows": request.app.state.services.quarantine()})


# --- auditors ----------------------------------------------------------------------------------


@router.get("/audit/events", response_class=HTMLResponse)
def events_page(
    request: Request,
    user: User = Depends(need("events")),
    type: str = "",
    actor: str = "",
    object: str = "",
    page_no: int = Query(1, alias="page", ge=1, le=1_000_000),
    verify: bool = False,
):
    services = request.app.state.services
    data = services.events(page=page_no, type_=type, actor=actor, object_id=object)
    check = services.verify() if verify else None
    return page(
        request,
        "events.html",
        {"data": data, "check": check, "filters": {"type": type, "actor": actor, "object": object}},
    )


@router.get("/audit/events.csv")
def events_csv(request: Request, user: User = Depends(need("events"))):
    return StreamingResponse(
        request.app.state.services.events_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="dangan-events.csv"'},
    )


# --- the QA queue (operators) -------------------------------------------------------------------

MAX_RESCAN_BYTES = 256 << 20
MAX_NOTE = 2000


def _qa_page(request: Request, user: User, *, error: str = "", status_code: int = 200, done: dict | None = None):
    items = request.app.state.services.qa_queue(user)
    return page(request, "qa.html", {"items": items, "error": error, "done": done or {}}, status_code=status_code)


@router.get("/qa", response_class=HTMLResponse)
def qa_page(
    request: Request,
    user: User = Depends(need("qa")),
    accepted: int | None = None,
    rescanned: int | None = None,
    new: int | None = None,
):
    done = {"accepted": accepted, "rescanned": rescanned, "new": new}
    return _qa_page(request, user, done={k: v for k, v in done.items() if v is not None})


def qa_error(e: Exception) -> HTTPException:
    """The HTTP answer to a refused QA action: 404 no page, 409 not (or no longer) in the queue,
    400 for the operator's input (no note, an unreadable scan)."""
    from dangan.web.services import NotQueued

    if isinstance(e, LookupError):
        return HTTPException(404, str(e))
    if isinstance(e, NotQueued):
        return HTTPException(409, str(e))
    return HTTPException(400, str(e))


@router.post("/qa/{page_id}/accept", dependencies=[Depends(csrf_ok)])
def qa_accept(
    request: Request, page_id: int, user: User = Depends(need("qa")), note: str = Form("", max_length=MAX_NOTE)
):
    from dangan.archive.records.qa import QaError
    from dangan.web.services import NotQueued

    try:
        request.app.state.services.qa_accept(user, page_id, note)
    except (LookupError, NotQueued, QaError) as e:
        err = qa_error(e)
        return _qa_page(request, user, error=err.detail, status_code=err.status_code)
    return RedirectResponse(f"/qa?accepted={page_id}", status_code=303)


async def save_rescan(request: Request, upload: UploadFile) -> Path:
    """Save one uploaded page scan under the data home (name checked as for uploads); the caller
    removes the folder. 413 beyond MAX_RESCAN_BYTES, 400 for an unsafe name."""
    import secrets
    import shutil

    from dangan.web.jobs import UnsafeFileName, safe_upload_name

    try:
        name = safe_upload_name(upload.filename or "")
    except UnsafeFileName as e:
        raise HTTPException(400, str(e))
    folder = request.app.state.home.root / "uploads" / f"qa-{secrets.token_hex(8)}"
    folder.mkdir(parents=True)
    target = folder / name
    try:
        written = 0
        with open(target, "xb") as out:
            while chunk := await upload.read(1 << 20):
                written += len(chunk)
                if written > MAX_RESCAN_BYTES:
                    raise HTTPException(413, f"{name} is larger than {MAX_RESCAN_BYTES >> 20} MB")
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


async def rescan_upload(request: Request, user: User, page_id: int, upload: UploadFile, page_no: int) -> dict:
    """Save the new scan, replace the queued page with it (in a worker thread: OCR takes seconds),
    sync the index; the uploaded copy is removed (its bytes are in the file store now)."""
    import shutil

    from starlette.concurrency import run_in_threadpool

    from dangan.archive.records.qa import QaError
    from dangan.scanning.sources import RejectedFile
    from dangan.web.services import NotQueued

    path = await save_rescan(request, upload)
    try:
        return await run_in_threadpool(request.app.state.services.qa_rescan, user, page_id, path, page_no)
    except (LookupError, NotQueued, QaError, RejectedFile) as e:
        raise qa_error(e)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@router.post("/qa/{page_id}/rescan", dependencies=[Depends(csrf_ok)])
async def qa_rescan(
    request: Request,
    page_id: int,
    user: User = Depends(need("qa")),
    file: UploadFile = File(...),
    page_no: int = Form(1, ge=1, le=10_000),
):
    try:
        done = await rescan_upload(request, user, page_id, file, page_no)
    except HTTPException as e:
        if e.status_code == 413:
            raise
        return _qa_page(request, user, error=e.detail, status_code=e.status_code)
    return RedirectResponse(f"/qa?rescanned={done['page_id']}&new={done['new_page_id']}", status_code=303)


# --- auditor reports --------------------------------------------------------------------------------

REPORT_ROW_LIMIT = 200  # rows per section shown in the page; the downloads have them all


def as_of_date(value: str):
    import datetime as dt

    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, f"as_of: {value!r} is not a date YYYY-MM-DD. 日期格式应为 YYYY-MM-DD。")


def _report_kind(kind: str) -> str:
    from dangan.web.services import REPORT_KINDS

    if kind not in REPORT_KINDS:
        raise HTTPException(404, f"no report {kind!r}; reports: {', '.join(REPORT_KINDS)}")
    return kind


def _report_view(report) -> dict:
    from dangan.archive.audit.report_html import CHARTS

    charts = [
        (name.replace("_", " "), CHARTS[name](series))
        for name, series in report.charts.items()
        if name in CHARTS and series
    ]
    return {"r": report, "charts": charts}


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: User = Depends(need("reports")), as_of: str = ""):
    from dangan.web.services import REPORT_KINDS

    day = as_of_date(as_of)
    services = request.app.state.services
    views = [_report_view(services.report(user, kind, as_of=day)) for kind in REPORT_KINDS]
    return page(request, "reports.html", {"reports": views, "as_of": as_of, "limit": REPORT_ROW_LIMIT})


def _download_name(kind: str, suffix: str) -> str:
    import datetime as dt

    return f"dangan-{kind}-report-{dt.date.today().isoformat()}.{suffix}"


def disposition(kind: str, name: str) -> str:
    """Content-Disposition with an ASCII fallback name and the real (UTF-8) one."""
    from urllib.parse import quote as q

    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{q(name)}"


@router.get("/reports/all.html")
def reports_all_html(request: Request, user: User = Depends(need("reports")), as_of: str = "", download: bool = False):
    from dangan.web.services import REPORT_KINDS

    day = as_of_date(as_of)
    reports = [request.app.state.services.report(user, k, as_of=day) for k in REPORT_KINDS]
    return _report_html(reports, "dangan audit reports 稽查报告", "all", download)


@router.get("/reports/{kind}.csv")
def report_csv(request: Request, kind: str, user: User = Depends(need("reports")), as_of: str = ""):
    report = request.app.state.services.report(user, _report_kind(kind), as_of=as_of_date(as_of))
    return Response(
        "\ufeff" + report.to_csv(),
        media_type="text/csv; charset=utf-8",  # BOM: spreadsheets
        headers={"Content-Disposition": disposition("attachment", _download_name(kind, "csv"))},
    )


@router.get("/reports/{kind}.html")
def report_html(
    request: Request, kind: str, user: User = Depends(need("reports")), as_of: str = "", download: bool = False
):
    report = request.app.state.services.report(user, _report_kind(kind), as_of=as_of_date(as_of))
    return _report_html([report], report.title, kind, download)


def _report_html(reports: list, title: str, kind: str, download: bool) -> Response:
    """dangan.archive.audit.report_html's self-contained page (inline CSS, inline SVG, no script): shown in
    the browser to print, or downloaded. Its own CSP allows the inline style and nothing else."""
    from dangan.archive.audit.report_html import render_html

    how = "attachment" if download else "inline"
    return HTMLResponse(
        render_html(reports, title=title),
        headers={
            "Content-Disposition": disposition(how, _download_name(kind, "html")),
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        },
    )


# --- labels (operators) -------------------------------------------------------------------------------


@router.get("/records/{number}/labels/{kind}.pdf")
def record_labels(
    request: Request, number: str, kind: Literal["folder", "box", "cover"], user: User = Depends(need("labels"))
):
    try:
        data, name = request.app.state.services.labels_pdf(user, number, kind)
    except (NotFound, LookupError) as e:
        raise HTTPException(404, str(e))
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": disposition("attachment", name)}
    )
