"""People who use the archive, what each role may do, log-in sessions and throttling.

Domain only: no HTTP here. The web app (and the CLI's `dangan user …`) call these.

Roles (from the domain brief):
  operator  archive-room operator: scans batches (ingests), sees quarantine, reads records
  staff     business staff: searches and reads; 公民身份号码 masked unless granted
  auditor   reads everything (event log included) and changes nothing
  admin     everything, including managing users

Passwords are stored as argon2id hashes. Sessions are server-side rows keyed by the
SHA-256 of a random token (the cookie holds the token; a stolen database does not give
working cookies), so disabling a user or changing a password ends their sessions at once.
Log-in is throttled per user name and client address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from dangan.archive import events
from dangan.archive.identifiers import mask_ric
from dangan.archive.models import Base, utcnow
from dangan.errors import DanganError

ROLES = ("operator", "staff", "auditor", "admin")

# What each role may do. Reading records and searching is open to every role.
PERMISSIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"search", "view", "ingest", "quarantine", "qa", "labels"}),
    "staff": frozenset({"search", "view"}),
    "auditor": frozenset({"search", "view", "quarantine", "events", "see_ids", "reports"}),
    "admin": frozenset(
        {"search", "view", "ingest", "quarantine", "events", "see_ids", "manage_users", "qa", "labels", "reports"}
    ),
}
# operators handle the paper itself (ID copies included) so they see IDs too
PERMISSIONS["operator"] = PERMISSIONS["operator"] | {"see_ids"}

SESSION_LIFETIME = timedelta(hours=10)
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_FAILURES = 5
MIN_PASSWORD_LENGTH = 10
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._\-\u4e00-\u9fff]{2,64}$")

USER_ADMINISTRATION = "user administration"  # event type

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified for unknown names, so they take as long as known ones. Made on first use: an
    argon2 hash costs most of a second, which every command would otherwise pay at import."""
    return _hasher.hash("not a real password: equalises timing for unknown names")


class UserError(DanganError, ValueError):
    """Something a person asked for that cannot be done, with the reason."""


class LoginThrottled(DanganError):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"Too many failed log-ins for this user from this address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}. "
            f"登录失败次数过多，请 {minutes} 分钟后再试。"
        )


class BadCredentials(DanganError):
    def __init__(self):
        super().__init__("Wrong user name or password. 用户名或密码错误。")


