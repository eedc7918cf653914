"""PostgreSQL full-text backend: the index of shared mode, inside the archive's own database.

No index folder for every station to share and no outbox lag: `feed.index_at_commit`
writes a page's row in the transaction that accessions it. The terms are the analyzer's
(`streams` and `positioned_terms`: the same bigrams, unigrams at their positions and
compound wholes as Whoosh and Tantivy index), handed to PostgreSQL as a ready tsvector,
so PostgreSQL's own parser and dictionaries never see the text. One tsvector per page
holds every field: text terms as they are, other fields' terms behind a field code in
capitals (`N:王`, `ACCT:3401405288`), which no lower-cased text term can start with, so a
prefix query on the text never reaches another field. Queries become one tsquery where
they can (phrases with `<N>` distances, prefixes with `:*`), dates and sorts plain columns.

A bulk load (`add` into an empty table: a rebuild from scratch, a switch of backend) drops
the GIN index of the terms and builds it once at the end: kept up to date row by row it cost
most of the load (README "when to switch"). A load killed before that leaves the index
missing; the next `add` goes on in bulk and builds it at its end (searches meanwhile work,
reading every row).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, create_engine, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ProgrammingError

from dangan.errors import DanganError
from dangan.i18n import _
from dangan.indexing.analyzer import is_cjk, streams
from dangan.indexing.backend import (
    FINGERPRINT_BATCH,
    BackendHit,
    BackendPage,
    IndexNeedsRebuild,
    check_sort,
    current_marker,
)
from dangan.indexing.query import AllQ, AndQ, CharsQ, NothingQ, OrQ, PhraseQ, PrefixQ, RangeQ, TermQ, compile_query
from dangan.indexing.schema import (
    ANALYZED_FIELDS,
    KEYWORD_FIELDS,
    SORT_FIELDS,
    IndexDoc,
    date_key,
    doc_fingerprint,
    keyword_values,
    sort_value,
)

NAME = "postgresql"
LAYOUT = 1
MARKER_KEY = "marker"
CHECKPOINT_KEY = "rebuild_checkpoint"
MAX_LEXEME_BYTES = 2046  # PostgreSQL refuses longer words; only garbage OCR makes them
# The field codes in front of terms; text terms have none (they are most of the tsvector).
FIELD_CODES = {
    "text": "",
    "record_text": "R:",
    "customer_name": "N:",
    "address": "A:",
    "record_key": "RK:",
    "document_id": "D:",
    "account": "ACCT:",
    "business_type": "BT:",
    "business_name": "BN:",
    "doc_type": "DT:",
    "doc_type_name": "DN:",
    "work_order": "WO:",
    "location": "LOC:",
    "qa_status": "QA:",
    "retention": "RET:",
    "personal": "PN:",
}
assert set(FIELD_CODES) == set(ANALYZED_FIELDS) | set(KEYWORD_FIELDS)

# The tables (created by migration 0007; here for queries and for the migration test).
SEARCH_METADATA = MetaData()
SEARCH_PAGE = Table(
    "search_page",
    SEARCH_METADATA,
    Column("page_id", Text, primary_key=True),
    Column("fingerprint", String(32), nullable=False),
    Column("doc", Text, nullable=False),
    Column("day", Integer, index=True),
    Column("sort_account", Text, index=True),
    Column("sort_business", Text, index=True),
    Column("terms", TSVECTOR, nullable=False),
)
SEARCH_STATE = Table(
    "search_state",
    SEARCH_METADATA,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
TERMS_INDEX = "ix_search_page_terms"
Index(TERMS_INDEX, SEARCH_PAGE.c.terms, postgresql_using="gin")
BUILD_MEMORY = "256MB"  # maintenance_work_mem while the terms index is built after a bulk load

ORDER_BY = {
    "relevance": "score DESC, page_id",
    "date": "day DESC NULLS LAST, page_id",
    **{sort: f"sort_{sort} ASC NULLS LAST, page_id" for sort in SORT_FIELDS},
}
OnCommit = Callable[[IndexDoc], None]
# A query matching more pages than this is counted as "more than MATCH_CAP" and ranked among
# the first MATCH_CAP matches found: each costs a position check and a rank, reading its
# tsvector (~25 µs), so a phrase on most pages cost ~250 ms with 10,000 (README "when to switch").
# Kept above indexing.search.MAX_EXACT_HITS (1,000): a user's search still groups the best thousand.
MATCH_CAP = 2_000


class NeedsPostgres(DanganError, ValueError):
    pass


def quote(lexeme: str) -> str:
    if "'" in lexeme or "\\" in lexeme:
        lexeme = lexeme.replace("\\", "\\\\").replace("'", "''")
    return "'" + lexeme + "'"


class _IsCjk(dict):
    def __missing__(self, ch: str) -> bool:
        self[ch] = found = is_cjk(ch)
        return found


_IS_CJK = _IsCjk()


def tsvector(doc: IndexDoc) -> str:
    """Every term of every field of DOC as a tsvector literal (positions count from 1): the
    terms of `positioned_terms`, made here without a Python object per term. A position may
    be given twice; PostgreSQL keeps it once."""
    lexemes: dict[str, list[int]] = {}
    positions_of = lexemes.setdefault
    for field, get in ANALYZED_FIELDS.items():
        value = get(doc)
        if not value:
            continue
        code = FIELD_CODES[field]
        s = streams(value)
        for position, term in enumerate(s.terms.split(), 1):
            positions_of(code + term, []).append(position)
            if len(term) == 2 and _IS_CJK[term[0]]:  # a bigram: its first character here, its second next
                first = positions_of(code + term[0], [])
                if not first or first[-1] != position:
                    first.append(position)
                positions_of(code + term[1], []).append(position + 1)
        for whole in s.compounds.split():
            positions_of(code + whole, [])
    for field in KEYWORD_FIELDS:
        for value in keyword_values(doc, field):
            positions_of(FIELD_CODES[field] + value, [])
    every = " ".join(lexemes)
    plain = "'" not in every and "\\" not in every  # nothing to escape: quote each as it is
    out = []
    for lexeme, positions in lexemes.items():
        if len(lexeme) * 3 > MAX_LEXEME_BYTES and len(lexeme.encode("utf-8")) > MAX_LEXEME_BYTES:
            continue
        quoted = "'" + lexeme + "'" if plain else quote(lexeme)
        out.append(quoted + ":" + ",".join(map(str, positions)) if positions else quoted)
    return " ".join(out)


def row(doc: IndexDoc) -> dict:
    doc_json = doc.to_json()
    return {
        "page_id": doc.page_id,
        "fingerprint": doc_fingerprint(doc, doc_json),
        "doc": doc_json,
        "day": date_key(doc.date),
        "sort_account": sort_value(doc, "account") or None,
        "sort_business": sort_value(doc, "business") or None,
        "terms": tsvector(doc),
    }


UPSERT = text(
    "INSERT INTO search_page (page_id, fingerprint, doc, day, sort_account, sort_business, terms) "
    "VALUES (:page_id, :fingerprint, :doc, :day, :sort_account, :sort_business, CAST(:terms AS tsvector)) "
    "ON CONFLICT (page_id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, doc = EXCLUDED.doc, "
    "day = EXCLUDED.day, sort_account = EXCLUDED.sort_account, sort_business = EXCLUDED.sort_business, "
    "terms = EXCLUDED.terms"
)


def write(conn: Connection, docs: Iterable[IndexDoc], gone: Iterable[str] = ()) -> int:
    """Upsert DOCS and delete the pages GONE in the caller's transaction; returns pages written."""
    gone = list(gone)
    if gone:
        conn.execute(text("DELETE FROM search_page WHERE page_id = ANY(:ids)"), {"ids": gone})
    rows = {d.page_id: row(d) for d in docs}  # the last version of a page wins
    if rows:
        conn.execute(UPSERT, list(rows.values()))
    return len(rows)


