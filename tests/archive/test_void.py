"""A voided number keeps its record row, its reason and an event; it is never reused."""

import pytest
from sqlalchemy import select

from dangan.archive import events
from dangan.archive.models import Event, IndexOutbox
from dangan.archive.records.lifecycle import LifecycleError, void_number
from dangan.archive.records.views import find_record
from tests.archive.records import make_record

pytestmark = pytest.mark.database


def test_void_needs_a_reason_and_is_recorded(db):
    with db.session() as s:
        number = make_record(s, tag="a", doc_types=["SQ"]).number
        s.query(IndexOutbox).delete()
        with pytest.raises(LifecycleError, match="needs a reason"):
            void_number(s, number, reason="", actor="k")
        void_number(s, number, reason="label printed for a folder that was withdrawn", actor="k")
    with db.session() as s:
        record = find_record(s, number)
        assert (record.status, record.void_reason) == ("void", "label printed for a folder that was withdrawn")
        assert s.scalars(select(Event).filter_by(type=events.NUMBER_VOIDED)).one().object_id == number
        assert s.query(IndexOutbox).count() == 1  # the indexer drops pages of non-active records
        with pytest.raises(LifecycleError, match="already void"):
            void_number(s, number, reason="again", actor="k")
        nxt = make_record(s, tag="b", doc_types=["SQ"], work_order="W2").number
        assert nxt != number and nxt.split("-")[-1][:6] == "000002"
