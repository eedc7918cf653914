"""OFD/A out: a record written as an OFD, checked against the profile, read back by another
reader with its text unchanged and drawn back within a small pixel difference of its pages."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from dangan.cli import main
from dangan.scanning.ofd import OfdFile
from dangan.scanning.ofd_render import render
from dangan.testing.born_digital import write_born_digital_pdf
from tests.conftest import render_page

CONTRACT = ["供用电合同", "工单编号 2024031500001234", "用电人 欧阳修远 户号 3301082231"]
SCANNED = ["用电变更申请书", "客户名称 欧阳修远", "申请容量 8 千瓦"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ofd-out")
    write_born_digital_pdf(tmp / "mixed.pdf", [CONTRACT, render_page(SCANNED)])
    home = tmp / "home"
    run = lambda *a: CliRunner().invoke(main, ["--home", str(home), "--as", "tester", *a], catch_exceptions=False)
    assert run("init").exit_code == 0
    (folder,) = json.loads(run("scan", "--jobs", "1", "--json", str(tmp / "mixed.pdf")).stdout)["folders"]
    out = run("export-ofd", folder["number"], "-o", str(tmp / "record.ofd"), "--json")
    assert out.exit_code == 0, out.output
    view = json.loads(run("show", "--json", "--text", folder["number"]).stdout)
    return {"run": run, "file": tmp / "record.ofd", "view": view, "home": home, "result": json.loads(out.stdout)}


def _pages(view):
    return sorted((p for d in view["documents"] for p in d["pages"]), key=lambda p: p["seq"])


def test_the_export_passes_the_profile_check(exported):
    out = exported["run"]("check-four", str(exported["file"]), "--json")
    result = json.loads(out.stdout)
    assert out.exit_code == 0 and result["ok"], result
    assert {p["name"]: p["checked"] > 0 for p in result["properties"]} == {
        "authenticity": True,
        "integrity": True,
        "usability": True,
        "security": True,
    }


def test_the_check_finds_what_breaks_the_profile(exported, tmp_path):
    broken = tmp_path / "broken.ofd"
    with zipfile.ZipFile(exported["file"]) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            if item.filename.endswith(".ttf"):  # the embedded font left out
                continue
            data = src.read(item)
            if item.filename == "OFD.xml":
                data = data.replace("档号".encode(), "其他".encode())
            dst.writestr(item, data)
    result = json.loads(exported["run"]("check-four", str(broken), "--json").stdout)
    failed = {p["name"]: [f["check"] for f in p["failures"]] for p in result["properties"]}
    assert not result["ok"]
    assert "metadata" in failed["authenticity"] and "font embedded" in failed["usability"]


def test_another_reader_reads_the_text_unchanged(exported):
    ofdkit = pytest.importorskip("ofdkit")
    with ofdkit.open(exported["file"]) as doc:
        assert len(doc.pages) == 2
        for page, stored in zip(doc.pages, _pages(exported["view"]), strict=True):
            theirs = "".join(r.text for r in page.runs)
            assert theirs == "".join(stored["text"].split())
        assert doc.info.custom_data["档号"] == exported["result"]["number"]


def test_its_pages_draw_back_as_the_archived_page_images(exported):
    with OfdFile(exported["file"]) as ofd:
        for n, stored in enumerate(_pages(exported["view"]), start=1):
            page = ofd.page(n)
            drawn = np.asarray(render(ofd, page, stored["dpi"]).convert("L"), dtype=np.int16)
            original = np.asarray(
                Image.open(exported["home"] / "store" / stored["derived"]["path"]).convert("L"), dtype=np.int16
            )
            h, w = min(drawn.shape[0], original.shape[0]), min(drawn.shape[1], original.shape[1])
            assert abs(drawn.shape[0] - original.shape[0]) <= 1 and abs(drawn.shape[1] - original.shape[1]) <= 1
            assert np.abs(drawn[:h, :w] - original[:h, :w]).mean() < 2.0  # the invisible text is not drawn
            assert len([g for g in page.glyphs if not g.visible]) == len("".join(stored["text"].split()))


def test_the_export_is_an_event_with_the_files_checksum(exported):
    from sqlalchemy import select

    from dangan.archive.db import Database
    from dangan.archive.models import Event
    from dangan.archive.store import sha256_file

    db = Database(f"sqlite:///{exported['home'] / 'dangan.sqlite3'}")
    with db.session() as s:
        (export,) = s.scalars(select(Event).filter_by(type="export", object_id=exported["result"]["number"])).all()
        assert export.detail["sha256"] == sha256_file(exported["file"])
        assert export.detail["format"] == "application/ofd"
    db.dispose()
