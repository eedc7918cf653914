"""What the paper commands say when a code is the wrong kind of thing, a label is misread or a
number was voided: the truth, and what to do."""

from __future__ import annotations

import pytest

from dangan.app import lifecycle, paper, records
from dangan.archive.paper.locations import LocationError
from tests.app.builders import add_record
from tests.archive.paper import build_room

pytestmark = pytest.mark.database


@pytest.fixture
def room(archive):
    with archive.session() as s:
        build_room(s)
    return archive


def test_a_box_named_as_a_parent_is_called_a_box(room):
    with pytest.raises(LocationError) as e:
        paper.add_location(room, "X1", "shelf", parent="B002")
    assert (
        str(e.value) == "B002 is a box, not a room, zone, rack, cabinet or shelf: a shelf belongs in a rack or cabinet"
    )
    with pytest.raises(LocationError, match="no location with code 'K99'"):
        paper.add_location(room, "X1", "shelf", parent="K99")


def test_a_folder_shelved_on_a_shelf_is_told_to_go_into_a_box(room):
    number = add_record(room, tag="s", doc_types=["SQ"])
    with pytest.raises(LocationError) as e:
        paper.shelve(room, number, "K01-C-01-1")
    message = str(e.value)
    assert "a folder goes into a box" in message and f"`dangan shelve {number} BOX`" in message
    assert "--kind box" not in message  # it was advised to add the number as a box


def test_a_misread_label_in_a_stocktake_gets_a_did_you_mean(room):
    number = add_record(room, tag="s", doc_types=["SQ"])
    paper.shelve(room, number, "B001")
    typo = number[:-2] + number[-1] + number[-2]  # two characters swapped by hand
    report = paper.stocktake(room, "B001", ["B001", typo])
    (unexpected,) = report.unexpected
    assert unexpected["code"] == typo and f"did you mean {number}?" in unexpected["note"]
    assert report.missing == [number]


def test_a_voided_number_is_not_valid(room):
    number = add_record(room, tag="v", doc_types=["SQ"])
    assert records.check_number(room, number) == {"valid": True, "number": number, "status": "active"}
    lifecycle.void_number(room, number, reason="label misprinted")
    checked = records.check_number(room, number)
    assert checked["valid"] is False and checked["status"] == "void"
    assert "label misprinted" in checked["reason"] and "never used again" in checked["reason"]
    assert records.check_number(None, number)["valid"] is True  # without an archive, only the form is judged
