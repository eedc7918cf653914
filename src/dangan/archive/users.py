"""People who use the archive and what each role may do; managed by admins (every change an
event). Log-in, sessions and throttling are in archive.login.

Domain only: no HTTP here. The web app and the CLI's `dangan user …` reach these through
dangan.app.users.

Roles (from the domain brief):
  operator  archive-room operator: scans batches (ingests), works the QA queue, prints labels
  staff     business staff: searches and reads; personal numbers masked unless granted
  auditor   reads everything (event log and replaced pages included) and changes nothing
  admin     everything, including managing users

Passwords are stored as argon2id hashes.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from dangan.archive import events
from dangan.archive.models import Base, utcnow
from dangan.errors import Conflict, DanganError, NotFound
from dangan.i18n import _

ROLES = ("operator", "staff", "auditor", "admin")

# What each role may do. Reading records and searching is open to every role.
# see_ids: personal numbers unmasked (staff only with the per-user grant);
# history: pages replaced by a rescan, in the record's history.
PERMISSIONS: dict[str, frozenset[str]] = {
    # operators handle the paper itself (ID copies included) so they see personal numbers too
    "operator": frozenset({"search", "view", "ingest", "quarantine", "qa", "labels", "see_ids"}),
    "staff": frozenset({"search", "view"}),
    "auditor": frozenset({"search", "view", "quarantine", "events", "see_ids", "reports", "history"}),
    "admin": frozenset(
        {
            "search",
            "view",
            "ingest",
            "quarantine",
            "events",
            "see_ids",
            "manage_users",
            "qa",
            "labels",
            "reports",
            "history",
        }
    ),
}

MIN_PASSWORD_LENGTH = 10
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._\-\u4e00-\u9fff]{2,64}$")

USER_ADMINISTRATION = "user administration"  # event type

hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class UserError(DanganError, ValueError):
    """Something a person asked for that cannot be done, with the reason."""


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
    # an admin set the password: the user chooses their own at the next log-in
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # zh_CN or en for the web app; "" follows the browser (Accept-Language), then Chinese
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")

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


# --- users ----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(_("the password must have at least {n} characters").format(n=MIN_PASSWORD_LENGTH))


def temporary_password() -> str:
    """A password an admin hands over once; the user replaces it at the next log-in."""
    return secrets.token_urlsafe(12)


def get_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).filter_by(name=name))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(_('unknown role "{role}": use one of {roles}').format(role=role, roles=", ".join(ROLES)))


def add_user(
    session: Session,
    name: str,
    password: str,
    role: str,
    *,
    can_see_ids: bool = False,
    actor: str = "admin",
    must_change: bool = False,
) -> User:
    _check_role(role)
    if not NAME_PATTERN.match(name or ""):
        raise UserError(_("a user name has 2-64 letters, digits, '.', '_' or '-'"))
    if get_user(session, name) is not None:
        raise Conflict(_('a user named "{name}" already exists').format(name=name))
    check_password_rules(password)
    user = User(
        name=name,
        role=role,
        password_hash=hash_password(password),
        can_see_ids=can_see_ids,
        must_change_password=must_change,
    )
    session.add(user)
    session.flush()
    events.record_event(
        session, USER_ADMINISTRATION, actor, "user", name, {"what": "added", "role": role, "can_see_ids": can_see_ids}
    )
    return user


def existing_user(session: Session, name: str) -> User:
    user = get_user(session, name)
    if user is None:
        raise NotFound(_('no user named "{name}"').format(name=name))
    return user


def set_password(session: Session, name: str, password: str, *, actor: str = "admin", must_change: bool = True) -> User:
    """A new password set by an admin (the user must choose their own at the next log-in,
    unless MUST_CHANGE is off) or by the user. Their open sessions end either way."""
    user = existing_user(session, name)
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    end_all_sessions(session, user)
    what = "password reset" if must_change else "password changed"
    events.record_event(session, USER_ADMINISTRATION, actor, "user", name, {"what": what})
    return user


def _enabled_admins(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role == "admin", User.disabled.is_(False))) or 0


def _keep_an_admin(session: Session, user: User, *, losing: bool) -> None:
    if losing and user.role == "admin" and not user.disabled and _enabled_admins(session) <= 1:
        raise Conflict(_("{name} is the last admin who can log in: make another admin first").format(name=user.name))


def disable_user(session: Session, name: str, *, actor: str = "admin") -> User:
    user = existing_user(session, name)
    _keep_an_admin(session, user, losing=True)
    user.disabled = True
    end_all_sessions(session, user)
    events.record_event(session, USER_ADMINISTRATION, actor, "user", name, {"what": "disabled"})
    return user


def enable_user(session: Session, name: str, *, actor: str = "admin") -> User:
    user = existing_user(session, name)
    user.disabled = False
    events.record_event(session, USER_ADMINISTRATION, actor, "user", name, {"what": "enabled"})
    return user


def set_role(session: Session, name: str, role: str, *, can_see_ids: bool | None = None, actor: str = "admin") -> User:
    """A new role (and, when given, the grant to see personal numbers). It applies from the
    user's next request: permissions are read per request."""
    _check_role(role)
    user = existing_user(session, name)
    _keep_an_admin(session, user, losing=role != "admin")
    detail = {"what": "role changed", "from": user.role, "role": role}
    user.role = role
    if can_see_ids is not None:
        detail["can_see_ids"] = user.can_see_ids = can_see_ids
    events.record_event(session, USER_ADMINISTRATION, actor, "user", name, detail)
    return user


def end_all_sessions(session: Session, user: User) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def user_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))
