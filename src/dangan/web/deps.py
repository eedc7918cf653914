"""What every route needs: the settings, who is logged in and what they may do, the CSRF
check, the archive acting as the user, rendering a page. Routes import from here; the app
factory wires it up."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from dangan.app import Archive
from dangan.app.users import User
from dangan.i18n import N_, _

ROLE_LABELS = {
    "operator": N_("Archive operator"),
    "staff": N_("Business staff"),
    "auditor": N_("Auditor"),
    "admin": N_("Administrator"),
}


class LoginRequired(Exception):
    pass


class PasswordChangeRequired(Exception):
    """An admin set this user's password: they choose their own before anything else."""


class Settings:
    def __init__(self, secret_key: bytes, secure_cookies: bool):
        self.secret_key = secret_key
        self.secure_cookies = secure_cookies
        # __Host- cookies must be Secure, path=/ and host-only: the browser enforces it
        self.session_cookie = "__Host-dangan_session" if secure_cookies else "dangan_session"
        self.login_cookie = "__Host-dangan_login" if secure_cookies else "dangan_login"
        # a browser the user logged in from before (archive.login: throttling spares it)
        self.device_cookie = "__Host-dangan_device" if secure_cookies else "dangan_device"

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


def may(user: User | None, action: str) -> bool:
    """May USER do ACTION? dangan.archive.users.PERMISSIONS decides."""
    return user is not None and not user.disabled and user.can(action)


def need(action: str):
    """Dependency: the logged-in user, allowed to do ACTION (else 401/redirect or 403)."""

    def dependency(request: Request) -> User:
        user = request.state.user
        if user is None:
            raise LoginRequired()
        if user.must_change_password:
            raise PasswordChangeRequired()
        if not may(user, action):
            raise HTTPException(
                403,
                _("Your role ({role}) may not do this ({action}).").format(
                    role=_(ROLE_LABELS.get(user.role, user.role)), action=action.replace("_", " ")
                ),
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
            403, _("The form's security token (CSRF) is missing or out of date: reload the page and try again.")
        )


def client_address(request: Request) -> str:
    """The client's address: behind a trusted proxy (serve --trusted-proxy) the one the proxy
    saw, from X-Forwarded-For, set by uvicorn's ProxyHeadersMiddleware; else the peer's."""
    return request.client.host if request.client else "unknown"


def logged_in(request: Request) -> User:
    """Dependency: whoever is logged in, whatever their role (their own account pages)."""
    user = request.state.user
    if user is None:
        raise LoginRequired()
    return user


def archive_for(request: Request, user: User) -> Archive:
    """The archive with USER acting: every event the request causes names them."""
    return request.app.state.archive.acting_as(user.name)


def page(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200):
    """Render a template with what every page needs: the user and the CSRF token."""
    ctx = {"user": request.state.user, "csrf": request.state.csrf, **(context or {})}
    return request.app.state.templates.TemplateResponse(request, name, ctx, status_code=status_code)


def as_of_date(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, _("as_of: {value!r} is not a date YYYY-MM-DD.").format(value=value)) from None


def disposition(kind: str, name: str) -> str:
    """Content-Disposition with an ASCII fallback name and the real (UTF-8) one."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


# The logged-in user, allowed to do one thing (route parameters: `user: CanSearch`).
CanSearch = Annotated[User, Depends(need("search"))]
CanView = Annotated[User, Depends(need("view"))]
CanIngest = Annotated[User, Depends(need("ingest"))]
CanSeeQuarantine = Annotated[User, Depends(need("quarantine"))]
CanQa = Annotated[User, Depends(need("qa"))]
CanPrintLabels = Annotated[User, Depends(need("labels"))]
CanReport = Annotated[User, Depends(need("reports"))]
CanReadEvents = Annotated[User, Depends(need("events"))]
CanManageUsers = Annotated[User, Depends(need("manage_users"))]
LoggedIn = Annotated[User, Depends(logged_in)]
