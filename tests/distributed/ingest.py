"""A scanning station in shared mode, as a process of its own: scan PATHS through the queue,
then drain the index outbox under the one index writer. Writes the report as JSON.

    python -m tests.distributed.ingest --out report.json --index DIR [--as NAME] PATH…
(database, store and broker from DANGAN_DB, DANGAN_HOME and DANGAN_BROKER)"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from dangan.archive.db import Database
from dangan.archive.home import DataHome
from dangan.archive.store import FileStore
from dangan.indexing import feed
from dangan.indexing.backends import open_backend
from dangan.scanning.batch import ScanOptions, scan
from dangan.scanning.distributed import QueueRunner


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--index", required=True)
    ap.add_argument("--as", dest="actor", default="station")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    home = DataHome.resolve()
    db = Database(home.db_url)
    runner = QueueRunner(db)
    report = scan(args.paths, db, FileStore(home.store_dir), ScanOptions(actor=args.actor, jobs=1), runner=runner)
    backend = open_backend(args.index)
    indexed = feed.sync(db, backend)
    backend.close()
    with open(args.out, "w") as f:
        json.dump(
            {
                "pages": report.pages,
                "indexed": indexed,
                "published": runner.published,
                "reused": runner.reused,
                "folders": [asdict(r) for r in report.folders],
            },
            f,
        )
    db.dispose()


if __name__ == "__main__":
    main()