class User(Base):
    """A person who logs in to the web app."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    can_see_ids: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def can(self, action: str) -> bool:
        if self.disabled:
            return False
        allowed = PERMISSIONS.get(self.role, frozenset())
        if action == "see_ids" and self.can_see_ids:
            return True
        return action in allowed

    @property
    def sees_ids(self) -> bool:
        return self.can("see_ids")


class UserSession(Base):
    """A logged-in browser. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "user_session"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    client: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """One failed log-in, for throttling (per user name and client address)."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- users ----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def get_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).filter_by(name=name))


def add_user(
    session: Session, name: str, password: str, role: str, *, can_see_ids: bool = False, actor: str = "admin"
) -> User:
    if role not in ROLES:
        raise UserError(f'unknown role "{role}": use one of {", ".join(ROLES)}')
    if not NAME_PATTERN.match(name or ""):
        raise UserError("a user name has 2-64 letters, digits, '.', '_' or '-'")
    if get_user(session, name) is not None:
        raise UserError(f'a user named "{name}" already exists')
    check_password_rules(password)
    user = User(name=name, role=role, password_hash=hash_password(password), can_see_ids=can_see_ids)
    session.add(user)
    session.flush()
    events.record_event(
        session, USER_ADMINISTRATION, actor, "user", name, {"what": "added", "role": role, "can_see_ids": can_see_ids}
    )
    return user


def _existing(session: Session, name: str) -> User:
    user = get_user(session, name)
    if user is None:
        raise UserError(f'no user named "{name}"')
    return user


def set_password(session: Session, name: str, password: str, *, actor: str = "admin") -> User:
    user = _existing(session, name)
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    end_all_sessions(session, user)
    events.record_event(session, USER_ADMINISTRATION, actor, "user", name, {"what": "password changed"})
    return user


def disable_user(session: Session, name: str, *, actor: str = "admin") -> User:
    user = _existing(session, name)
    user.disabled = True
    end_all_sessions(session, user)
    events.record_event(session, USER_ADMINISTRATION, actor, "user", name, {"what": "disabled"})
    return user


# --- log-in, throttling, sessions --------------------------------------------------------------


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)  # SQLite returns naive UTC


def throttle_wait(session: Session, name: str, client: str, now: datetime | None = None) -> int:
    """Seconds until `name` may try again from `client` (0: may try now)."""
    now = now or utcnow()
    since = now - THROTTLE_WINDOW
    rows = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.name == name, LoginFailure.client == client, LoginFailure.at > since)
        .order_by(LoginFailure.at)
    ).all()
    if len(rows) < THROTTLE_FAILURES:
        return 0
    oldest_counted = _aware(rows[-THROTTLE_FAILURES])
    return max(1, int((oldest_counted + THROTTLE_WINDOW - now).total_seconds()))


def authenticate(session: Session, name: str, password: str, client: str) -> User | None:
    """The user, or None for a wrong name or password (the failure is recorded in the
    caller's transaction: commit it). Raises LoginThrottled after too many failures."""
    name = (name or "").strip()[:64]
    wait = throttle_wait(session, name, client)
    if wait:
        raise LoginThrottled(wait)
    user = get_user(session, name)
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user else _dummy_hash(), password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or user.disabled:
        session.add(LoginFailure(name=name, client=client[:64]))
        session.flush()
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.execute(delete(LoginFailure).where(LoginFailure.name == name, LoginFailure.client == client[:64]))
    return user


@dataclass(frozen=True)
class NewSession:
    token: str  # goes into the cookie, never stored
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, client: str = "") -> NewSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_sha256=_digest(token),
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
    row = session.get(UserSession, _digest(token))
    if row is None:
        return None
    if _aware(row.expires_at) <= utcnow() or row.user.disabled:
        session.delete(row)
        return None
    return row.user, row


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(UserSession).where(UserSession.token_sha256 == _digest(token)))


def end_all_sessions(session: Session, user: User) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def user_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


# --- what a role may see ----------------------------------------------------------------------

# 公民身份号码: 17 digits and a check character, possibly with spaces inside as OCR reads them.
_RIC = re.compile(r"(?<![0-9A-Za-z])(?:\d[ \u3000]?){17}[0-9Xx](?![0-9A-Za-z])")


def mask_ids(text: str) -> str:
    """Text with every 公民身份号码 shown as 3201**********1234. A compact 18-character
    number keeps its length, so offsets into the text (snippets, spans) stay valid."""
    if not text:
        return text
    return _RIC.sub(lambda m: _mask_keep_length(m.group(0)), text)


def _mask_keep_length(raw: str) -> str:
    masked = iter(mask_ric(raw))
    return "".join(ch if ch in " \u3000" else next(masked, "*") for ch in raw)


def id_numbers_in(text: str) -> list[str]:
    """The 公民身份号码 written in a text (as written), e.g. to black them out on an image."""
    return [m.group(0) for m in _RIC.finditer(text or "")]


def visible_fields(user: User, fields: dict) -> dict:
    """Page fields as `user` may see them: ID numbers masked unless the user sees IDs."""
    if user.sees_ids or not fields:
        return fields
    return {k: _mask_field(v, whole=(k == "id_number")) for k, v in fields.items()}


def _mask_field(value, whole: bool = False):
    """`whole`: the value is an ID number (maybe misread): mask every string in it."""
    if isinstance(value, str):
        return mask_ric(value) if whole and len(value) > 8 else mask_ids(value)
    if isinstance(value, dict):
        return {k: _mask_field(v, whole) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_field(v, whole) for v in value]
    return value


def visible_text(user: User, text: str) -> str:
    return text if user.sees_ids else mask_ids(text)
