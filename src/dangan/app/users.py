"""People who log in to the web app: added, listed, disabled and enabled, given another role,
a new password or their failed log-ins forgotten by an admin (every change an event); log-in
and log-out, each on the record with failed attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dangan.app.archive import Archive
from dangan.archive import events, login
from dangan.archive import users as u
from dangan.archive.login import DEVICE_LIFETIME, BadCredentials, LoginThrottled
from dangan.archive.users import ROLES, User, UserError
from dangan.errors import DanganError
from dangan.i18n import LANGUAGES, _, normalise

__all__ = [
    "DEVICE_LIFETIME",
    "ROLES",
    "BadCredentials",
    "LoggedIn",
    "LoginThrottled",
    "User",
    "UserError",
    "add_user",
    "change_own_password",
    "disable_user",
    "enable_user",
    "has_users",
    "list_users",
    "log_in",
    "log_out",
    "reset_password",
    "session_user",
    "set_role",
    "show_user",
    "unlock",
]


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _public(user: u.User, sessions: int | None = None, failures: tuple[int, int] | None = None) -> dict[str, Any]:
    out = {
        "name": user.name,
        "role": user.role,
        "can_see_ids": user.can_see_ids,
        "sees_ids": user.sees_ids,
        "disabled": user.disabled,
        "must_change_password": user.must_change_password,
        "created_at": _iso(user.created_at),
        "last_login_at": _iso(user.last_login_at),
        "language": user.language or "",
    }
    if sessions is not None:
        out["sessions"] = sessions
    if failures is not None:
        out["failed_logins"], out["locked_seconds"] = failures
    return out


def add_user(
    archive: Archive, name: str, password: str | None, role: str, *, can_see_ids: bool = False
) -> dict[str, Any]:
    """A new user. Without PASSWORD they get a temporary one (in `password`, shown once) and
    choose their own at the first log-in."""
    chosen = password or u.temporary_password()
    with archive.session() as s:
        user = u.add_user(
            s, name, chosen, role, can_see_ids=can_see_ids, actor=archive.actor, must_change=password is None
        )
        return _public(user) | {"password": None if password else chosen}


def list_users(archive: Archive) -> list[dict[str, Any]]:
    """Every user with role, grant, state, last log-in, live sessions and recent failed log-ins."""
    with archive.session() as s:
        live = login.active_sessions(s)
        return [_public(x, live.get(x.id, 0), login.lock_state(s, x.name)) for x in u.all_users(s)]


def show_user(archive: Archive, name: str) -> dict[str, Any]:
    with archive.session() as s:
        user = u.existing_user(s, name)
        return _public(user, login.active_sessions(s).get(user.id, 0), login.lock_state(s, name))


def disable_user(archive: Archive, name: str) -> dict[str, Any]:
    """The user can no longer log in; their sessions end at once. User and history stay."""
    with archive.session() as s:
        return _public(u.disable_user(s, name, actor=archive.actor))


def enable_user(archive: Archive, name: str) -> dict[str, Any]:
    with archive.session() as s:
        return _public(u.enable_user(s, name, actor=archive.actor))


def set_role(archive: Archive, name: str, role: str, *, can_see_ids: bool | None = None) -> dict[str, Any]:
    with archive.session() as s:
        return _public(u.set_role(s, name, role, can_see_ids=can_see_ids, actor=archive.actor))


def reset_password(archive: Archive, name: str, password: str | None = None) -> dict[str, Any]:
    """An admin's new password for NAME (a random one when PASSWORD is None, shown once in
    `password`); the user must replace it at the next log-in, their sessions end, and their
    failed log-ins are forgotten."""
    chosen = password or u.temporary_password()
    with archive.session() as s:
        user = u.set_password(s, name, chosen, actor=archive.actor, must_change=True)
        login.unlock(s, name)
        return _public(user) | {"password": None if password else chosen}


def change_own_password(archive: Archive, name: str, current: str, new: str) -> dict[str, Any]:
    """A user replaces their own password (the current one must be right); all their sessions end."""
    with archive.session() as s:
        user = u.existing_user(s, name)
        try:
            ok: bool = u.hasher.verify(user.password_hash, current or "")
        except Exception:  # noqa: BLE001 - argon2 raises several kinds for "does not match"
            ok = False
        if not ok:
            raise u.UserError(_("the current password is wrong"))
        if new == current:
            raise u.UserError(_("choose a password different from the current one"))
        return _public(u.set_password(s, name, new, actor=name, must_change=False))


def set_language(archive: Archive, name: str, language: str) -> dict[str, Any]:
    """NAME's language for the web app: zh_CN, en, or "" to follow the browser."""
    chosen = normalise(language) or ""
    if language and not chosen:
        raise u.UserError(
            _("unknown language {language!r}: choose one of {choices}").format(
                language=language, choices=", ".join(LANGUAGES)
            )
        )
    with archive.session() as s:
        user = u.existing_user(s, name)
        user.language = chosen
        return _public(user)


