"""A rebuild of the search index from a real archive database, as `dangan index rebuild`
runs it: pages/s end to end (reading the database included), peak RSS, and a rebuild
killed half-way that resumes from its checkpoint.

    .venv/bin/python bench/rebuild.py --pages 100000                       # SQLite, tantivy
    .venv/bin/python bench/rebuild.py --pages 1000000 --home /work/bench   # keep the archive
    .venv/bin/python bench/rebuild.py --pages 100000 --backend postgresql \\
        --db postgresql+psycopg://dangan:dangan@127.0.0.1:5432/bench

The archive is filled in bulk (customers, cases, records, documents, pages with the text of
bench/search.py's corpus), not through accession: the rebuild is what is measured. An
archive already holding --pages pages is reused. Each rebuild runs in a process of its own
(clean peak RSS); the first is killed once it has committed about half the pages. With
--memory-limit GB, every run happens inside a memory cgroup of that size (as root): RSS counts
the pages of the index files Tantivy memory-maps, which the kernel may drop at any time;
finishing under the limit shows what the rebuild really needs.

    .venv/bin/python bench/rebuild.py --pages 1000000 --home /tmp/rb1m --memory-limit 1
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import multiprocessing as mp
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Self

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dangan.app import Archive
from dangan.app.index import rebuild_index
from dangan.archive.db import Database, upgrade
from dangan.archive.home import DataHome
from dangan.archive.models import (
    AccountAlias,
    ArchiveRecord,
    BusinessCase,
    Classification,
    Customer,
    Document,
    Fonds,
    Page,
)
from search import Corpus

ROWS_PER_COMMIT = 20_000


def fill(db: Database, pages: int) -> None:
    """PAGES pages in records of 2-8 pages, one case per record (a 户号 or work order drawn twice
    is the same customer's second record, a case without a work order)."""
    with db.session() as s:
        if s.scalar(select(func.count(Page.id))) == pages:
            print(f"# reusing the archive's {pages} pages", file=sys.stderr)
            return
        if s.scalar(select(func.count(Page.id))):
            raise SystemExit("the archive holds another number of pages: use an empty --home/--db")
        if s.get(Fonds, "GD01") is None:
            s.add(Fonds(code="GD01", name="bench"))
    started, rows = time.perf_counter(), {t: [] for t in ("customer", "alias", "case", "record", "cls", "doc", "page")}
    record_id, customers, work_orders = 0, {}, set()
    for doc in Corpus(pages):
        if doc.page_no == 1:
            record_id += 1
            year = doc.date.year
            account = doc.account_numbers[0]
            if account not in customers:  # a 户号 drawn twice: the same customer's second record
                customers[account] = customer_id = len(customers) + 1
                rows["customer"].append(
                    {"id": customer_id, "account_number": account, "name": doc.customer_name, "address": doc.address}
                )
                rows["alias"].append({"account_number": account, "customer_id": customer_id})
            customer_id = customers[account]
            work_order = doc.work_orders[0] if doc.work_orders[0] not in work_orders else None
            work_orders.add(work_order)
            rows["case"].append(
                {
                    "id": record_id,
                    "work_order": work_order,
                    "customer_id": customer_id,
                    "business_type": doc.business_type,
                    "accepted_on": doc.date,
                }
            )
            rows["record"].append(
                {
                    "id": record_id,
                    "number": doc.record_number,
                    "fonds": "GD01",
                    "category": "KH",
                    "year": year,
                    "serial": record_id,
                    "customer_id": customer_id,
                    "case_id": record_id,
                }
            )
            rows["cls"].append({"record_id": record_id, "business_type": doc.business_type, "retention": doc.retention})
        doc_id = int(doc.page_id[2:]) + 1
        rows["doc"].append({"id": doc_id, "record_id": record_id, "item_no": doc.page_no, "doc_type": doc.doc_type})
        rows["page"].append(
            {
                "id": doc_id,
                "document_id": doc_id,
                "record_id": record_id,
                "seq": doc.page_no,
                "master_path": f"m/{doc_id}",
                "master_sha256": f"{doc_id:064x}",
                "master_size": 1,
                "master_format": "jpg",
                "text": doc.text,
            }
        )
        if len(rows["page"]) >= ROWS_PER_COMMIT:
            _flush(db, rows)
    _flush(db, rows)
    print(f"# filled {pages} pages in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _flush(db: Database, rows: dict) -> None:
    tables = {
        "customer": Customer,
        "alias": AccountAlias,
        "case": BusinessCase,
        "record": ArchiveRecord,
        "cls": Classification,
        "doc": Document,
        "page": Page,
    }
    with db.session() as s:
        for key, model in tables.items():
            if rows[key]:
                s.execute(insert(model), rows[key])
                rows[key].clear()


def rebuild(home: Path, db_url: str, backend: str, fresh: bool, kill_at: int | None, out) -> None:
    archive = Archive(DataHome(home, db_url), backend=backend)
    last = {"done": 0}

    def progress(done: int, total: int) -> None:
        last["done"] = done
        if kill_at and done >= kill_at:
            os._exit(9)  # as kill -9 would: no clean-up, no final commit

    started, started_cpu = time.perf_counter(), _cpu()
    with RssSplit() as split:
        result = rebuild_index(archive, fresh=fresh, progress=progress)
    out.put(
        {
            "pages": result.pages,
            "seconds": time.perf_counter() - started,
            "cpu_ms_per_page": 1000 * (_cpu() - started_cpu) / max(1, result.pages),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_anon_mb": split.peak["RssAnon"] / 1024,
            "peak_file_mb": split.peak["RssFile"] / 1024,
        }
    )


class RssSplit:
    """Peaks of the two parts of RSS, sampled twice a second: RssAnon, the process's own
    memory, and RssFile, pages of files it has mapped (Tantivy memory-maps its index: the
    kernel drops those pages under pressure, they are not memory the process holds)."""

    def __init__(self) -> None:
        self.peak = {"RssAnon": 0, "RssFile": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            for line in Path("/proc/self/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in self.peak:
                    self.peak[key] = max(self.peak[key], int(value.split()[0]))
            if self._stop.wait(0.5):
                return

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def _cpu() -> float:
    """CPU seconds of this process, every thread (Tantivy indexes in threads of its own)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(home: Path, db_url: str, backend: str, fresh: bool, kill_at: int | None = None) -> dict | None:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=rebuild, args=(home, db_url, backend, fresh, kill_at, queue))
    proc.start()
    proc.join()
    return None if proc.exitcode else queue.get()


class MemoryCgroup:
    """This process and its children inside a memory cgroup limited to LIMIT bytes (needs root):
    what the kernel charges them counts, their own memory and the page cache of the files they
    read and map alike, and past the limit it reclaims that cache or kills the process. The
    peak charge says how much memory the runs really needed."""

    def __init__(self, limit: int):
        v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
        root = Path("/sys/fs/cgroup") if v2 else Path("/sys/fs/cgroup/memory")
        self.path = root / f"dangan-bench-{os.getpid()}"
        self.path.mkdir()
        self._files = ("memory.max", "memory.peak") if v2 else ("memory.limit_in_bytes", "memory.max_usage_in_bytes")
        (self.path / self._files[0]).write_text(str(limit))
        (self.path / "cgroup.procs").write_text(str(os.getpid()))
        atexit.register(self._remove)

    def _remove(self) -> None:
        for pid in (self.path / "cgroup.procs").read_text().split():  # us and multiprocessing's helper
            with contextlib.suppress(OSError):
                (self.path.parent / "cgroup.procs").write_text(pid)
        with contextlib.suppress(OSError):
            self.path.rmdir()

    def peak_mb(self) -> float:
        return int((self.path / self._files[1]).read_text()) / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--backend", default="tantivy")
    parser.add_argument("--home", default=None, help="data home to fill (default: a new folder under /tmp)")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in the home)")
    parser.add_argument(
        "--memory-limit", type=float, default=None, metavar="GB", help="run the rebuilds in a memory cgroup (root)"
    )
    args = parser.parse_args(argv)
    home = Path(args.home or f"/tmp/dangan-rebuild-{args.pages}").resolve()
    home.mkdir(parents=True, exist_ok=True)
    db_url = args.db or f"sqlite:///{home / 'dangan.sqlite3'}"
    upgrade(db_url)
    db = Database(db_url)
    fill(db, args.pages)
    db.dispose()
    archive = Archive(DataHome(home, db_url), backend=args.backend)
    with archive.index() as index:
        index.clear()  # a new index, as when an archive switches backend
    cgroup = MemoryCgroup(int(args.memory_limit * 2**30)) if args.memory_limit else None
    if cgroup:
        print(f"# the rebuilds run in a memory cgroup limited to {args.memory_limit:g} GB ({cgroup.path})")
    full = run(home, db_url, args.backend, fresh=True)
    if full is None:
        raise SystemExit("the rebuild did not finish (killed: out of memory in the cgroup?)")
    print(
        f"rebuild of {full['pages']} pages into an empty {args.backend} index: "
        f"{full['pages'] / full['seconds']:.0f} pages/s, {full['seconds']:.0f} s, "
        f"CPU {full['cpu_ms_per_page']:.2f} ms/page (all threads), peak RSS {full['peak_rss_mb']:.0f} MB "
        f"(own memory {full['peak_anon_mb']:.0f} MB, mapped index files {full['peak_file_mb']:.0f} MB at their peaks); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    killed = run(home, db_url, args.backend, fresh=True, kill_at=args.pages // 2)
    assert killed is None, "the second rebuild should have been killed"
    with archive.index() as index:
        checkpoint, indexed = index.read_checkpoint(), index.count()
    print(f"a rebuild in place killed half-way: {indexed} pages searchable, checkpoint after page {checkpoint}")
    resumed = run(home, db_url, args.backend, fresh=False)
    if resumed is None:
        raise SystemExit("the resumed rebuild did not finish (killed: out of memory in the cgroup?)")
    print(
        f"resumed: finished in {resumed['seconds']:.0f} s ({resumed['pages']} pages counted), "
        f"peak RSS {resumed['peak_rss_mb']:.0f} MB (own memory {resumed['peak_anon_mb']:.0f} MB); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    if cgroup:
        print(f"every run finished inside {args.memory_limit:g} GB; the cgroup's peak charge {cgroup.peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
