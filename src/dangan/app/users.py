"""People who log in to the web app: added, disabled and given new passwords by an admin
(every change an event), and log-in with throttling."""

from __future__ import annotations

from typing import Any

from dangan.app.archive import Archive
from dangan.archive import users as u
from dangan.archive.users import ROLES, BadCredentials, LoginThrottled, NewSession, User

__all__ = [
    "ROLES",
    "BadCredentials",
    "LoginThrottled",
    "NewSession",
    "User",
    "add_user",
    "disable_user",
    "has_users",
    "log_in",
    "log_out",
    "session_user",
    "set_password",
]


def _public(user: u.User) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "can_see_ids": user.can_see_ids, "disabled": user.disabled}


def add_user(archive: Archive, name: str, password: str, role: str, *, can_see_ids: bool = False) -> dict[str, Any]:
    with archive.session() as s:
        return _public(u.add_user(s, name, password, role, can_see_ids=can_see_ids, actor=archive.actor))


def disable_user(archive: Archive, name: str) -> dict[str, Any]:
    """The user can no longer log in; their sessions end at once. User and history stay."""
    with archive.session() as s:
        return _public(u.disable_user(s, name, actor=archive.actor))


def set_password(archive: Archive, name: str, password: str) -> dict[str, Any]:
    """A new password; the user's open sessions end."""
    with archive.session() as s:
        return _public(u.set_password(s, name, password, actor=archive.actor))


def has_users(archive: Archive) -> bool:
    with archive.session() as s:
        return u.user_count(s) > 0


def log_in(archive: Archive, name: str, password: str, client: str) -> NewSession | None:
    """A new session for NAME, or None for a wrong name or password (the failure is recorded for
    throttling). Raises LoginThrottled after too many failures."""
    with archive.session() as s:
        user = u.authenticate(s, name, password, client)
        return u.start_session(s, user, client) if user else None


def log_out(archive: Archive, token: str | None) -> None:
    with archive.session() as s:
        u.end_session(s, token)


def session_user(archive: Archive, token: str | None) -> tuple[User, str] | None:
    """The logged-in user and the session's CSRF token, for a live session's cookie."""
    with archive.session() as s:
        found = u.session_user(s, token)
        return (found[0], found[1].csrf_token) if found else None
