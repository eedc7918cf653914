"""The web app factory: sessions, CSRF, roles, security headers, templates, error pages.

    create_app(home)  ->  FastAPI app with the HTML pages (web.pages) and the JSON API (web.api)

Who is logged in comes from a server-side session (archive.users) named by an HttpOnly,
SameSite=Strict (and, unless turned off for plain-http trials, Secure) cookie. Every POST
carries the session's CSRF token (form field `csrf` or header `X-CSRF-Token`); the log-in
form, before there is a session, uses a signed double-submit token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from dangan.archive.home import DataHome
from dangan.archive.users import User, session_user

HERE = Path(__file__).resolve().parent
ROLE_LABELS = {
    "operator": "档案管理员 Operator",
    "staff": "业务人员 Staff",
    "auditor": "稽查 Auditor",
    "admin": "管理员 Admin",
}


def may(user: User | None, action: str) -> bool:
    """May USER do ACTION? archive.users.PERMISSIONS decides."""
    return user is not None and not user.disabled and user.can(action)


class LoginRequired(Exception):
    pass


class Settings:
    def __init__(self, secret_key: bytes, secure_cookies: bool):
        self.secret_key = secret_key
        self.secure_cookies = secure_cookies
        # __Host- cookies must be Secure, path=/ and host-only: the browser enforces it
        self.session_cookie = "__Host-dangan_session" if secure_cookies else "dangan_session"
        self.login_cookie = "__Host-dangan_login" if secure_cookies else "dangan_login"

    def cookie_args(self, max_age: int | None = None) -> dict[str, Any]:
        return {"httponly": True, "samesite": "strict", "secure": self.secure_cookies, "path": "/", "max_age": max_age}

    # signed double-submit token for the log-in form (no session yet)
    def login_token(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(nonce)}"

    def login_token_ok(self, form_token: str | None, cookie_token: str | None) -> bool:
        if not form_token or not cookie_token or not hmac.compare_digest(form_token, cookie_token):
            return False
        nonce, _, sig = form_token.partition(".")
        return bool(nonce) and hmac.compare_digest(sig, self._sign(nonce))

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret_key, nonce.encode(), hashlib.sha256).hexdigest()


def create_app(
    home: DataHome,
    *,
    secret_key: str | bytes | None = None,
    secure_cookies: bool = True,
    backend: str = "whoosh",
    scan_jobs: int = 2,
) -> FastAPI:
    from dangan.web.jobs import Jobs
    from dangan.web.services import Services

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
    app.state.home = home
    app.state.settings = Settings(key, secure_cookies)
    app.state.services = Services(home, backend)
    app.state.jobs = Jobs(home, backend, app.state.services.db, jobs_per_scan=scan_jobs)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["role_labels"] = ROLE_LABELS
    templates.env.globals["may"] = may
    from dangan.archive.audit.reports import _cell

    templates.env.filters["cell"] = _cell  # a report cell as text, as in the CSV and the HTML report
    templates.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def who_and_headers(request: Request, call_next: Callable):
        request.state.user, request.state.csrf = None, None
        if not request.url.path.startswith("/static/"):
            token = request.cookies.get(app.state.settings.session_cookie)
            if token:
                with app.state.services.db.session() as s:
                    found = session_user(s, token)
                    if found:
                        request.state.user, request.state.csrf = found[0], found[1].csrf_token
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

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if wants_json(request):
            return JSONResponse({"detail": "log in first: POST /login"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if wants_json(request) or exc.status_code == 405:
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
            )
        return page(
            request, "error.html", {"status": exc.status_code, "detail": exc.detail}, status_code=exc.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        if wants_json(request):
            return JSONResponse({"detail": detail}, status_code=422)
        return page(request, "error.html", {"status": 422, "detail": detail}, status_code=422)

    from dangan.web import api, pages

    app.include_router(pages.router)
    app.include_router(api.router, prefix="/api", tags=["api"])
    return app


def page(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200):
    """Render a template with what every page needs: the user and the CSRF token."""
    ctx = {"user": request.state.user, "csrf": request.state.csrf, **(context or {})}
    return request.app.state.templates.TemplateResponse(request, name, ctx, status_code=status_code)


# --- dependencies --------------------------------------------------------------------------


def need(action: str):
    """Dependency: the logged-in user, allowed to do `action` (else 401/redirect or 403)."""

    def dependency(request: Request) -> User:
        user = request.state.user
        if user is None:
            raise LoginRequired()
        if not may(user, action):
            raise HTTPException(
                403, f"Your role ({user.role}) may not do this ({action.replace('_', ' ')}). 您的角色无此权限。"
            )
        return user

    return dependency


async def csrf_ok(request: Request) -> None:
    """Dependency for every state-changing request: the session's CSRF token must come back."""
    sent = request.headers.get("x-csrf-token")
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
    expected = request.state.csrf
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            403,
            "The form's security token (CSRF) is missing or out of date: "
            "reload the page and try again. 安全令牌无效，请刷新页面后重试。",
        )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
