"""Reclassification keeps the number, the stored files and the labels; the old values stay
readable (the opposite of Mayan, which drops metadata that does not fit the new type)."""

import pytest
from sqlalchemy import select

from dangan.archive import events
from dangan.archive.business.scheme import load_scheme
from dangan.archive.models import Classification, Event, IndexOutbox, Page
from dangan.archive.paper.labels import label_content
from dangan.archive.records.accession import find_customer
from dangan.archive.records.lifecycle import (
    LifecycleError,
    ReclassifyError,
    change_account_number,
    classification_history,
    reclassify,
)
from dangan.archive.records.views import find_record
from tests.archive.records import make_record

pytestmark = pytest.mark.database


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


def test_reclassify_keeps_number_paths_labels_and_history(db, scheme):
    with db.session() as s:
        record = make_record(s, tag="gm", doc_types=["SQ", "SF", "HT"], business_type="GH")
        number = record.number
    with db.session() as s:
        paths_before = [
            (p.master_path, p.derived_path, p.master_sha256) for p in s.scalars(select(Page).order_by(Page.seq))
        ]
        label_before = label_content(s, "folder", number)
        s.query(IndexOutbox).delete()  # pretend the indexer drained accession's rows
    with db.session() as s:
        reclassify(
            s,
            number,
            business_type="更名",
            voltage_class="LV",
            customer_class="residential",
            retention="D10",
            doc_types={3: "SM"},
            reason="过户 was keyed; the case is a 更名",
            actor="auditor",
            scheme=scheme,
        )
    with db.session() as s:
        record = find_record(s, number)
        assert record.number == number
        assert [
            (p.master_path, p.derived_path, p.master_sha256) for p in s.scalars(select(Page).order_by(Page.seq))
        ] == paths_before
        label_after = label_content(s, "folder", number)  # the category line may go stale; QR and number not
        assert (label_after.qr_payload, label_after.big) == (label_before.qr_payload, label_before.big) == (number,) * 2
        history = s.scalars(select(Classification).filter_by(record_id=record.id).order_by(Classification.id)).all()
        assert [(c.business_type, c.retention, c.valid_to is None) for c in history] == [
            ("GH", "", False),
            ("GM", "D10", True),
        ]
        assert history[0].valid_to == history[1].valid_from
        assert record.classification.voltage_class == "LV"
        assert [d.doc_type for d in record.documents] == ["SQ", "SF", "SM"]
        rows = classification_history(s, number)
        assert {"what": "document type", "item_no": 3, "from": "HT", "to": "SM"}.items() <= rows[-1].items()
        event = s.scalars(select(Event).filter_by(type=events.METADATA_MODIFICATION)).one()
        assert event.detail["before"]["business_type"] == "GH" and event.detail["after"]["business_type"] == "GM"
        queued = set(s.scalars(select(IndexOutbox.page_id)))
        assert queued == set(s.scalars(select(Page.id)))  # search fields changed: reindex every page


def test_reclassify_refuses_unknown_values_and_needs_a_reason(db, scheme):
    with db.session() as s:
        number = make_record(s, tag="x", doc_types=["SQ"]).number
    with db.session() as s:
        with pytest.raises(ReclassifyError, match="unknown business type"):
            reclassify(s, number, business_type="NOPE", reason="r", actor="a", scheme=scheme)
        with pytest.raises(ReclassifyError, match="no document 件 7"):
            reclassify(s, number, doc_types={7: "SQ"}, reason="r", actor="a", scheme=scheme)
        with pytest.raises(ReclassifyError, match="nothing to change"):
            reclassify(s, number, business_type="XH", reason="r", actor="a", scheme=scheme)
        with pytest.raises(LifecycleError, match="reason"):
            reclassify(s, number, business_type="GM", reason=" ", actor="a", scheme=scheme)


def test_account_number_change_keeps_old_and_new_findable(db):
    with db.session() as s:
        number = make_record(s, tag="a", doc_types=["SQ"], account="3401405288").number
    with db.session() as s:
        change_account_number(s, "3401405288", "3401409999", "户号 re-issued after 分户", "clerk")
    with db.session() as s:
        assert find_record(s, "3401405288").number == number
        assert find_record(s, "3401409999").number == number
        assert find_customer(s, "3401405288").account_number == "3401409999"


def test_merging_accounts_moves_records_and_keeps_both_numbers(db):
    with db.session() as s:
        a = make_record(s, tag="a", doc_types=["SQ"], account="3401405288", work_order="WO1").number
        b = make_record(s, tag="b", doc_types=["SQ"], account="3401409999", work_order="WO2").number
    with db.session() as s:
        target = change_account_number(s, "3401405288", "3401409999", "并户", "clerk")
        assert sorted(x.account_number for x in target.aliases) == ["3401405288", "3401409999"]
    with db.session() as s:
        assert find_customer(s, "3401405288").id == find_customer(s, "3401409999").id
        from dangan.errors import NotFound

        with pytest.raises(NotFound, match="has 2 records"):
            find_record(s, "3401405288")
        owners = {find_record(s, n).customer_id for n in (a, b)}
        assert owners == {find_customer(s, "3401409999").id}
