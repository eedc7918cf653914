"""The web app factory: sessions, CSRF, roles, security headers, templates, error pages.

    create_app(home)  ->  FastAPI app with the HTML pages (web.pages) and the JSON API (web.api)

Who is logged in comes from a server-side session (archive.users) named by an HttpOnly,
SameSite=Strict (and, unless turned off for plain-http trials, Secure) cookie. Every POST
carries the session's CSRF token (form field `csrf` or header `X-CSRF-Token`); the log-in
form, before there is a session, uses a signed double-submit token. Errors a person can act
on (dangan.errors.DanganError) are answered in one handler, with their HTTP status.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from dangan.app.archive import Archive, DataHome
from dangan.app.reports import cell_text
from dangan.app.users import session_user
from dangan.errors import DanganError
from dangan.web.api import router as api_router
from dangan.web.deps import ROLE_LABELS, LoginRequired, Settings, may, page
from dangan.web.pages import router as pages_router
from dangan.web.uploads import Jobs

HERE = Path(__file__).resolve().parent


def create_app(
    home: DataHome,
    *,
    secret_key: str | bytes | None = None,
    secure_cookies: bool = True,
    backend: str = "whoosh",
    scan_jobs: int = 2,
) -> FastAPI:
    key = secret_key.encode() if isinstance(secret_key, str) else (secret_key or secrets.token_bytes(32))
    app = FastAPI(
        title="dangan 档案",
        version="1",
        description="Customer archive of an electricity supply company: search, records, "
        "pages with hit boxes, uploads, the audit log. Log in at /login first; "
        "POST requests need the X-CSRF-Token header (GET /api/me gives it).",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    archive = Archive(home, actor="web", backend=backend)
    app.state.archive = archive
    app.state.settings = Settings(key, secure_cookies)
    app.state.jobs = Jobs(archive, jobs_per_scan=scan_jobs)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["role_labels"] = ROLE_LABELS
    templates.env.globals["may"] = may
    templates.env.filters["cell"] = cell_text  # a report cell as text, as in the CSV and the HTML report
    templates.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def who_and_headers(request: Request, call_next: Callable):
        request.state.user, request.state.csrf = None, None
        if not request.url.path.startswith("/static/"):
            token = request.cookies.get(app.state.settings.session_cookie)
            found = session_user(archive, token) if token else None
            if found:
                request.state.user, request.state.csrf = found
        response: Response = await call_next(request)
        docs = request.url.path == "/api/docs"
        if "content-security-policy" not in response.headers:  # a route may set a stricter one
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                "form-action 'self'; frame-ancestors 'none'"
                + (
                    "; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
                    "style-src 'self' https://cdn.jsdelivr.net"
                    if docs
                    else ""
                )
            )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.state.user is not None and "cache-control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error(request: Request, status: int, detail: str, headers: dict | None = None) -> Response:
        if wants_json(request) or status == 405:
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        return page(request, "error.html", {"status": status, "detail": detail}, status_code=status)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if wants_json(request):
            return JSONResponse({"detail": "log in first: POST /login"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(DanganError)
    async def dangan_error(request: Request, exc: DanganError):
        return error(request, exc.http_status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error(request, exc.status_code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return error(request, 422, detail)

    app.include_router(pages_router)
    app.include_router(api_router, prefix="/api", tags=["api"])
    return app
