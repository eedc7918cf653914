"""The HTML pages: parse the request, call web.services (library calls), render a template."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse

from archive.store import StoreError
from archive.users import BadCredentials, LoginThrottled, User, authenticate, end_session, start_session
from archive.views import NotFound
from indexing.query import QuerySyntaxError
from web.app import client_address, csrf_ok, need, page
from web.forms import FormError, SearchForm, choices

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
    response = page(request, "login.html", {"login_csrf": token, "next": _safe_next(next_), "error": error,
                                            "name": name}, status_code=status_code)
    response.set_cookie(settings.login_cookie, token, **settings.cookie_args(3600))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/search"):
    return _login_form(request, next)


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""), csrf: str = Form(""),
          next: str = Form("/search")):
    settings = request.app.state.settings
    if not settings.login_token_ok(csrf, request.cookies.get(settings.login_cookie)):
        raise HTTPException(403, "The log-in form's security token (CSRF) is missing or out of date: "
                                 "reload the page and try again. 安全令牌无效，请刷新页面后重试。")
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
    response.delete_cookie(settings.login_cookie, path="/", secure=settings.secure_cookies, httponly=True,
                           samesite="strict")
    return response


@router.post("/logout", dependencies=[Depends(csrf_ok)])
def logout(request: Request):
    settings = request.app.state.settings
    with request.app.state.services.db.session() as s:
        end_session(s, request.cookies.get(settings.session_cookie))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.session_cookie, path="/", secure=settings.secure_cookies, httponly=True,
                           samesite="strict")
    return response


@router.get("/")
def home(request: Request):
    return RedirectResponse("/search" if request.state.user else "/login", status_code=303)


# --- search ------------------------------------------------------------------------------

@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, user: User = Depends(need("search")), q: str = "", account: str = "",
                business: str = "", doctype: str = "", date_from: str = "", date_to: str = "",
                page_no: int = Query(1, alias="page", ge=1, le=10_000)):
    form = SearchForm(q, account, business, doctype, date_from, date_to)
    ctx = {"form": form, "choices": choices(), "results": None, "error": "", "query": ""}
    try:
        ctx["query"] = form.query()
        if ctx["query"]:
            ctx["results"] = request.app.state.services.search(user, ctx["query"], page=page_no,
                                                               per_page=PER_PAGE)
    except (FormError, QuerySyntaxError) as e:
        ctx["error"] = f"Cannot read the query: {e}. 查询无法识别。"
    return page(request, "search.html", ctx, status_code=400 if ctx["error"] else 200)


@router.get("/help/search", response_class=HTMLResponse)
def search_help(request: Request, user: User = Depends(need("search"))):
    from markdown_it import MarkdownIt

    source = (Path(__file__).resolve().parent.parent / "indexing" / "QUERY_SYNTAX.md").read_text(encoding="utf-8")
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(source)
    return page(request, "help.html", {"body": body})


# --- records and pages ------------------------------------------------------------------------

@router.get("/records/{number}", response_class=HTMLResponse)
def record_page(request: Request, number: str, user: User = Depends(need("view")), q: str = ""):
    try:
        view = request.app.state.services.record(user, number)
    except NotFound as e:
        raise HTTPException(404, str(e))
    return page(request, "record.html", {"r": view, "q": q})


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
def page_image(request: Request, page_id: int, user: User = Depends(need("view")),
               size: Literal["full", "thumb"] = "full"):
    """The derived image of a page, found by page id through the database (never a path)."""
    from web.images import THUMB_WIDTH, render

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
    from archive.store import FileStore

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
async def upload(request: Request, user: User = Depends(need("ingest")),
                 files: list[UploadFile] = File(...)):
    job = await save_upload(request, user, files)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


async def save_upload(request: Request, user: User, files: list[UploadFile]):
    """Check every name first (nothing is saved if one is unsafe), then save and start the scan."""
    from web.jobs import UnsafeFileName, safe_upload_name

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
def events_page(request: Request, user: User = Depends(need("events")), type: str = "", actor: str = "",
                object: str = "", page_no: int = Query(1, alias="page", ge=1, le=1_000_000),
                verify: bool = False):
    services = request.app.state.services
    data = services.events(page=page_no, type_=type, actor=actor, object_id=object)
    check = services.verify() if verify else None
    return page(request, "events.html", {"data": data, "check": check,
                                         "filters": {"type": type, "actor": actor, "object": object}})


@router.get("/audit/events.csv")
def events_csv(request: Request, user: User = Depends(need("events"))):
    return StreamingResponse(request.app.state.services.events_csv(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="dangan-events.csv"'})
