"""The web app factory: sessions, CSRF, roles, security headers, templates, error pages.

    create_app(home)  ->  FastAPI app with the HTML pages (web.pages, web.admin), the JSON API
                          (web.api) and its documentation (web.docs, assets served from here)

Who is logged in comes from a server-side session (archive.login) named by an HttpOnly,
SameSite=Strict (and, unless turned off for plain-http trials, Secure) cookie. Every POST
carries the session's CSRF token (form field `csrf` or header `X-CSRF-Token`); the log-in
form, before there is a session, uses a signed double-submit token. Nothing a logged-in user
is shown may be kept by the browser (Cache-Control: no-store): pages, JSON and images may
hold personal data, and the next person at the same browser may not see it. Errors a person
can act on (dangan.errors.DanganError) are answered in one handler, with their HTTP status
and without server paths.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from dangan.app.archive import Archive, DataHome
from dangan.app.names import display_name
from dangan.app.reports import about_lines, cell_text, display_cell, status_line
from dangan.app.users import session_user
from dangan.errors import DanganError, without_paths
from dangan.i18n import (
    LANGUAGE_NAMES,
    _,
    count,
    current_language,
    format_date,
    negotiate,
    ngettext,
    reset_language,
    set_language,
)
from dangan.i18n import _ as gettext
from dangan.web.admin import router as admin_router
from dangan.web.api import router as api_router
from dangan.web.deps import ROLE_LABELS, LoginRequired, PasswordChangeRequired, Settings, may, page
from dangan.web.docs import DOCS_ASSETS, docs_csp
from dangan.web.docs import router as docs_router
from dangan.web.pages import router as pages_router
from dangan.web.uploads import Jobs

HERE = Path(__file__).resolve().parent
_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SessionAndHeaders:
    """Who is logged in (request.state.user, .csrf, .session, from the session cookie) and the
    headers every answer carries. A plain ASGI middleware: lighter than Starlette's
    BaseHTTPMiddleware, which passes every response body through an extra task."""

    def __init__(self, app, archive: Archive, settings: Settings):
        self.app, self.archive, self.settings = app, archive, settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        static = path.startswith("/static/")
        state = scope.setdefault("state", {})
        state.update(user=None, csrf=None, session=None)
        if not static:
            token = Request(scope).cookies.get(self.settings.session_cookie)
            if token:
                found = await anyio.to_thread.run_sync(session_user, self.archive, token)
                if found:
                    state["user"], state["csrf"], state["session"] = found

        user = state["user"]
        language = (user and user.language) or negotiate(Request(scope).headers.get("accept-language"))
        token = set_language(language)  # for this request's task and the threads it starts

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:  # a route may set a stricter one
                    headers["Content-Security-Policy"] = docs_csp(path) or _CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                if not static:
                    headers["Cache-Control"] = "no-store"
                    headers["Content-Language"] = current_language().replace("_", "-")
                    headers["Vary"] = "Accept-Language, Cookie"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            reset_language(token)


# Requests computed at once per worker process. Searches are CPU work under one GIL: a few
# threads at a time finish each request sooner and in turn, where forty would all crawl.
THREADS = int(os.environ.get("DANGAN_WEB_THREADS", "4"))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield


def create_app(
    home: DataHome,
    *,
    secret_key: str | bytes | None = None,
    secure_cookies: bool = True,
    backend: str | None = None,
    scan_jobs: int = 2,
    trusted_proxies: str | list[str] | None = None,
) -> FastAPI:
    """TRUSTED_PROXIES: addresses (or networks) of the TLS proxy in front; its X-Forwarded-For
    and X-Forwarded-Proto are believed, nobody else's. None: the peer is the client."""
    key = secret_key.encode() if isinstance(secret_key, str) else (secret_key or secrets.token_bytes(32))
    app = FastAPI(
        title="dangan 档案",
        version="1",
        description="Customer archive of an electricity supply company: search, records, "
        "pages with hit boxes, uploads, the audit log. Log in at /login first; "
        "POST requests need the X-CSRF-Token header (GET /api/me gives it).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    archive = Archive(home, actor="web", backend=backend)
    app.state.archive = archive
    app.state.settings = Settings(key, secure_cookies)
    app.state.jobs = Jobs(archive, jobs_per_scan=scan_jobs)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.add_extension("jinja2.ext.i18n")
    # messages looked up at render time in the request's language (set above, per request)
    templates.env.policies["ext.i18n.trimmed"] = True
    templates.env.install_gettext_callables(gettext, ngettext, newstyle=True)
    templates.env.globals.update(current_language=current_language, name=display_name, languages=LANGUAGE_NAMES)
    templates.env.filters["date"] = format_date
    templates.env.filters["count"] = count
    templates.env.globals["role_labels"] = ROLE_LABELS
    templates.env.globals["may"] = may
    templates.env.filters["cell"] = cell_text  # a report cell as text, as in the CSV and the HTML report
    templates.env.globals.update(about_lines=about_lines, display_cell=display_cell, status_line=status_line)
    templates.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    app.state.templates = templates
    app.mount("/static/docs", StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    app.add_middleware(SessionAndHeaders, archive=archive, settings=app.state.settings)

    if trusted_proxies:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # outermost: the session middleware and every route see the client the proxy saw
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error(request: Request, status: int, detail: str, headers: dict | None = None) -> Response:
        detail = without_paths(detail)
        if wants_json(request) or status == 405:
            return JSONResponse({"detail": detail}, status_code=status, headers=headers)
        return page(request, "error.html", {"status": status, "detail": detail}, status_code=status)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if wants_json(request):
            return JSONResponse({"detail": _("log in first: POST /login")}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, exc: PasswordChangeRequired):
        if wants_json(request):
            message = _("choose your own password first: your admin set the one you logged in with")
            return JSONResponse({"detail": message}, status_code=403)
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(DanganError)
    async def dangan_error(request: Request, exc: DanganError):
        headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else None
        return error(request, exc.http_status, str(exc), headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error(request, exc.status_code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        return error(request, 422, detail)

    app.include_router(pages_router)
    app.include_router(admin_router)
    app.include_router(docs_router)
    app.include_router(api_router, prefix="/api", tags=["api"])
    return app


def app_from_environment() -> FastAPI:
    """The app as `dangan serve` hands it to each uvicorn worker process: settled by the
    command from its options and passed on in the environment (DANGAN_HOME, DANGAN_DB,
    DANGAN_INDEX_BACKEND, DANGAN_SECRET_KEY, DANGAN_SECURE_COOKIES, DANGAN_TRUSTED_PROXIES,
    DANGAN_SCAN_JOBS)."""
    env = os.environ
    return create_app(
        DataHome.resolve(env["DANGAN_HOME"], env.get("DANGAN_DB") or None),
        secret_key=env["DANGAN_SECRET_KEY"],
        secure_cookies=bool(env.get("DANGAN_SECURE_COOKIES")),
        backend=env.get("DANGAN_INDEX_BACKEND") or None,
        scan_jobs=int(env.get("DANGAN_SCAN_JOBS") or 2),
        trusted_proxies=env.get("DANGAN_TRUSTED_PROXIES", "").split() or None,
    )
