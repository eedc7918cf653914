"""`dangan user add|list|disable|enable|role|reset-password|unlock`, run through click as an
admin would on the archive's machine; every change is an event."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dangan.archive import login
from dangan.archive.models import Event
from dangan.cli import main

pytestmark = pytest.mark.database
PASSWORD = "a long admin passphrase"


@pytest.fixture
def run(home):
    runner = CliRunner()

    def invoke(*args, code=0, stdin=None):
        result = runner.invoke(
            main,
            ["--home", str(home.root), "--db", home.db_url, "--as", "wangfang", *map(str, args)],
            input=stdin,
            catch_exceptions=False,
        )
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_an_admin_manages_users_from_the_command_line(db, run):
    run("user", "add", "wangfang", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    out = run("user", "add", "lijing", "--role", "staff", "--temporary")
    temporary = out.split("temporary password for lijing: ", 1)[1].split()[0]
    with db.session() as s:
        assert login.authenticate(s, "lijing", temporary, "127.0.0.1").user.must_change_password
    users = {u["name"]: u for u in json.loads(run("user", "list", "--json"))}
    assert users["lijing"]["role"] == "staff" and users["lijing"]["sees_ids"] is False
    assert users["wangfang"]["sees_ids"] is True and users["lijing"]["last_login_at"]

    assert json.loads(run("user", "role", "lijing", "staff", "--can-see-ids", "--json"))["sees_ids"] is True
    assert "auditor" in run("user", "role", "lijing", "auditor")
    run("user", "disable", "lijing")
    with db.session() as s:
        assert login.authenticate(s, "lijing", temporary, "127.0.0.1").reason == "disabled"
    run("user", "enable", "lijing")
    out = run("user", "reset-password", "lijing")
    new = out.split("temporary password for lijing: ", 1)[1].split()[0]
    assert new != temporary
    with db.session() as s:
        for _ in range(login.ACCOUNT_FREE_FAILURES):
            login.authenticate(s, "lijing", "wrong guess", "203.0.113.9")
    listed = {u["name"]: u for u in json.loads(run("user", "list", "--json"))}
    assert listed["lijing"]["failed_logins"] == login.ACCOUNT_FREE_FAILURES and listed["lijing"]["locked_seconds"] > 0
    assert f"{login.ACCOUNT_FREE_FAILURES} failed log-ins forgotten" in run("user", "unlock", "lijing")
    with db.session() as s:
        assert login.authenticate(s, "lijing", new, "10.0.0.1").user is not None
        whats = [e.detail["what"] for e in s.scalars(select(Event).where(Event.object_id == "lijing"))]
    assert whats == ["added", "role changed", "role changed", "disabled", "enabled", "password reset", "unlocked"]


def test_the_last_admin_cannot_be_disabled_or_demoted_and_bad_input_is_refused(run):
    run("user", "add", "wangfang", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert "last admin" in run("user", "disable", "wangfang", code=1)
    assert "last admin" in run("user", "role", "wangfang", "staff", code=1)
    assert "already exists" in run("user", "add", "wangfang", "--role", "staff", "--temporary", code=1)
    assert "no user named" in run("user", "unlock", "nobody", code=1)
    assert "at least 10 characters" in run(
        "user", "add", "x1", "--role", "staff", "--password-stdin", code=1, stdin="short\n"
    )
