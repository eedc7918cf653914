"""Does the RUM index (Debian's postgresql-15-rum) help the PostgreSQL search backend?

    .venv/bin/python bench/search.py --sizes 100000 --backends postgresql --keep --db URL
    .venv/bin/python bench/pg_rum.py --size 100000 --db URL

On the index an earlier `bench/search.py --keep` run left in database URL (SIZE pages of its
corpus), times the same queries three ways, in one run: the GIN index as migration 0007 makes
it (the baseline); a RUM index (rum_tsvector_ops) in its place, queries unchanged (RUM keeps
term positions, so a phrase needs no recheck of the row); and RUM ordering by its own distance
(`terms <=> query`), which ranks every match inside the index instead of the first 10,000
found. Prints index build time and size, p50/p95 per kind of query, the hits each way has in
common with the baseline's first 20, and ratios against GIN. Leaves the GIN index as it found it.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path

from sqlalchemy import text

from dangan.indexing.backend import BackendHit, BackendPage
from dangan.indexing.backends import open_backend
from dangan.indexing.pg_backend import MATCH_CAP, PostgresBackend, _Compiler
from dangan.indexing.query import compile_query
from dangan.indexing.schema import IndexDoc
from dangan.indexing.search import search

_spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).with_name("search.py"))
bench_search = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_search)


class RumOrdered(PostgresBackend):
    """Relevance as RUM's distance, every match ranked inside the index (no MATCH_CAP window)."""

    def search(self, query, *, limit=20, offset=0, sort="relevance"):
        if sort != "relevance":
            return super().search(query, limit=limit, offset=offset, sort=sort)
        compiled = compile_query(query) if isinstance(query, str) else query
        c = _Compiler()
        where = c.condition(compiled)
        rank = c.rank_query(compiled)
        if not rank:
            return super().search(query, limit=limit, offset=offset, sort=sort)
        q = c.param(rank)
        cap = c.param(MATCH_CAP + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    f"SELECT page_id, doc, terms <=> CAST({q} AS tsquery) AS distance FROM search_page "
                    f"WHERE {where} ORDER BY terms <=> CAST({q} AS tsquery), page_id "
                    f"LIMIT {c.param(limit)} OFFSET {c.param(offset)}"
                ),
                c.params,
            ).all()
            total = conn.execute(
                text(f"SELECT count(*) FROM (SELECT 1 FROM search_page WHERE {where} LIMIT {cap}) AS m"), c.params
            ).scalar()
        hits = [BackendHit.of(r.page_id, 1.0 / (1.0 + float(r.distance)), IndexDoc.from_json(r.doc)) for r in rows]
        return BackendPage(min(total, MATCH_CAP), hits, total_exact=total <= MATCH_CAP)


def timings(index, queries, phrases) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for kind, qs in queries.items():
        out[kind] = []
        for q, sort in qs:
            t = time.perf_counter()
            index.search(q, limit=20, sort=sort)
            out[kind].append(time.perf_counter() - t)
    out["tolerant"] = []
    for phrase in phrases:
        t = time.perf_counter()
        search(index, phrase, per_page=100)
        out["tolerant"].append(time.perf_counter() - t)
    return out


def first_hits(index, queries) -> list[set[str]]:
    return [{h.page_id for h in index.search(q, limit=20, sort=s).hits} for q, s in queries["plain"]]


def ddl(engine, statement: str) -> float:
    t = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(statement))
    return time.perf_counter() - t


def index_mb(engine, name: str) -> float:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT pg_relation_size('{name}')")).scalar() / 2**20


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, required=True, help="pages bench/search.py --keep left in --db")
    parser.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    corpus = bench_search.Corpus(args.size)
    for _page in corpus:  # the truth (planted phrases, sampled 户号) the queries are made from
        pass
    queries = bench_search.make_queries(corpus, random.Random(bench_search.SEED + 1))
    phrases = list(corpus.exact)
    gin = open_backend(None, "postgresql", database=args.db)
    engine = gin.engine
    if gin.count() != args.size:
        raise SystemExit(
            f"the index in {args.db} holds {gin.count()} pages, not {args.size}: run bench/search.py --keep"
        )
    gin.search("预热")
    rows, baseline = {}, first_hits(gin, queries)
    rows["gin"] = (0.0, index_mb(engine, "ix_search_page_terms"), timings(gin, queries, phrases), 1.0)
    ddl(engine, "CREATE EXTENSION IF NOT EXISTS rum")
    built = ddl(engine, "CREATE INDEX ix_search_page_rum ON search_page USING rum (terms rum_tsvector_ops)")
    try:
        ddl(engine, "DROP INDEX ix_search_page_terms")
        ddl(engine, "ANALYZE search_page")
        rum_mb = index_mb(engine, "ix_search_page_rum")
        for name, index in (("rum", gin), ("rum ordered", RumOrdered(engine))):
            index.search("预热")
            same = [len(a & b) / max(1, len(a)) for a, b in zip(baseline, first_hits(index, queries))]
            rows[name] = (built, rum_mb, timings(index, queries, phrases), sum(same) / len(same))
    finally:
        ddl(engine, "DROP INDEX IF EXISTS ix_search_page_rum")
        gin_s = ddl(engine, "CREATE INDEX IF NOT EXISTS ix_search_page_terms ON search_page USING gin (terms)")
        ddl(engine, "ANALYZE search_page")
    rows["gin"] = (gin_s, *rows["gin"][1:])
    pct = bench_search.percentile
    print(f"{args.size} pages; {len(phrases)} tolerant phrases; index build: GIN {gin_s:.0f} s, RUM {built:.0f} s")
    head = ("MB", "p50 plain", "p95 plain", "p95 filter", "p95 tolerant")
    print(f"{'index':>12} " + " ".join(f"{h:>{w}}" for h, w in zip(head, (6, 10, 10, 11, 13))) + " same top-20")
    for name, (_s, mb, t, same) in rows.items():
        print(
            f"{name:>12} {mb:6.0f} {1000 * pct(t['plain'], 0.5):10.1f} {1000 * pct(t['plain'], 0.95):10.1f} "
            f"{1000 * pct(t['filtered'], 0.95):11.1f} {1000 * pct(t['tolerant'], 0.95):13.1f} {same:.2f}"
        )
    base = rows["gin"][2]
    for name in ("rum", "rum ordered"):
        t = rows[name][2]
        ratios = ", ".join(
            f"p95 {k} x{pct(t[k], 0.95) / pct(base[k], 0.95):.2f}" for k in ("plain", "filtered", "tolerant")
        )
        print(f"{name}/gin: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
