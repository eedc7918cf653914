"""Every view tells the truth, whatever happens in whatever order: random sequences of what
people do to an archive (scan, rescan, reclassify, void, dispose, import, link, loan, shelve,
split at cover sheets, accept a page, change a 户号, export and import), and after EACH step:

- the search index agrees with the database (`index check`), nothing waits in the outbox;
- `verify --full` and `events verify` pass;
- every report's counts equal counts taken straight from the database (tests/app/oracle.py),
  and `report overdue` lists what `collect` lists;
- (as a step of its own, and at the end) an export/import round trip shows every record
  the same (`show --json`).

Hypothesis (stateful testing) chooses the sequences and, when one fails, shrinks it to the
shortest that still fails. CI runs a bounded, repeatable set; for a longer hunt:

    DANGAN_CONSISTENCY_EXAMPLES=200 DANGAN_CONSISTENCY_STEPS=30 pytest tests/app/test_consistency.py

Pages are real scans OCR'd once per session (tests/app/scans.py); every archive is a real
SQLite file, Whoosh index and file store.
"""

from __future__ import annotations

import itertools
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from dangan.app import audit, business, ingest, lifecycle, paper, records
from dangan.app.archive import Archive, DataHome, init_archive
from dangan.app.index import check_index
from dangan.app.reports import REPORT_KINDS, make_report
from dangan.archive.models import ArchiveRecord, BusinessCase
from dangan.errors import DanganError
from tests.app import oracle
from tests.app.roundtrip import round_trip
from tests.archive.paper import build_room
from tests.archive.test_imports import CASE_HEADER, write_csv

EXAMPLES = int(os.environ.get("DANGAN_CONSISTENCY_EXAMPLES", "3"))
STEPS = int(os.environ.get("DANGAN_CONSISTENCY_STEPS", "12"))
LONG_RUN = "DANGAN_CONSISTENCY_EXAMPLES" in os.environ
TODAY = date.today()

FILES = ("a", "a-rewrapped", "a-reencoded", "a-next", "mixed", "covered", "stack", "odd")
BUSINESS = ("低压居民新装", "暂停", "销户", "更名", "减容", "临时用电")
TYPES = ("XZ", "ZT", "XH", "GM", "JR", "LS")


