"""User management for admins: the list of users, adding one, disabling and enabling, another
role or grant, a password reset (a temporary password shown once) and a lockout reset. Each
action is one dangan.app.users call, and an event."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dangan.app import users
from dangan.app.users import ROLES
from dangan.errors import DanganError
from dangan.i18n import _
from dangan.web.deps import CanManageUsers, archive_for, csrf_ok, page

router = APIRouter(include_in_schema=False, prefix="/admin")
Action = Literal["disable", "enable", "unlock", "reset-password", "role"]


def _list(request: Request, user, *, error: str = "", done: str = "", password: str = "", status_code: int = 200):
    rows = users.list_users(archive_for(request, user))
    context = {"rows": rows, "roles": ROLES, "error": error, "done": done, "password": password}
    return page(request, "users.html", context, status_code=status_code)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: CanManageUsers, done: str = ""):
    return _list(request, user, done=done)


@router.post("/users", dependencies=[Depends(csrf_ok)])
def add_user(
    request: Request,
    user: CanManageUsers,
    name: str = Form(..., max_length=64),
    role: str = Form(...),
    can_see_ids: bool = Form(False),
):
    """A new user with a temporary password, shown once; they choose their own at the first log-in."""
    archive = archive_for(request, user)
    try:
        added = users.add_user(archive, name.strip(), None, role, can_see_ids=can_see_ids)
    except DanganError as e:
        return _list(request, user, error=str(e), status_code=e.http_status)
    done = _("{name} added as {role}: hand over the temporary password below").format(name=added["name"], role=role)
    return _list(request, user, done=done, password=added["password"])


@router.post("/users/{name}/{action}", dependencies=[Depends(csrf_ok)])
def user_action(
    request: Request,
    name: str,
    action: Action,
    user: CanManageUsers,
    role: str = Form(""),
    can_see_ids: bool = Form(False),
):
    archive = archive_for(request, user)
    try:
        if action in ("disable", "role") and name == user.name and (action == "disable" or role != "admin"):
            raise DanganError(_("you cannot lock yourself out: ask another admin"))
        if action == "disable":
            users.disable_user(archive, name)
        elif action == "enable":
            users.enable_user(archive, name)
        elif action == "unlock":
            users.unlock(archive, name)
        elif action == "role":
            users.set_role(archive, name, role, can_see_ids=can_see_ids)
        else:
            reset = users.reset_password(archive, name)
            done = _("new temporary password for {name}: they choose their own at the next log-in").format(name=name)
            return _list(request, user, done=done, password=reset["password"])
    except DanganError as e:
        return _list(request, user, error=str(e), status_code=e.http_status)
    return RedirectResponse(f"/admin/users?done={action}", status_code=303)
