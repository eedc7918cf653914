"""Import speed and memory: does importing a large case export run in constant memory?

    .venv/bin/python bench/import_rows.py                 # 10k rows, then 100k rows
    .venv/bin/python bench/import_rows.py --rows 500000   # the size of a provincial export

Generates a GBK CSV of N work orders (SG186-style headers; ~1% bad rows), imports 10k rows
into a fresh SQLite archive, then N rows into another, each in a child process, and prints
rows/s and the child's peak RSS. The peak must not grow with N (batches are committed and
let go; bad rows are counted, only the first 1000 are kept for the report).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "工单编号",
    "户号",
    "户名",
    "用电地址",
    "电压等级",
    "用电类别",
    "业务类型",
    "受理部门",
    "受理日期",
    "勘查日期",
    "方案答复日期",
    "封停日期",
    "计划恢复日期",
    "归档日期",
    "原户名",
    "新户名",
]
DEPTS = ["城东营业厅", "城西营业厅", "城南营业厅", "城北营业厅", "大客户中心"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    start = date(2024, 1, 2)
    with open(path, "w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            accepted = start + timedelta(days=rnd.randrange(500))
            wo = f"{accepted:%Y%m%d}{i + 1:08d}"
            account = f"34{rnd.randrange(10**8):08d}"
            kind = rnd.random()
            base = [wo, account, f"客户{i}", f"中山路{i % 999}号"]
            if kind < 0.6:
                row = base + [
                    "交流220V",
                    "居民生活用电",
                    "低压居民新装",
                    rnd.choice(DEPTS),
                    accepted,
                    accepted + timedelta(days=2),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            elif kind < 0.9:
                row = base + [
                    "交流10kV",
                    "大工业用电",
                    "暂停",
                    rnd.choice(DEPTS),
                    accepted,
                    "",
                    "",
                    accepted + timedelta(days=3),
                    accepted + timedelta(days=60),
                    "",
                    "",
                    "",
                ]
            else:
                row = base + [
                    "交流380V",
                    "一般工商业",
                    "更名",
                    rnd.choice(DEPTS),
                    accepted,
                    "",
                    "",
                    "",
                    "",
                    accepted + timedelta(days=5),
                    f"客户{i}",
                    f"新客户{i}",
                ]
            if rnd.random() < 0.01:
                row[rnd.choice([0, 1, 6, 8])] = rnd.choice(["12345", "外星业务", "2024-13-40", "abc"])
            w.writerow(row)


CHILD = r"""
import json, resource, sys
from datetime import date
from dangan.archive.db import Database, upgrade
from dangan.archive.business.imports import ImportOptions, import_cases
from dangan.archive.business.scheme import load_scheme
url = "sqlite:///" + sys.argv[2]
upgrade(url)
db = Database(url)
r = import_cases(db, sys.argv[1], load_scheme(), ImportOptions(today=date(2026, 1, 1), link_records=False))
print(json.dumps({"rows": r.rows, "inserted": r.inserted, "rejected": r.rejected, "seconds": r.seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(rows: int, tmp: Path) -> dict:
    csv_path = tmp / f"cases-{rows}.csv"
    generate(csv_path, rows)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(csv_path), str(tmp / f"bench-{rows}.sqlite3"), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000, help="rows of the large export [default: 100000]")
    ap.add_argument("--small", type=int, default=10_000, help="rows of the baseline export [default: 10000]")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        small, large = run(args.small, tmp), run(args.rows, tmp)
    for r in (small, large):
        print(
            f"{r['rows']:>8} rows: {r['inserted']:>8} imported, {r['rejected']:>5} rejected, "
            f"{r['seconds']:7.1f} s, {r['rows'] / r['seconds']:8,.0f} rows/s, peak RSS {r['peak_rss_mb']:6.1f} MB"
        )
    growth = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(
        f"peak RSS ratio {args.rows // 1000}k/{args.small // 1000}k rows: {growth:.2f} "
        f"({'constant' if growth < 1.25 else 'GROWS WITH THE FILE'})"
    )
    sys.exit(0 if growth < 1.25 else 1)


if __name__ == "__main__":
    main()