def test_every_view_tells_the_truth_after_any_sequence(folders, runner, tmp_path_factory):
    base = tmp_path_factory.mktemp("consistency")
    template = _empty_archive(base / "template")
    homes = itertools.count()
    known = {
        "accounts": sorted({c.customer.account_no for c in folders.cases.values()}),
        "orders": sorted({c.work_order_no for c in folders.cases.values()}),
    }

    class ArchiveMachine(RuleBasedStateMachine):
        """One archive through a random sequence of operations."""

        numbers = Bundle("numbers")

        def __init__(self):
            super().__init__()
            self.root = base / f"home-{next(homes)}"
            shutil.copytree(template, self.root)
            self.archive = Archive(DataHome(self.root, f"sqlite:///{self.root / 'dangan.sqlite3'}"), actor="王芳")
            init_archive(self.archive)
            self.refused: list[str] = []
            self.imports = itertools.count()

        def teardown(self):
            try:
                self._round_trip()  # the archive as it ends
            finally:
                self.archive.close()
                shutil.rmtree(self.root, ignore_errors=True)

        def attempt(self, fn, *args, **kwargs):
            """Do what a person asked; a refusal with a reason (DanganError) is an answer, not
            a failure; anything else fails the test."""
            try:
                return fn(*args, **kwargs)
            except DanganError as e:
                self.refused.append(f"{fn.__name__}: {e}")
                return None

        # --- operations -------------------------------------------------------------------

        @rule(target=numbers, name=st.sampled_from(FILES))
        def scan(self, name):
            result = ingest.ingest(
                self.archive, [folders[name]], ingest.scan_options(self.archive, jobs=1), runner=runner
            )
            assert not result.index.problem, result.index.problem
            return multiple(*[f.number for f in result.report.folders if f.number])

        @rule(number=numbers)
        def rescan_first_page(self, number):
            self.attempt(ingest.rescan, self.archive, f"{number}/1", folders["a-page1-rescan"], runner=runner)

        @rule(number=numbers, business=st.sampled_from(TYPES))
        def reclassify(self, number, business):
            self.attempt(lifecycle.reclassify, self.archive, number, business_type=business, reason="复核业务类型")

        @rule(number=consumes(numbers))
        def void(self, number):
            self.attempt(lifecycle.void_number, self.archive, number, reason="重复扫描，作废")

        @rule(number=numbers)
        def close_long_ago_and_dispose(self, number):
            order = self._work_order(number)
            if order:
                self.attempt(lifecycle.close_case, self.archive, order, date(2010, 6, 30))
            self.attempt(lifecycle.dispose, self.archive, number, reason="保管期满", approved_by="鉴定小组")

        @rule(
            rows=st.lists(
                st.tuples(
                    st.one_of(st.sampled_from(known["orders"]), st.integers(1, 40)),
                    st.sampled_from(known["accounts"]),
                    st.sampled_from(BUSINESS),
                    st.integers(0, 400),
                    st.booleans(),
                ),
                min_size=1,
                max_size=4,
            )
        )
        def import_cases(self, rows):
            table = []
            for order, account, business_name, days_ago, closed in rows:
                accepted = TODAY - timedelta(days=days_ago)
                if isinstance(order, int):  # a case nobody has scanned yet
                    order = f"{accepted:%Y%m%d}{order:08d}"
                table.append(
                    dict.fromkeys(CASE_HEADER, "")
                    | {
                        "工单编号": order,
                        "户号": account,
                        "业务类型": business_name,
                        "受理部门": "城东营业厅",
                        "受理日期": accepted.isoformat() if order[:8] <= f"{accepted:%Y%m%d}" else "",
                        "归档日期": TODAY.isoformat() if closed else "",
                    }
                )
            path = write_csv(
                self.root / f"cases-{next(self.imports)}.csv", CASE_HEADER, [[r[h] for h in CASE_HEADER] for r in table]
            )
            self.attempt(business.import_export, self.archive, "cases", path, today=TODAY)

        @rule(number=numbers, order=st.sampled_from(known["orders"]))
        def link(self, number, order):
            self.attempt(business.link_record, self.archive, number, order, reason="operator")

        @rule(number=numbers, box=st.sampled_from(("B001", "B002")))
        def shelve(self, number, box):
            self.attempt(paper.shelve, self.archive, number, box)

        @rule(number=numbers)
        def lend(self, number):
            self.attempt(paper.lend, self.archive, number, borrower="李四")

        @rule(number=numbers, counted=st.one_of(st.none(), st.integers(0, 6)))
        def give_back(self, number, counted):
            if counted is None:  # counted right: the pages of the paper as `show` says
                view = self.attempt(records.record_view, self.archive, number, with_text=False)
                counted = view["pages"] if view else 0
            self.attempt(paper.return_loan, self.archive, number, pages_counted=counted)

        @rule(which=st.integers(0, 3))
        def accept_a_flagged_page(self, which):
            queue = records.qa_queue(self.archive)
            if queue:
                item = queue[which % len(queue)]
                self.attempt(ingest.qa_accept, self.archive, item["page_id"], "看过，可以接受")

        @rule(old=st.sampled_from(known["accounts"]), new=st.integers(3400000000, 3400000009))
        def change_account(self, old, new):
            self.attempt(lifecycle.change_account_number, self.archive, old, str(new), reason="户号变更")

        @rule()
        def export_and_import(self):
            self._round_trip()

        # --- what must hold after every step ------------------------------------------------

        @invariant()
        def index_agrees_with_the_database(self):
            with self.archive.session() as s:
                assert oracle.outbox(s) == 0, "pages left waiting for the index"
            result = check_index(self.archive).result
            assert result.ok, result

        @invariant()
        def the_store_and_the_event_chain_verify(self):
            fixity = audit.verify(self.archive, full=True)
            assert fixity.ok, fixity.as_dict()
            assert audit.verify_chain(self.archive)["ok"]

        @invariant()
        def reports_count_what_the_database_holds(self):
            with self.archive.session() as s:
                counts = oracle.counts(s)
                reconciliation = oracle.reconciliation(s)
                gaps = oracle.numbering_gaps(s)
                pairs = oracle.likeness_pairs(s)
                flagged = oracle.flagged_pages(s)
                cases = counts["business_cases"]
            made = {kind: make_report(self.archive, kind) for kind in REPORT_KINDS}
            for kind, report in made.items():
                assert report.about["counts"] == counts, kind
            r = made["reconciliation"].findings
            assert {k: sorted(r[k]) for k in reconciliation} == reconciliation
            assert len(made["numbering"].findings["gaps"]) == len(gaps)
            assert len(made["duplicates"].findings["pairs"]) == pairs
            assert len(made["completeness"].section("cases").rows) == cases
            digitisation = made["digitisation"].findings["summary"]
            assert digitisation["pages"] == counts["pages"]
            assert len(records.qa_queue(self.archive)) == min(flagged, 200)
            collect = sorted(
                c.work_order for d in business.collection_list(self.archive, overdue_only=True) for c in d.cases
            )
            assert made["overdue"].findings["overdue_cases"] == collect
            assert made["overdue"].findings["unjudged"] == []

        # --- helpers -----------------------------------------------------------------------

        def _work_order(self, number: str) -> str:
            with self.archive.session() as s:
                return (
                    s.scalar(
                        select(BusinessCase.work_order)
                        .join(ArchiveRecord, ArchiveRecord.case_id == BusinessCase.id)
                        .where(ArchiveRecord.number == number)
                    )
                    or ""
                )

        def _round_trip(self):
            trip = self.root / f"trip-{next(self.imports)}"
            trip.mkdir()
            restored, before, after = round_trip(self.archive, trip)
            try:
                assert after == before
                assert audit.verify(restored, full=True).ok
                assert check_index(restored).result.ok
            finally:
                restored.close()
                shutil.rmtree(trip, ignore_errors=True)

    run_state_machine_as_test(
        ArchiveMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=not LONG_RUN,  # CI runs the same sequences every time; a long hunt explores
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        ),
    )


def _empty_archive(root: Path) -> Path:
    """A migrated, empty archive with a room and two boxes, copied for every sequence."""
    archive = Archive(DataHome(root, f"sqlite:///{root / 'dangan.sqlite3'}"), actor="王芳")
    init_archive(archive)
    with archive.session() as s:
        build_room(s)
    archive.close()
    return root
