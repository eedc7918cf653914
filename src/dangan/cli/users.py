"""People who log in to the web app."""

from __future__ import annotations

import sys

import click

from dangan.app import users
from dangan.cli.base import console, json_option, output, pass_ctx


def read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@click.group()
def user() -> None:
    """People who log in to the web app, and their roles."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(users.ROLES),
    required=True,
    help="operator: scans and ingests; staff: searches and reads (ID numbers masked); "
    "auditor: reads everything, changes nothing; admin: everything.",
)
@click.option("--can-see-ids", is_flag=True, help="Let a staff member see 公民身份号码 unmasked.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@json_option
@pass_ctx
def user_add(ctx, name, role, can_see_ids, password_stdin, as_json) -> None:
    """Create a user (asks for the password unless --password-stdin)."""
    added = users.add_user(ctx.archive, name, read_password(password_stdin), role, can_see_ids=can_see_ids)
    shown = {k: added[k] for k in ("name", "role", "can_see_ids")}
    output(
        shown,
        as_json,
        lambda u: console.print(
            f"[green]added[/] {u['name']} ({u['role']}{', sees ID numbers' if u['can_see_ids'] else ''})"
        ),
    )


@user.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(ctx, name) -> None:
    """Stop a user logging in; ends their sessions at once. The user and their history stay."""
    users.disable_user(ctx.archive, name)
    console.print(f"[yellow]disabled[/] {name}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@pass_ctx
def user_passwd(ctx, name, password_stdin) -> None:
    """Set a new password; the user's open sessions end."""
    users.set_password(ctx.archive, name, read_password(password_stdin))
    console.print(f"password changed for {name}")


COMMANDS = (user,)
