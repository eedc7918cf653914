"""交接: a file that is not complete and correctly filled cannot be handed over."""

import pytest
from sqlalchemy import select

from dangan.archive.business.scheme import load_scheme
from dangan.archive.models import Event, Handover
from dangan.archive.paper.handover import HandoverError, HandoverRefused, offer_handover, require_accepted
from dangan.archive.records.lifecycle import update_case
from tests.archive.records import make_record

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


def test_refused_with_the_exact_gaps_then_accepted_once_they_are_filled(db, scheme):
    with db.session() as s:  # 销户 case: 拆表工作单 not yet collected, removal date not recorded
        number = make_record(
            s, tag="xh-1", doc_types=["SQ", "SF", "JQ"], business_type="XH", work_order="WO2024000007"
        ).number
        update_case(s, "WO2024000007", facts={"bills_settled": True}, actor="clerk", reason="billing system")
    with db.session() as s:
        h = offer_handover(s, [number], from_dept="营业厅", actor="archivist", scheme=scheme, offered_by="张三")
        hid = h.id
    with db.session() as s:
        h = s.get(Handover, hid)
        assert h.status == "refused"
        assert h.items[0].problems == [
            "missing CB 拆表工作单 [mandatory, stage 拆表]",
            "error: 拆表日期 (meter_removal_date) = (missing): missing required field",
        ]
        with pytest.raises(HandoverRefused) as refused:
            require_accepted(h)
        assert refused.value.problems == {number: h.items[0].problems}
        refusal = s.scalars(select(Event).filter_by(type="handover refused")).one()
        assert refusal.detail["problems"] == {number: h.items[0].problems}
    with db.session() as s:  # the 拆表工作单 arrives as a second folder of the same case
        supplement = make_record(s, tag="xh-2", doc_types=["CB"], business_type="XH", work_order="WO2024000007").number
        update_case(
            s,
            "WO2024000007",
            billing_fields={"meter_removal_date": "2024-04-02"},
            actor="clerk",
            reason="拆表日期 from the work order",
        )
    with db.session() as s:
        h = offer_handover(
            s, [number, supplement], from_dept="营业厅", actor="archivist", scheme=scheme, offered_by="张三"
        )
        assert h.status == "accepted" and all(i.ok for i in h.items)
        accepted = s.scalars(select(Event).filter_by(type="handover accepted")).one()
        assert (accepted.detail["offered_by"], accepted.detail["received_by"]) == ("张三", "archivist")
        assert accepted.detail["records"] == [number, supplement]
    with db.session() as s:  # a record is accepted once
        h = offer_handover(s, [number], from_dept="营业厅", actor="archivist", scheme=scheme)
        assert h.status == "refused" and "already accepted" in h.items[0].problems[0]


def test_an_invalid_billing_field_refuses_the_handover(db, scheme):
    with db.session() as s:
        number = make_record(s, tag="xh", doc_types=["SQ", "SF", "JQ", "CB"], work_order="WO9").number
        update_case(
            s,
            "WO9",
            billing_fields={"meter_removal_date": "2024-13-45"},
            facts={"bills_settled": True},
            actor="clerk",
            reason="typed",
        )
        h = offer_handover(s, [number], from_dept="营业厅", actor="a", scheme=scheme)
        assert h.status == "refused"
        assert h.items[0].problems == [
            (
                "error: 拆表日期 (meter_removal_date) = '2024-13-45': "
                "wrong type: expected a date (YYYY-MM-DD), got '2024-13-45'"
            )
        ]


def test_an_override_needs_a_reason_and_is_an_event(db, scheme):
    with db.session() as s:
        number = make_record(s, tag="xh", doc_types=["SQ"], work_order="WO9").number
        with pytest.raises(HandoverError, match="needs a reason"):
            offer_handover(s, [number], from_dept="营业厅", actor="a", scheme=scheme, override_reason=" ")
        with pytest.raises(HandoverError, match="no record numbered"):
            offer_handover(s, ["GD01-KH·2024-000099X"], from_dept="营业厅", actor="a", scheme=scheme)
        h = offer_handover(
            s,
            [number],
            from_dept="营业厅",
            actor="a",
            scheme=scheme,
            override_reason="customer deceased; 拆表 done by court order, papers follow",
        )
        assert h.status == "accepted" and not h.items[0].ok
        override = s.scalars(select(Event).filter_by(type="handover override")).one()
        assert number in override.detail["problems_overridden"]