# --- queries -----------------------------------------------------------------------


def _lexeme(field: str, term: str) -> str:
    return quote(FIELD_CODES[field] + term)


def _phrase(field: str, terms: tuple) -> str:
    out, previous = [], None
    for term, offset in terms:
        if previous is not None:
            out.append(f"<{offset - previous}>")
        out.append(_lexeme(field, term))
        previous = offset
    return "(" + " ".join(out) + ")" if len(terms) > 1 else out[0]


class _Compiler:
    """Compiled index query -> SQL condition over search_page, with its parameters."""

    def __init__(self):
        self.params: dict[str, object] = {}

    def param(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def tsquery(self, q) -> str | None:
        """Q as one tsquery, or None when it needs SQL (dates, everything, nothing)."""
        if isinstance(q, TermQ):
            return _lexeme(q.field, q.term)
        if isinstance(q, PrefixQ):
            return _lexeme(q.field, q.prefix) + ":*"
        if isinstance(q, PhraseQ):
            return _phrase(q.field, q.terms)
        if isinstance(q, CharsQ):  # unigrams stand at token positions, as in Whoosh
            return _phrase(q.field, q.chars)
        if isinstance(q, AndQ):
            must = [self.tsquery(m) for m in q.must if not isinstance(m, AllQ)]
            must_not = [self.tsquery(m) for m in q.must_not]
            parts = must + [f"!{m}" for m in must_not if m is not None]
            if None in must or None in must_not or not parts:
                return None
            return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"
        if isinstance(q, OrQ):
            parts = [self.tsquery(s) for s in q.should]
            return None if None in parts else "(" + " | ".join(parts) + ")"
        return None

    def matches(self, tsquery: str) -> str:
        return f"terms @@ CAST({self.param(tsquery)} AS tsquery)"

    def condition(self, q) -> str:
        ts = self.tsquery(q)
        if ts is not None:
            return self.matches(ts)
        if isinstance(q, RangeQ):
            parts = ["day IS NOT NULL"]  # never NULL: an excluded range keeps undated pages
            if q.low is not None:
                parts.append(f"day >= {self.param(q.low)}")
            if q.high is not None:
                parts.append(f"day <= {self.param(q.high)}")
            return "(" + " AND ".join(parts) + ")"
        if isinstance(q, AndQ):
            # everything a tsquery can say in ONE match (one GIN scan), the rest beside it
            ts_parts, sql_parts = [], []
            for m in q.must:
                if isinstance(m, AllQ):
                    continue
                t = self.tsquery(m)
                ts_parts.append(t) if t is not None else sql_parts.append(self.condition(m))
            for m in q.must_not:
                t = self.tsquery(m)
                ts_parts.append(f"!{t}") if t is not None else sql_parts.append(f"NOT {self.condition(m)}")
            if ts_parts:
                sql_parts.insert(0, self.matches(" & ".join(ts_parts)))
            return "(" + " AND ".join(sql_parts) + ")" if sql_parts else "TRUE"
        if isinstance(q, OrQ):
            return "(" + " OR ".join(self.condition(s) for s in q.should) + ")"
        if isinstance(q, AllQ):
            return "TRUE"
        if isinstance(q, NothingQ):
            return "FALSE"
        raise TypeError(f"cannot run {q!r} on PostgreSQL")

    def rank_query(self, q) -> str | None:
        """The positive terms of Q, for ts_rank."""
        ts = self.tsquery(q)
        if ts is not None and not ts.startswith("!"):
            return ts
        if isinstance(q, (AndQ, OrQ)):
            parts = [self.rank_query(m) for m in (q.must if isinstance(q, AndQ) else q.should)]
            parts = [p for p in parts if p]
            return " | ".join(parts) if parts else None
        return None


class PostgresBackend:
    name = NAME

    def __init__(self, database: str | Engine, *, path: Path | None = None):
        if isinstance(database, str):
            if not database.startswith("postgresql"):
                raise NeedsPostgres(
                    _(
                        "the postgresql search backend keeps its index in a PostgreSQL database, and this archive's "
                        "database is {url}: use --backend tantivy, or --db postgresql+psycopg://…"
                    ).format(url=database.split("://")[0])
                )
            self.engine, self._owned = create_engine(database, pool_pre_ping=True), True
        else:
            self.engine, self._owned = database, False
        self.path = path  # unused: nothing of this index lives in a folder
        with self.engine.begin() as conn:
            try:
                empty = conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM search_page)")).scalar()
                marker = self._state(conn, MARKER_KEY)
            except ProgrammingError:
                raise DanganError(
                    _("the database has no search tables yet: run `dangan init` to upgrade its schema")
                ) from None
            if marker is None and empty:
                self._set_state(conn, MARKER_KEY, _marker())

    # --- state: versions and the rebuild checkpoint --------------------------------
    @staticmethod
    def _state(conn: Connection, key: str) -> str | None:
        return conn.execute(text("SELECT value FROM search_state WHERE key = :k"), {"k": key}).scalar()

    @staticmethod
    def _set_state(conn: Connection, key: str, value: str | None) -> None:
        if value is None:
            conn.execute(text("DELETE FROM search_state WHERE key = :k"), {"k": key})
        else:
            conn.execute(
                text(
                    "INSERT INTO search_state (key, value) VALUES (:k, :v) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                ),
                {"k": key, "v": value},
            )

    def read_checkpoint(self) -> int | None:
        with self.engine.connect() as conn:
            value = self._state(conn, CHECKPOINT_KEY)
        return int(value) if value else None

    def write_checkpoint(self, after_page_id: int | None) -> None:
        with self.engine.begin() as conn:
            self._set_state(conn, CHECKPOINT_KEY, None if after_page_id is None else str(after_page_id))

    # --- lifecycle -----------------------------------------------------------------
    def needs_rebuild(self) -> bool:
        with self.engine.connect() as conn:
            return self._state(conn, MARKER_KEY) != _marker()

    def _check(self) -> None:
        if self.needs_rebuild():
            raise IndexNeedsRebuild(
                _(
                    "the search index in the database was built by another version of dangan: "
                    "rebuild it (dangan index rebuild)"
                )
            )

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("TRUNCATE search_page"))
            self._set_state(conn, CHECKPOINT_KEY, None)
            self._set_state(conn, MARKER_KEY, _marker())

    def close(self) -> None:
        if self._owned:
            self.engine.dispose()

    # --- writing -------------------------------------------------------------------
    def add(self, docs: Iterable[IndexDoc], *, batch_size: int = 1000, on_commit: OnCommit | None = None) -> int:
        self._check()
        bulk = self._start_bulk()
        written, batch = 0, []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                written += self._commit(batch, on_commit)
                batch = []
        if batch:
            written += self._commit(batch, on_commit)
        if bulk:
            self._build_terms_index()
        return written

    def _start_bulk(self) -> bool:
        """Into an empty table, or after a bulk load that did not finish: without the terms
        index until the end (module docstring). True when this load is a bulk load."""
        with self.engine.begin() as conn:
            if conn.execute(text("SELECT to_regclass(:name) IS NULL"), {"name": TERMS_INDEX}).scalar():
                return True
            if conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM search_page)")).scalar():
                conn.execute(text(f"DROP INDEX IF EXISTS {TERMS_INDEX}"))
                return True
        return False

    def _build_terms_index(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'"))
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {TERMS_INDEX} ON search_page USING gin (terms)"))

    def _commit(self, batch: list[IndexDoc], on_commit: OnCommit | None) -> int:
        with self.engine.begin() as conn:
            n = write(conn, batch)
        if on_commit:
            on_commit(batch[-1])
        return n

    def write_in(self, conn: Connection, docs: Iterable[IndexDoc], gone: Iterable[str] = ()) -> int:
        """Write in the caller's transaction (feed.index_at_commit)."""
        return write(conn, docs, gone)

    def delete(self, page_ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(page_ids))
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return conn.execute(text("DELETE FROM search_page WHERE page_id = ANY(:ids)"), {"ids": ids}).rowcount

    # --- reading -------------------------------------------------------------------
    def search(self, query, *, limit: int = 20, offset: int = 0, sort: str = "relevance") -> BackendPage:
        check_sort(sort)
        self._check()
        compiled = compile_query(query) if isinstance(query, str) else query
        c = _Compiler()
        where = c.condition(compiled)
        rank = c.rank_query(compiled) if sort == "relevance" else None
        score = f"ts_rank(terms, CAST({c.param(rank)} AS tsquery))" if rank else "0.0"
        window = f"LIMIT {c.param(max(limit, 0))} OFFSET {c.param(max(offset, 0))}"
        cap = c.param(MATCH_CAP + 1)
        count = f"SELECT count(*) FROM (SELECT 1 FROM search_page WHERE {where} LIMIT {cap}) AS matches"
        with self.engine.connect() as conn:
            if sort == "relevance":
                # ranking reads every match: bounded to the first MATCH_CAP found, counted in the same pass
                # and only the window's pages read whole
                rows = conn.execute(
                    text(
                        f"WITH matches AS MATERIALIZED (SELECT page_id, terms FROM search_page "
                        f"WHERE {where} LIMIT {cap}), "
                        f"ranked AS (SELECT page_id, {score} AS score, count(*) OVER () AS total FROM matches "
                        f"ORDER BY {ORDER_BY[sort]} {window}) "
                        f"SELECT page_id, doc, score, total FROM ranked JOIN search_page USING (page_id) "
                        f"ORDER BY {ORDER_BY[sort]}"
                    ),
                    c.params,
                ).all()
                total = rows[0].total if rows else (conn.execute(text(count), c.params).scalar() if offset else 0)
            else:
                # the sort key's index finds the first pages in order, however many match
                total = conn.execute(text(count), c.params).scalar()
                rows = conn.execute(
                    text(
                        f"SELECT page_id, doc, 0.0 AS score FROM search_page WHERE {where} "
                        f"ORDER BY {ORDER_BY[sort]} {window}"
                    ),
                    c.params,
                ).all()
        hits = [BackendHit.of(r.page_id, float(r.score), IndexDoc.from_json(r.doc)) for r in rows]
        if total > MATCH_CAP:
            return BackendPage(MATCH_CAP, hits, total_exact=False)
        return BackendPage(total, hits)

    def fingerprints(self) -> Iterator[list[tuple[str, str]]]:
        with self.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True).execute(
                text("SELECT page_id, fingerprint FROM search_page")
            )
            for batch in rows.partitions(FINGERPRINT_BATCH):
                yield [(r.page_id, r.fingerprint) for r in batch]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM search_page")).scalar()


def _marker() -> str:
    return json.dumps(current_marker(NAME, LAYOUT), sort_keys=True)
