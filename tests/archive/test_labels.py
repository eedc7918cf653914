"""Labels: the QR holds the code only; the number is printed large; no personal data."""

import subprocess

import pytest

from dangan.archive.paper.labels import LabelError, write_labels
from dangan.archive.paper.locations import shelve
from tests.archive.paper import build_room
from tests.archive.records import make_record

pytestmark = pytest.mark.database


def _decode_qr(pdf, tmp_path):
    import cv2

    subprocess.run(["pdftoppm", "-r", "300", "-png", str(pdf), str(tmp_path / "p")], check=True)
    found = []
    for png in sorted(tmp_path.glob("p-*.png")):
        text, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(png)))
        found.append(text)
    return found


def test_folder_and_box_labels(db, tmp_path):
    with db.session() as s:
        build_room(s)
        a = make_record(s, tag="a", doc_types=["SQ"], name="王建国", work_order="W1").number
        b = make_record(s, tag="b", doc_types=["SQ"], name="王建国", work_order="W2").number
        shelve(s, a, "B001", actor="k")
        shelve(s, b, "B001", actor="k")
        folders = write_labels(s, "folder", [a, b], tmp_path / "f.pdf", business_names={"XH": "销户"})
        box = write_labels(s, "box", ["B001"], tmp_path / "b.pdf")
        with pytest.raises(LabelError, match="no box"):
            write_labels(s, "box", ["B404"], tmp_path / "x.pdf")
    assert [f.qr_payload for f in folders] == [a, b] and box[0].lines == (
        "位置 K01 / K01-C / K01-C-01 / K01-C-01-1",
        a,
        b,
    )
    assert _decode_qr(tmp_path / "f.pdf", tmp_path) == [a, b]
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "f.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "GD01-KH·" in text and a.split("·")[1] in text and b.split("·")[1] in text and "销户" in text
    assert "王建国" not in text and "3401405288" not in text  # no name, no 户号 on the label
