"""The QA queue as an operator walks it: a flagged page is listed, rescanned or accepted."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dangan.archive.models import Event, Page
from dangan.cli import main
from tests.conftest import render_page

pytestmark = pytest.mark.database


@pytest.fixture
def flagged_archive(tmp_path):
    """A good folder, and a contract page scanned at 150 dpi (DA/T 31 requires 200 at least)."""
    lines = ["供用电合同", "户号：3401405288", "第一条 供电方式与用电容量", "供电人向用电人提供交流50赫兹电源"]
    scans = tmp_path / "scans"
    scans.mkdir()
    render_page(["用电申请书", "户号：3401405288", "申请人（签章）：王建国"]).save(scans / "a.png", dpi=(300, 300))
    render_page(lines, dpi=150).save(scans / "b.png", dpi=(150, 150))
    home = tmp_path / "home"
    runner = CliRunner()
    run = lambda *a: runner.invoke(main, ["--home", str(home), "--as", "operator1", *a], catch_exceptions=False)
    run("init")
    assert run("scan", "--jobs", "1", "--json", str(scans)).exit_code == 0
    return home, run, lines, tmp_path


def test_a_low_resolution_page_is_queued_with_what_to_do(flagged_archive):
    _home, run, _, _ = flagged_archive
    items = json.loads(run("qa", "list", "--json").stdout)
    assert len(items) == 1 and items[0]["seq"] == 1
    messages = " ".join(f["message"] for f in items[0]["flags"])
    assert "150" in messages and "rescan" in messages.lower()


def test_a_rescan_replaces_the_page_and_keeps_the_old_master(flagged_archive, db_url):
    home, run, lines, tmp = flagged_archive
    item = json.loads(run("qa", "list", "--json").stdout)[0]
    render_page(lines, dpi=300).save(tmp / "rescan.png", dpi=(300, 300))
    out = run("qa", "rescan", f"{item['record']}/1", str(tmp / "rescan.png"))
    assert out.exit_code == 0, out.output
    assert json.loads(run("qa", "list", "--json").stdout) == []
    view = json.loads(run("show", "--json", item["record"]).stdout)
    pages = [p for d in view["documents"] for p in d["pages"]]
    assert [p["seq"] for p in pages] == [1] and pages[0]["dpi"] == 300
    from dangan.archive.db import Database

    db = Database(f"sqlite:///{home / 'dangan.sqlite3'}")
    with db.session() as s:
        old = s.get(Page, item["page_id"])
        assert old.superseded_by_id == pages[0]["id"] and old.qa_status == "rescanned"
        assert (home / "store" / old.master_path).exists()  # never deleted
        assert s.scalar(select(Event).where(Event.type == "replacement")) is not None
    db.dispose()
    hits = json.loads(run("search", "--json", "--exact", '"供电方式与用电容量"').stdout)
    assert [h["page_id"] for g in hits["groups"] for h in g["hits"]] == [str(pages[0]["id"])]


def test_accepting_needs_a_reason_and_is_recorded(flagged_archive):
    home, run, _, _ = flagged_archive
    item = json.loads(run("qa", "list", "--json").stdout)[0]
    refused = CliRunner().invoke(main, ["--home", str(home), "qa", "accept", str(item["page_id"]), "--note", " "])
    assert refused.exit_code != 0 and "why" in refused.output
    assert run("qa", "accept", str(item["page_id"]), "--note", "original is a fax; no better copy").exit_code == 0
    assert json.loads(run("qa", "list", "--json").stdout) == []
    assert len(json.loads(run("qa", "list", "--status", "accepted", "--json").stdout)) == 1
