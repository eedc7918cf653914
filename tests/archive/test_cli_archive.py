"""The paper, handover and lifecycle commands, run through click as an operator would."""

import json

import pytest
from click.testing import CliRunner

from dangan.cli import main
from tests.archive.records import make_record

pytestmark = pytest.mark.database


@pytest.fixture
def run(home):
    runner = CliRunner()

    def invoke(*args, code=0):
        result = runner.invoke(
            main,
            ["--home", str(home.root), "--db", home.db_url, "--as", "keeper", *map(str, args)],
            catch_exceptions=False,
        )
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_shelve_label_stocktake_and_handover_from_the_command_line(db, run, tmp_path):
    with db.session() as s:
        n = [make_record(s, tag=f"r{i}", doc_types=["SQ", "SF", "JQ"], work_order=f"WO{i}").number for i in range(3)]
    run("location", "add", "K01", "--kind", "room", "--name", "一号库房")
    run("location", "add", "K01-C", "--kind", "zone", "--parent", "K01")
    run("location", "add", "K01-C-01", "--kind", "rack", "--parent", "K01-C")
    run("location", "add", "K01-C-01-1", "--kind", "shelf", "--parent", "K01-C-01")
    out = run("location", "add", "K01-C-01-1", "--kind", "shelf", "--parent", "K01-C-01", code=1)
    assert "already used" in out
    for box in ("B001", "B002"):
        run("location", "add", box, "--kind", "box", "--parent", "K01-C-01-1")
    assert "→ K01 / K01-C / K01-C-01 / K01-C-01-1 / B001" in run("shelve", n[0], "B001")
    run("shelve", n[1], "B001")
    run("shelve", n[2], "B002")
    tree = json.loads(run("location", "list", "--json"))
    assert tree[0]["children"][0]["children"][0]["children"][0]["children"][0]["children"][0]["code"] == n[0]
    assert "wrote 2 folder labels" in run("labels", "folder", n[0], n[1], "-o", tmp_path / "f.pdf")
    assert (tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"
    codes = tmp_path / "codes.txt"
    codes.write_text(f"B001\n{n[0]}\n{n[2]}\nXX-1\n", encoding="utf-8")
    report = json.loads(run("stocktake", "B001", "--codes", codes, "--json", "--csv", tmp_path / "st.csv", code=4))
    assert (
        report["in_place"],
        report["missing"],
        [m["code"] for m in report["misplaced"]],
        [u["code"] for u in report["unexpected"]],
    ) == ([n[0]], [n[1]], [n[2]], ["XX-1"])
    assert "misplaced" in (tmp_path / "st.csv").read_text(encoding="utf-8")
    out = run("handover", "--from", "营业厅", n[0], code=4)
    assert "refused" in out and "missing CB 拆表工作单" in out
    out = run("handover", "--from", "营业厅", n[0], "--override", "--reason", "court order", code=0)
    assert "accepted" in out


def test_reclassify_void_loan_and_retention_commands(db, run):
    with db.session() as s:
        a = make_record(s, tag="a", doc_types=["SQ", "HT"], business_type="GH", work_order="W1").number
        b = make_record(s, tag="b", doc_types=["SQ"], work_order="W2").number
    out = run("reclassify", a, "--business", "更名", "--doc", "2=SM", "--reason", "keyed wrong")
    assert f"{a}: now GM" in out
    history = json.loads(run("history", a, "--json"))
    assert [h.get("business_type") for h in history[:2]] == ["GH", "GM"] and history[2]["to"] == "SM"
    assert "needs a reason" in run("number", "void", b, "--reason", " ", code=1)
    assert "voided" in run("number", "void", b, "--reason", "withdrawn")
    run("location", "add", "K1", "--kind", "room")
    run("location", "add", "BX", "--kind", "box")
    run("shelve", a, "BX")
    assert "is in the past" in run("loan", "lend", a, "--to", "李四", "--due", "2020-01-01", code=1)
    out = run("loan", "lend", a, "--to", "李四")
    assert "2 pages" in out
    assert "≠ 2 scanned" in run("loan", "return", a, "--pages", "1")
    run("case", "close", "W1", "--on", "1990-01-01")
    due = json.loads(run("retention", "due", "--json"))
    assert due == []  # GM is D30 from account closing: not started
