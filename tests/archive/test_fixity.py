"""verify and 四性: a flipped bit, a deleted derived file, a stray file and an edited event
are each named; a size-only pass cannot see the flipped bit; results become events."""

import pytest
from sqlalchemy import select

from dangan.archive.audit.fixity import check_four_properties, validate_format, verify
from dangan.archive.models import Event
from tests.archive.audit import build_clean, build_faulty, damage_store

pytestmark = pytest.mark.database


@pytest.fixture
def damaged(db, store):
    with db.session() as s:
        n = build_faulty(s, store)
    with db.session() as s:
        return damage_store(s, store, n)


def test_fast_verify_sees_missing_unexpected_and_the_chain_but_not_the_flipped_bit(db, store, damaged):
    with db.session() as s:
        r = verify(s, store, full=False, actor="auditor")
    assert [m["path"] for m in r.missing] == [damaged["deleted"]]
    assert r.altered == []  # same size: only a full pass can tell
    assert r.unexpected == [damaged["unexpected"]]
    assert [c["seq"] for c in r.chain_problems] == [5]  # the edited row, by its hash


def test_full_verify_names_every_fault_and_is_stored_as_an_event(db, store, damaged):
    with db.session() as s:
        r = verify(s, store, full=True, actor="auditor")
    assert [a["path"] for a in r.altered] == [damaged["flipped"]]
    assert [m["path"] for m in r.missing] == [damaged["deleted"]]
    assert r.unexpected == [damaged["unexpected"]] and not r.ok
    with db.session() as s:
        e = s.scalars(select(Event).filter_by(type="fixity check").order_by(Event.seq.desc())).first()
    assert e.actor == "auditor" and e.detail["outcome"] == "fail" and e.detail["mode"] == "full"
    assert e.detail["altered"] == [damaged["flipped"]]


def test_a_clean_store_verifies(db, store):
    with db.session() as s:
        build_clean(s, store)
    with db.session() as s:
        r = verify(s, store, full=True)
    assert r.ok and r.files_checked == 3 * 3 * 2 + 3


def test_four_properties_put_each_fault_under_its_property(db, store, damaged):
    with db.session() as s:
        r = check_four_properties(s, store, actor="auditor")
    by = {p.name: p for p in r.properties}
    assert {f["what"] for f in by["authenticity"].failures} == {damaged["flipped"], "event #5"}
    assert [f["what"] for f in by["integrity"].failures] == [damaged["deleted"]]
    assert [f["what"] for f in by["usability"].failures] == [damaged["flipped"]]  # bad PNG CRC
    assert {f["check"] for f in by["security"].failures} == {"non-archival file", "unknown file type"}
    assert not r.ok


def test_four_properties_pass_on_a_clean_archive(db, store):
    with db.session() as s:
        build_clean(s, store)
    with db.session() as s:
        r = check_four_properties(s, store)
    assert r.ok, r.as_dict()


def test_format_validation_refuses_a_truncated_image_and_an_encrypted_pdf(tmp_path):
    from PIL import Image

    good = tmp_path / "a.png"
    Image.new("L", (30, 30), 128).save(good)
    assert validate_format(good, "png") is None
    assert "recorded as JPG" in validate_format(good, "jpg")
    cut = tmp_path / "b.png"
    cut.write_bytes(good.read_bytes()[:-30])
    assert "does not decode" in validate_format(cut)
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "c.pdf"
    c = canvas.Canvas(str(pdf), encrypt=pdfencrypt.StandardEncryption("u", "o"))
    c.drawString(10, 10, "x")
    c.save()
    assert "encrypted" in validate_format(pdf)


def test_files_of_pages_in_progress_are_not_unexpected_but_old_strays_are(db, store):
    """A station scanning: its staged pages' files, and the files of a page a worker is OCR'ing
    now, are in progress; a file nobody refers to that is over an hour old is not."""
    import os
    import time

    from dangan.archive.models import Batch
    from dangan.archive.records.accession import IntakePage
    from dangan.archive.records.staging import stage_page

    with db.session() as s:
        build_clean(s, store)
    # given a folder with one page staged (OCR done, not yet accessioned), in a batch still open
    source = store.put_bytes("sources", b"%PDF-1.4 a scanned folder", ".pdf")
    master = store.put_bytes("masters", b"master of page 1", ".jpg")
    derived = store.put_bytes("derived", b"derived of page 1", ".jpg")
    page = IntakePage(1, master.relpath, master.sha256, master.size, "jpg", derived.relpath, derived.sha256, 9, 9, 300)
    with db.session() as s:
        stage_page(s, source.sha256, page)
        s.add(Batch(label="scanning now"))
    # and the master of page 2, written a moment ago by a worker still OCR'ing it
    in_ocr = store.put_bytes("masters", b"master of page 2", ".jpg")
    # and a file no row refers to, written two hours ago
    stray = store.put_bytes("masters", b"left over", ".jpg")
    two_hours_ago = time.time() - 7200
    os.utime(store.root / stray.relpath, (two_hours_ago, two_hours_ago))

    with db.session() as s:
        r = verify(s, store, full=True, actor="auditor")
    assert sorted(r.in_progress) == sorted([source.relpath, master.relpath, derived.relpath, in_ocr.relpath])
    assert r.unexpected == [stray.relpath]
    with db.session() as s:
        e = s.scalars(select(Event).filter_by(type="fixity check").order_by(Event.seq.desc())).first()
    assert e.detail["in_progress"] == 4 and e.detail["unexpected"] == [stray.relpath]

    # once the batch is over, a file nobody refers to is unexpected however young
    from dangan.archive.models import utcnow

    with db.session() as s:
        for b in s.scalars(select(Batch)):
            b.finished_at = utcnow()
    with db.session() as s:
        r = verify(s, store, full=False, record=False)
    assert sorted(r.unexpected) == sorted([in_ocr.relpath, stray.relpath])
    assert sorted(r.in_progress) == sorted([source.relpath, master.relpath, derived.relpath])