def unlock(archive: Archive, name: str) -> dict[str, Any]:
    """Forget NAME's failed log-ins: they may log in at once from anywhere."""
    with archive.session() as s:
        forgotten = login.unlock(s, name)
        events.record_event(
            s, u.USER_ADMINISTRATION, archive.actor, "user", name, {"what": "unlocked", "failures": forgotten}
        )
        return _public(u.existing_user(s, name)) | {"failures_forgotten": forgotten}


def has_users(archive: Archive) -> bool:
    with archive.session() as s:
        return u.user_count(s) > 0


# --- log-in and log-out --------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedIn:
    name: str
    token: str  # the session cookie
    csrf_token: str
    device_token: str  # the known-device cookie
    must_change_password: bool


def log_in(archive: Archive, name: str, password: str, client: str, device_token: str | None = None) -> LoggedIn:
    """A new session for NAME. Every attempt is an event (log-in, or log-in failed with the
    reason). Raises BadCredentials or LoginThrottled after the failure is stored."""
    refused: DanganError | None = None
    with archive.session() as s:
        login.forget_old_failures(s)
        login.end_expired_sessions(s)
        try:
            attempt = login.authenticate(s, name, password, client, device_token)
        except login.LoginThrottled as e:
            attempt, refused = None, e
        shown_name = (name or "").strip()[:64]
        if attempt is None or attempt.user is None:
            reason = "throttled" if attempt is None else attempt.reason
            events.record_event(
                s,
                events.LOG_IN_FAILED,
                shown_name or "-",
                "user",
                shown_name or "-",
                {"reason": reason, "client": client},
            )
            refused = refused or login.BadCredentials()
        else:
            user = attempt.user
            new = login.start_session(s, user, client)
            device = login.remember_device(s, user, device_token)
            events.record_event(
                s,
                events.LOG_IN,
                user.name,
                "user",
                user.name,
                {"client": client, "known_device": bool(attempt.device)},
            )
            done = LoggedIn(user.name, new.token, new.csrf_token, device, user.must_change_password)
    if refused is not None:
        raise refused
    return done


def log_out(archive: Archive, token: str | None, client: str = "") -> str | None:
    """End the session of TOKEN (an event); the user's name, None when there was no session."""
    with archive.session() as s:
        user = login.end_session(s, token)
        if user is None:
            return None
        events.record_event(s, events.LOG_OUT, user.name, "user", user.name, {"client": client})
        return user.name


def session_user(archive: Archive, token: str | None) -> tuple[u.User, str, str] | None:
    """(user, CSRF token, session digest) for a session cookie, None when it is not live."""
    with archive.reading() as s:
        found = login.session_user(s, token)
        if found is None:
            return None
        user, row = found
        s.expunge(user)
        return user, row.csrf_token, row.token_sha256
