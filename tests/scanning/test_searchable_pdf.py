"""A record exported as a searchable PDF: the page images at their scanned size, the OCR text
invisible over them, and the export in the audit log."""

import json
import re
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from dangan.archive.events import verify_chain
from dangan.archive.models import Event
from dangan.archive.store import sha256_file
from dangan.scanning.batch import ScanOptions, scan

pytestmark = pytest.mark.database


def the_cli():
    from dangan.cli import main

    return main


def pdfinfo_pages(path) -> list[tuple[float, float]]:
    out = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)]


def assert_invisible(pdf, image, tmp_path):
    """Page 1 renders exactly as the image alone on the same page does: no visible text."""
    from reportlab.pdfgen.canvas import Canvas

    with Image.open(image) as im:
        _w, _h = im.size
    (w_pt, h_pt), *_ = pdfinfo_pages(pdf)
    ref = Canvas(str(tmp_path / "ref.pdf"), pagesize=(w_pt, h_pt))
    ref.drawImage(str(image), 0, 0, width=w_pt, height=h_pt)
    ref.save()
    renders = []
    for name, path in (("ours", pdf), ("ref", tmp_path / "ref.pdf")):
        subprocess.run(
            ["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-gray", "-singlefile", str(path), str(tmp_path / name)],
            check=True,
        )
        with Image.open(tmp_path / f"{name}.pgm") as im:
            renders.append(np.asarray(im, np.float32))
    assert np.abs(renders[0] - renders[1]).max() < 2


def test_an_exported_record_is_a_searchable_pdf_of_its_pages(home, db, store, tmp_path, make_folder_pdf):
    # given a scanned customer folder of two pages
    path = make_folder_pdf(
        "folder.pdf",
        [
            ["用电申请书", "户号：3401405288", "户名：王建国", "申请减容后运行容量为400千伏安"],
            ["供用电合同", "户号：3401405288", "第一条 供电方式与用电容量"],
        ],
    )
    number = scan([path], db, store, ScanOptions(jobs=2)).folders[0].number

    # when an archivist exports it by its 户号
    out = tmp_path / "export" / "folder.pdf"
    result = CliRunner().invoke(
        the_cli(),
        [
            "--home",
            str(home.root),
            "--db",
            home.db_url,
            "--as",
            "档案员",
            "export-pdf",
            "3401405288",
            "-o",
            str(out),
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)

    # then the PDF has one page per record page, each the derived image's size at its dpi
    from dangan.archive.records.views import record_view

    with db.session() as s:
        pages = [p for d in record_view(s, number)["documents"] for p in d["pages"]]
    assert written["number"] == number and written["pages"] == len(pages) == 2
    sizes = pdfinfo_pages(out)
    assert len(sizes) == 2
    for (w_pt, h_pt), p in zip(sizes, pages):
        assert abs(w_pt - p["width"] * 72 / p["dpi"]) < 0.5 and abs(h_pt - p["height"] * 72 / p["dpi"]) < 0.5

    # the images are embedded as stored: the derived JPEGs, byte for byte
    images = tmp_path / "img"
    images.mkdir()
    subprocess.run(["pdfimages", "-j", str(out), str(images / "p")], check=True)
    extracted = sorted(images.iterdir())
    assert [sha256_file(f) for f in extracted] == [p["derived"]["sha256"] for p in pages]

    # the text layer reads back with pdftotext, phrases unbroken, and is invisible
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "3401405288" in text and "减容" in text and "供用电合同" in text
    assert_invisible(out, extracted[0], tmp_path)

    # and the export is in the audit log with the file's checksum
    with db.session() as s:
        event = s.scalars(select(Event).filter_by(type="export")).one()
        assert event.object_id == number and event.actor == "档案员"
        assert event.detail["sha256"] == sha256_file(out) == written["sha256"]
        assert verify_chain(s)[1] == []


def test_an_unknown_number_is_refused_with_a_reason(home, db, tmp_path):
    result = CliRunner().invoke(
        the_cli(),
        [
            "--home",
            str(home.root),
            "--db",
            home.db_url,
            "export-pdf",
            "GD01-KH·2026-0000014",
            "-o",
            str(tmp_path / "x.pdf"),
        ],
    )
    assert result.exit_code == 1 and "no record numbered" in result.output
    assert not (tmp_path / "x.pdf").exists()
