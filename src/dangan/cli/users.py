"""People who log in to the web app: `dangan user add|list|disable|enable|role|reset-password|unlock`."""

from __future__ import annotations

import sys

import click
from rich.markup import escape
from rich.table import Table

from dangan.app import users
from dangan.cli.base import console, json_option, output, pass_ctx, say
from dangan.i18n import _, format_date

ROLE_HELP = (
    "operator: scans, ingests, works the QA queue, prints labels (sees ID numbers); "
    "staff: searches and reads, personal numbers masked unless --can-see-ids; "
    "auditor: reads everything, event log and replaced pages included, changes nothing; "
    "admin: everything, including managing users."
)


def read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(_("Password"), hide_input=True, confirmation_prompt=confirm)


def _show_password(u: dict) -> None:
    if u.get("password"):
        say(_("temporary password for {name}: {password}").format(name=u["name"], password=u["password"]))
        say(_("(shown only now: hand it over; {name} chooses their own at the next log-in)").format(name=u["name"]))


@click.group()
def user() -> None:
    """People who log in to the web app, their roles, passwords and lockouts."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(users.ROLES), required=True, help=ROLE_HELP)
@click.option("--can-see-ids", is_flag=True, help="Let a staff member see personal numbers (公民身份号码) unmasked.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts).")
@click.option(
    "--temporary",
    is_flag=True,
    help="Make up a temporary password, print it once; the user chooses their own at the first log-in.",
)
@json_option
@pass_ctx
def user_add(ctx, name, role, can_see_ids, password_stdin, temporary, as_json) -> None:
    """Create a user (asks for the password, unless --password-stdin or --temporary)."""
    password = None if temporary else read_password(password_stdin)
    added = users.add_user(ctx.archive, name, password, role, can_see_ids=can_see_ids)
    shown = {k: added[k] for k in ("name", "role", "can_see_ids", "password")}

    def human(u: dict) -> None:
        grant = _(", sees ID numbers") if u["can_see_ids"] else ""
        added = _("added")
        console.print(f"[green]{added}[/] {escape(u['name'])} ({u['role']}{escape(grant)})")
        _show_password(u)

    output(shown, as_json, human)


@user.command("list")
@json_option
@pass_ctx
def user_list(ctx, as_json) -> None:
    """Every user: role, whether they see ID numbers, enabled or not, last log-in, live sessions,
    failed log-ins in the last 15 minutes (and how long an unknown browser must wait)."""

    def human(rows: list[dict]) -> None:
        table = Table()
        for col in (_("user"), _("role"), _("IDs"), _("state"), _("last log-in"), _("sessions"), _("failed")):
            table.add_column(col)
        for u in rows:
            state = _("disabled") if u["disabled"] else _("enabled")
            if u["must_change_password"]:
                state += " · " + _("temporary password")
            wait = _(" (wait {seconds} s)").format(seconds=u["locked_seconds"]) if u["locked_seconds"] else ""
            failed = str(u["failed_logins"]) + wait
            table.add_row(
                u["name"],
                u["role"],
                _("visible") if u["sees_ids"] else _("masked"),
                state,
                format_date(u["last_login_at"], table=True) or "—",
                str(u["sessions"]),
                failed,
            )
        console.print(table)

    output(users.list_users(ctx.archive), as_json, human)


@user.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(ctx, name) -> None:
    """Stop a user logging in; ends their sessions at once. The user and their history stay."""
    users.disable_user(ctx.archive, name)
    disabled = _("disabled")
    console.print(f"[yellow]{disabled}[/] {escape(name)}")


@user.command("enable")
@click.argument("name")
@pass_ctx
def user_enable(ctx, name) -> None:
    """Let a disabled user log in again."""
    users.enable_user(ctx.archive, name)
    enabled = _("enabled")
    console.print(f"[green]{enabled}[/] {escape(name)}")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(users.ROLES))
@click.option(
    "--can-see-ids/--no-can-see-ids",
    default=None,
    help="Grant or withdraw seeing personal numbers unmasked (unchanged if not given).",
)
@json_option
@pass_ctx
def user_role(ctx, name, role, can_see_ids, as_json) -> None:
    """Give NAME another ROLE (operator, staff, auditor, admin); it applies from their next click."""
    changed = users.set_role(ctx.archive, name, role, can_see_ids=can_see_ids)
    output(
        changed,
        as_json,
        lambda u: console.print(
            f"{u['name']}: {u['role']}"
            + (", " + _("sees ID numbers") if u["sees_ids"] else ", " + _("ID numbers masked"))
        ),
    )


@user.command("reset-password")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Read the new password from stdin instead of making up a temporary one."
)
@pass_ctx
def user_reset_password(ctx, name, password_stdin) -> None:
    """Give NAME a new password: a temporary one printed once (or one from stdin). Their sessions
    end, their failed log-ins are forgotten, and they choose their own at the next log-in."""
    done = users.reset_password(ctx.archive, name, read_password(True) if password_stdin else None)
    console.print(_("password reset for {name}").format(name=name))
    _show_password(done)


@user.command("unlock")
@click.argument("name")
@pass_ctx
def user_unlock(ctx, name) -> None:
    """Forget NAME's failed log-ins: they may log in at once, from any browser."""
    done = users.unlock(ctx.archive, name)
    console.print(_("{name} unlocked ({n} failed log-ins forgotten)").format(name=name, n=done["failures_forgotten"]))


COMMANDS = (user,)
