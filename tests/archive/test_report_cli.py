"""The auditor commands through click, as an auditor runs them."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dangan.app.reports import REPORT_KINDS
from dangan.archive.models import Event
from dangan.cli import main
from tests.archive.audit import build_faulty, damage_store

pytestmark = pytest.mark.database


@pytest.fixture
def run(home):
    runner = CliRunner()

    def invoke(*args, code=0, at=None):
        result = runner.invoke(
            main,
            [
                "--home",
                str(at or home.root),
                "--db",
                at and f"sqlite:///{Path(at) / 'dangan.sqlite3'}" or home.db_url,
                "--as",
                "auditor",
                *map(str, args),
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_reports_verify_check_four_export_and_import(db, store, run, tmp_path):
    with db.session() as s:
        n = build_faulty(s, store)
    data = json.loads(run("report", "completeness", "--json", code=4))
    assert data["problems"] == 3 and data["about"]["actor"] == "auditor"
    run("report", "completeness", "--dept", "客服")
    out = run(
        "report",
        "reconciliation",
        "--as-of",
        "2024-06-03",
        "--csv",
        tmp_path / "r.csv",
        "--html",
        tmp_path / "r.html",
        code=4,
    )
    assert "F-PAPER-ONLY" in out and (tmp_path / "r.html").read_text().count("<svg") == 0
    assert "F-PAPER-ONLY" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
    run("report", "overdue", "--as-of", "2024-06-03", code=4)
    run("report", "numbering")
    run("report", "all", "--as-of", "2024-06-03", "--html", tmp_path / "all.html", code=4)
    assert (tmp_path / "all.html").read_text().count("<svg") == 2
    with db.session() as s:  # every report at once fits the event's object id, on PostgreSQL too
        ev = s.scalars(select(Event).filter_by(type="export", object_type="report").order_by(Event.id.desc())).first()
        assert (ev.object_id, ev.detail["kinds"]) == ("all", list(REPORT_KINDS))
    run("verify", "--full")
    run("export", "-o", tmp_path / "bag")
    out = run("import-bag", tmp_path / "bag", at=tmp_path / "new")
    assert "9 records" in out
    run("verify", "--full", at=tmp_path / "new")
    assert "not empty" in run("import-bag", tmp_path / "bag", at=tmp_path / "new", code=1)
    with db.session() as s:
        damage_store(s, store, n)
    out = run("verify", code=4)
    assert "missing" in out and "unexpected" in out and "event #5" in out
    out = run("check-four", code=4)
    assert "FAIL  真实性 authenticity" in out and "FAIL  安全性 security" in out
