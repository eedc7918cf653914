"""Broad queries as staff run them (`dangan search`, the web): `search()` with grouping by
record, snippets and the tolerant pass, on an index that exists already — the one
bench/rebuild.py built from an archive database, or one bench/search.py --keep left.

    .venv/bin/python bench/user_search.py /tmp/rb1m/index/tantivy
    .venv/bin/python bench/user_search.py postgresql+psycopg://dangan:dangan@127.0.0.1:55433/bench

Prints, per query, the pages found and the median and slowest of REPEAT runs; then p50/p95
over all, beside the backend's own first 20 hits for the same queries (the baseline: what
grouping, decoding and snippets add).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from dangan.indexing.backends import open_backend
from dangan.indexing.search import search

QUERIES = ["供用电合同", "暂停 用电", "变压器 封停", "计量装置", "电费 结清", "王", "申请书", "用电 地址"]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index", help="a Tantivy index folder, or a PostgreSQL URL")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    if args.index.startswith("postgresql"):
        index = open_backend(None, "postgresql", database=args.index)
    else:
        index = open_backend(Path(args.index), "tantivy")
    print(f"{index.name}, {index.count()} pages")
    search(index, "预热")  # open files, warm caches
    users, baseline = [], []
    for query in QUERIES:
        times = [timed(lambda q=query: search(index, q)) for _ in range(args.repeat)]
        baseline += [timed(lambda q=query: index.search(q, limit=20)) for _ in range(args.repeat)]
        users += times
        found = search(index, query)
        more = "" if found.total_exact else "+"
        print(
            f"{query:<8}\t{found.total_hits:>8}{more:1} pages, {found.total_groups:>4} records grouped\t"
            f"median {statistics.median(times):6.1f} ms, slowest {max(times):6.1f} ms"
        )
    print(
        f"search() as users run it: p50 {percentile(users, 0.5):.1f} ms, p95 {percentile(users, 0.95):.1f} ms; "
        f"the backend's first 20 hits: p50 {percentile(baseline, 0.5):.1f} ms, p95 {percentile(baseline, 0.95):.1f} ms "
        f"(x{percentile(users, 0.95) / percentile(baseline, 0.95):.1f} at p95)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
