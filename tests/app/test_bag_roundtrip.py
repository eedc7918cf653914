"""The BagIt round trip loses nothing (quarantined files included) and is on the record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dangan.app import audit, lifecycle
from dangan.archive.models import Event
from tests.app.builders import add_record
from tests.app.roundtrip import round_trip


@pytest.fixture
def busy(archive, scan, tmp_path):
    bad = tmp_path / "damaged.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n")  # truncated: quarantined
    scan("a", "odd")
    from dangan.app import ingest

    ingest.ingest(archive, [bad], ingest.scan_options(archive, jobs=1))
    number = add_record(archive, tag="v", doc_types=["SQ"], work_order="2024031500001234")
    lifecycle.void_number(archive, number, reason="label misprinted")
    return archive


def test_round_trip_keeps_the_quarantine_and_shows_every_record_the_same(busy, tmp_path):
    restored, before, after = round_trip(busy, tmp_path)
    try:
        assert after == before and len(before) == 3
        assert audit.verify(restored, full=True).ok  # was: 3 missing (the quarantined files)
        assert audit.verify_chain(restored)["ok"]
        assert [q["sha256"] for q in audit_quarantine(restored)] == [q["sha256"] for q in audit_quarantine(busy)]
    finally:
        restored.close()


def test_an_export_is_an_event(busy, tmp_path):
    result = audit.export_bag(busy, tmp_path / "bag")
    with busy.session() as s:
        event = s.scalars(select(Event).filter_by(type="export")).one()
    assert event.object_type == "bag" and event.detail["scope"] == "whole archive"
    assert event.detail["records"] == result.records == 3 and event.detail["files"] == result.files
    assert event.seq == result.events + 1  # after the log the bag carries
    assert audit.verify_chain(busy)["ok"]


def audit_quarantine(archive):
    from dangan.app.records import quarantined

    return quarantined(archive)
