"""Log-in, sessions, known devices, throttling, and the pages a session has looked at.

Sessions are server-side rows keyed by the SHA-256 of a random token (the cookie holds the
token; a stolen database does not give working cookies), so disabling a user or changing a
password ends their sessions at once.

Throttling that a stranger cannot turn against a user:
- per address: at most ADDRESS_FAILURES failed log-ins in THROTTLE_WINDOW from one client
  address, whatever the names tried (one password tried across many names is caught);
- per account: after ACCOUNT_FREE_FAILURES failures, each further try waits twice as long as
  the one before, capped at BACKOFF_CAP (never a long lockout);
- a browser the user has logged in from before (a *known device*, remembered by a cookie whose
  token only the user's successful log-in created) is judged by its own failures only: a
  stranger failing on a name from elsewhere does not slow the user down on their own browser;
- an admin clears an account's failures at once (`dangan user unlock`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from dangan.archive.models import Base, utcnow
from dangan.archive.users import User, UserSession, existing_user, get_user, hash_password, hasher
from dangan.errors import DanganError
from dangan.i18n import _, ngettext

SESSION_LIFETIME = timedelta(hours=10)
DEVICE_LIFETIME = timedelta(days=180)
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_FREE_FAILURES = 5
BACKOFF_START = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=5)
ADDRESS_FAILURES = 30


@cache
def _dummy_hash() -> str:
    """Verified for unknown names, so they take as long as known ones. Made on first use: an
    argon2 hash costs most of a second, which every command would otherwise pay at import."""
    return hash_password("not a real password: equalises timing for unknown names")


class LoginThrottled(DanganError):
    http_status = 429

    def __init__(self, retry_after: int, *, address: bool = False):
        self.retry_after = retry_after
        self.address = address
        wait = (
            ngettext("{n} second", "{n} seconds", retry_after)
            if retry_after < 120
            else ngettext("{n} minute", "{n} minutes", -(-retry_after // 60))
        ).format(n=retry_after if retry_after < 120 else -(-retry_after // 60))
        why = (
            _("Too many failed log-ins from this address.") if address else _("Too many failed log-ins for this user.")
        )
        super().__init__(_("{why} Try again in {wait}.").format(why=why, wait=wait))


class BadCredentials(DanganError):
    http_status = 401

    def __init__(self):
        super().__init__(_("Wrong user name or password."))


class LoginFailure(Base):
    """One failed log-in: the name tried, from where, and from which known device (if any)."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    device: Mapped[str] = mapped_column(String(64), default="")  # SHA-256 of a known device's token
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KnownDevice(Base):
    """A browser USER logged in from; the cookie holds the token, only its SHA-256 is stored."""

    __tablename__ = "known_device"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PageRead(Base):
    """A page (image or thumbnail) a session has been shown: one access event per page and session."""

    __tablename__ = "page_read"
    token_sha256: Mapped[str] = mapped_column(
        ForeignKey("user_session.token_sha256", ondelete="CASCADE"), primary_key=True
    )
    page_id: Mapped[int] = mapped_column(Integer, primary_key=True)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite returns naive UTC


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- throttling -------------------------------------------------------------------------------


def _backoff(failures: list[datetime], now: datetime) -> int:
    """Seconds to wait after FAILURES (oldest first) on one account or device."""
    extra = len(failures) - ACCOUNT_FREE_FAILURES
    if extra < 0:
        return 0
    delay = min(BACKOFF_CAP, BACKOFF_START * (2 ** min(extra, 20)))
    return max(0, int((_aware(failures[-1]) + delay - now).total_seconds() + 0.999))


def throttle_wait(
    session: Session, name: str, client: str, device: str = "", now: datetime | None = None
) -> tuple[int, bool]:
    """(seconds until NAME may try again from CLIENT, whether the address is what waits).
    DEVICE: the known device's digest, '' for an unknown browser. 0 seconds: may try now."""
    now = _aware(now or utcnow())
    since = now - THROTTLE_WINDOW
    from_address = session.scalars(
        select(LoginFailure.at).where(LoginFailure.client == client, LoginFailure.at > since).order_by(LoginFailure.at)
    ).all()
    if len(from_address) >= ADDRESS_FAILURES:
        return max(1, int((_aware(from_address[-ADDRESS_FAILURES]) + THROTTLE_WINDOW - now).total_seconds())), True
    # a known device counts its own failures; every other browser shares the account's
    scope = LoginFailure.device == device if device else LoginFailure.device == ""
    on_account = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.name == name, scope, LoginFailure.at > since)
        .order_by(LoginFailure.at)
    ).all()
    return _backoff(list(on_account), now), False


def check_throttle(session: Session, name: str, client: str, device: str = "") -> None:
    wait, address = throttle_wait(session, name, client, device)
    if wait:
        raise LoginThrottled(wait, address=address)


def unlock(session: Session, name: str) -> int:
    """Forget NAME's failed log-ins (an admin's lockout reset); returns how many there were."""
    existing_user(session, name)
    return session.execute(delete(LoginFailure).where(LoginFailure.name == name)).rowcount or 0


def lock_state(session: Session, name: str, now: datetime | None = None) -> tuple[int, int]:
    """(recent failed log-ins on NAME from unknown browsers, seconds such a browser must wait)."""
    now = _aware(now or utcnow())
    rows = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.name == name, LoginFailure.device == "", LoginFailure.at > now - THROTTLE_WINDOW)
        .order_by(LoginFailure.at)
    ).all()
    return len(rows), _backoff(list(rows), now)


def forget_old_failures(session: Session, now: datetime | None = None) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at <= (now or utcnow()) - THROTTLE_WINDOW))


# --- log-in ---------------------------------------------------------------------------------


def known_device(session: Session, user: User | None, token: str | None) -> str:
    """The digest of TOKEN if it names a device USER logged in from before, else ''."""
    if user is None or not token or len(token) > 200:
        return ""
    row = session.get(KnownDevice, (digest(token), user.id))
    if row is None or _aware(row.last_used_at) < utcnow() - DEVICE_LIFETIME:
        return ""
    return row.token_sha256


@dataclass(frozen=True)
class Attempt:
    """What a log-in attempt came to: the user (None: refused), why not, and the device."""

    user: User | None
    reason: str  # '' | unknown user | wrong password | disabled
    device: str  # digest of the known device used, or ''


def authenticate(session: Session, name: str, password: str, client: str, device_token: str | None = None) -> Attempt:
    """Check NAME's PASSWORD (a failure is recorded in the caller's transaction: commit it).
    Raises LoginThrottled before checking anything when the address or account must wait."""
    name = (name or "").strip()[:64]
    client = client[:64]
    user = get_user(session, name)
    device = known_device(session, user, device_token)
    check_throttle(session, name, client, device)
    ok = False
    try:
        ok = hasher.verify(user.password_hash if user else _dummy_hash(), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    reason = "unknown user" if user is None else "wrong password" if not ok else "disabled" if user.disabled else ""
    if reason:
        session.add(LoginFailure(name=name, client=client, device=device))
        session.flush()
        return Attempt(None, reason, device)
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    scope = LoginFailure.device == device if device else LoginFailure.device == ""
    session.execute(delete(LoginFailure).where(LoginFailure.name == name, scope))
    user.last_login_at = utcnow()
    return Attempt(user, "", device)


def remember_device(session: Session, user: User, token: str | None) -> str:
    """The device token to keep in the browser: TOKEN (when it is a well-formed one) now also
    known for USER, or a new one."""
    if not token or len(token) > 200:
        token = secrets.token_urlsafe(32)
    row = session.get(KnownDevice, (digest(token), user.id))
    if row is None:
        session.add(KnownDevice(token_sha256=digest(token), user_id=user.id))
    else:
        row.last_used_at = utcnow()
    return token


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie, never stored
    csrf_token: str


def start_session(session: Session, user: User, client: str = "") -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_sha256=digest(token),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=utcnow() + SESSION_LIFETIME,
            client=client[:64],
        )
    )
    session.flush()
    return NewSession(token, csrf)


def session_user(session: Session, token: str | None) -> tuple[User, UserSession] | None:
    """The user and session for a cookie token, if the session is live and the user enabled."""
    if not token or len(token) > 200:
        return None
    row = session.get(UserSession, digest(token))
    if row is None or _aware(row.expires_at) <= utcnow() or row.user.disabled:
        return None  # expired sessions are removed at the next log-in (end_expired_sessions)
    return row.user, row


def end_expired_sessions(session: Session) -> None:
    session.execute(delete(UserSession).where(UserSession.expires_at <= utcnow()))


def end_session(session: Session, token: str | None) -> User | None:
    """End the session of TOKEN; the user it belonged to (None: there was none)."""
    found = session_user(session, token)
    if found is None:
        return None
    session.execute(delete(PageRead).where(PageRead.token_sha256 == found[1].token_sha256))
    session.delete(found[1])
    return found[0]


def has_read(session: Session, session_digest: str, page_id: int) -> bool:
    return session.get(PageRead, (session_digest, page_id)) is not None


def first_read(session: Session, session_digest: str, page_id: int) -> bool:
    """True the first time this session is shown PAGE_ID (the caller then logs the access)."""
    if session.get(PageRead, (session_digest, page_id)) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(PageRead(token_sha256=session_digest, page_id=page_id))
    except IntegrityError:  # another request of the same session was quicker
        return False
    return True


def active_sessions(session: Session) -> dict[int, int]:
    """user id -> live sessions."""
    rows = session.execute(
        select(UserSession.user_id, func.count()).where(UserSession.expires_at > utcnow()).group_by(UserSession.user_id)
    ).all()
    return dict(rows)
