"""Tantivy backend (tantivy-py), the embedded default: at a million pages it indexes over
1,000 pages/s and answers in milliseconds (bench/search.py; README "when to switch").

The terms are the analyzer's, but Tantivy tokenises them in Rust: Python hands each
analysed field over as `analyzer.streams` (a few C-speed string operations per page, no
Python object per term) and three Tantivy fields hold them:

    FIELD            the positioned terms, split on whitespace: phrase queries and terms
                     mean exactly what they mean in Whoosh (same terms, same positions)
    FIELD_chars      every CJK or alnum character, by a regex tokenizer: one-character
                     queries (王) and the tolerant pass's "c0 ? c2" (CharsQ)
    FIELD_compounds  compound wholes (gd01-kh-2024-0001239), for prefix queries

Tantivy's own n-gram tokenizer cannot be used: it gives every n-gram position 0, so no
phrase could be matched (measured with tantivy 0.27).

A broad phrase or conjunction ranked by relevance is ranked in a sample: every page falls in one of SLOTS
slots (a hash of its id), and in an index of more than 2 x SAMPLE_PAGES pages the query is
first run on the first slots holding about SAMPLE_PAGES pages. When they hold enough
matches for the window asked for, those are the answer, counted as "more than" the matches
in the sample (total_exact false, as PostgreSQL bounds a broad query); else the whole index
is searched. A phrase on most pages (供用电合同) costs a position check on every page that
holds its bigrams: at a million pages that was 100-300 ms, in the sample a few ms. Sorts
by date, 户号 or business type are always over every match (the order must be exact).
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

import tantivy
from tantivy import Occur, Order, Query, TextAnalyzerBuilder, Tokenizer

from dangan.indexing.analyzer import _CJK_CLASS, COMPOUND_JOINER, is_cjk, streams
from dangan.indexing.backend import (
    BackendHit,
    BackendPage,
    FolderCheckpoint,
    HitPlace,
    check_sort,
    current_index,
    is_empty_dir,
    marker_is_current,
    wipe_index_dir,
    write_marker,
)
from dangan.indexing.lock import WaitCallback, WriterLock
from dangan.indexing.query import (
    AllQ,
    AndQ,
    CharsQ,
    NothingQ,
    OrQ,
    PhraseQ,
    PrefixQ,
    RangeQ,
    TermQ,
    compile_query,
)
from dangan.indexing.schema import (
    ANALYZED_FIELDS,
    DATE_FIELD,
    FINGERPRINT_FIELD,
    ID_FIELD,
    KEYWORD_FIELDS,
    SORT_FIELDS,
    STORED_DOC_FIELD,
    IndexDoc,
    date_key,
    doc_fingerprint,
    keyword_values,
    sort_value,
)

NAME = "tantivy"
# The layout of Tantivy fields below; bump with any change (the marker then asks for a rebuild).
LAYOUT = 4  # 3: the sample slot; 4: the hit place
# Two indexing threads: Python prepares pages while Rust indexes; more cores would not be used.
WRITER_THREADS = max(1, min(2, os.cpu_count() or 1))
WRITER_HEAP = 96_000_000 * WRITER_THREADS  # Tantivy flushes a segment when a thread's share is full
TERMS_TOKENIZER = "dangan_terms"
CHARS_TOKENIZER = "dangan_chars"
CHARS_SUFFIX = "_chars"
COMPOUNDS_SUFFIX = "_compounds"
SORT_PREFIX = "sort_"
SLOT_FIELD = "slot"
PLACE_FIELD = "place"  # HitPlace: a hit grouped without decoding its stored page
SLOTS = 256  # a page's slot: a hash of its id, 0..SLOTS-1
SAMPLE_PAGES = 20_000  # pages a broad relevance query is first ranked in (module docstring)
_REGEX_SPECIAL = set(r"\.+*?()|[]{}^$#&-~\"<>@")
OnCommit = Callable[[IndexDoc], None]


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field(ID_FIELD, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field(FINGERPRINT_FIELD, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field(STORED_DOC_FIELD, stored=True, indexed=False)
    sb.add_bytes_field(PLACE_FIELD, stored=True, indexed=False)
    sb.add_integer_field(DATE_FIELD, indexed=True, fast=True)
    sb.add_integer_field(SLOT_FIELD, indexed=True)
    for name in SORT_FIELDS:
        sb.add_text_field(SORT_PREFIX + name, tokenizer_name="raw", index_option="basic", fast=True)
    for name in ANALYZED_FIELDS:
        sb.add_text_field(name, tokenizer_name=TERMS_TOKENIZER, index_option="position")
        sb.add_text_field(name + CHARS_SUFFIX, tokenizer_name=CHARS_TOKENIZER, index_option="position")
        sb.add_text_field(name + COMPOUNDS_SUFFIX, tokenizer_name=TERMS_TOKENIZER, index_option="basic")
    for name in KEYWORD_FIELDS:
        sb.add_text_field(name, tokenizer_name="raw", index_option="freq")
    return sb.build()


def register_tokenizers(ix: tantivy.Index) -> None:
    """Tokenizers are not stored in the index: every opened index needs them again."""
    ix.register_tokenizer(TERMS_TOKENIZER, TextAnalyzerBuilder(Tokenizer.whitespace()).build())
    # the analyzer's token characters: its CJK ranges, letters and digits (text comes normalised)
    chars = TextAnalyzerBuilder(Tokenizer.regex(f"[{_CJK_CLASS}]|[\\p{{L}}\\p{{N}}]")).build()
    ix.register_tokenizer(CHARS_TOKENIZER, chars)


def to_document(doc: IndexDoc) -> tantivy.Document:
    out = tantivy.Document()
    json_doc = doc.to_json()
    out.add_text(ID_FIELD, doc.page_id)
    out.add_integer(SLOT_FIELD, slot_of(doc.page_id))
    out.add_text(FINGERPRINT_FIELD, doc_fingerprint(doc, json_doc))
    out.add_bytes(STORED_DOC_FIELD, json_doc.encode("utf-8"))
    out.add_bytes(PLACE_FIELD, HitPlace.of(doc).to_stored().encode("utf-8"))
    for name, get in ANALYZED_FIELDS.items():
        value = get(doc)
        if value:
            s = streams(value)
            out.add_text(name, s.terms)
            out.add_text(name + CHARS_SUFFIX, s.normalized)
            if s.compounds:
                out.add_text(name + COMPOUNDS_SUFFIX, s.compounds)
    for name in KEYWORD_FIELDS:
        for value in keyword_values(doc, name):
            out.add_text(name, value)
    for name in SORT_FIELDS:
        value = sort_value(doc, name)
        if value:
            out.add_text(SORT_PREFIX + name, value)
    if doc.date:
        out.add_integer(DATE_FIELD, date_key(doc.date))
    return out


def _stored_page(stored: tantivy.Document) -> IndexDoc:
    return IndexDoc.from_json(stored.get_first(STORED_DOC_FIELD).decode())


def slot_of(page_id: str) -> int:
    return zlib.crc32(page_id.encode("utf-8")) % SLOTS


def sample_slots(num_docs: int) -> int:
    """How many slots hold about SAMPLE_PAGES of NUM_DOCS pages; 0: search every page."""
    if num_docs <= 2 * SAMPLE_PAGES:
        return 0
    return min(SLOTS, math.ceil(SLOTS * SAMPLE_PAGES / num_docs))


def worth_sampling(q) -> bool:
    """Does Q check positions (a phrase) or intersect several clauses, whose cost grows with every
    page that matches? One term or prefix is counted from its postings, fast at any size, and
    its count stays exact."""
    if isinstance(q, (PhraseQ, CharsQ)):
        return True
    if isinstance(q, AndQ):
        return len(q.must) > 1 or any(worth_sampling(m) for m in q.must)
    if isinstance(q, OrQ):
        return any(worth_sampling(m) for m in q.should)
    return False


def in_sample(compiled, schema, slots: int) -> Query:
    """COMPILED restricted to the pages of the first SLOTS slots (its own clauses and the
    slots in one boolean query: Tantivy then leads the intersection with the smallest)."""
    ours = [(Occur.Must, Query.term_query(schema, SLOT_FIELD, slot)) for slot in range(slots)]
    slot_clause = ours[0] if slots == 1 else (Occur.Must, Query.boolean_query([(Occur.Should, q) for _, q in ours]))
    if isinstance(compiled, AndQ):
        clauses = [(Occur.Must, to_tantivy(m, schema)) for m in compiled.must]
        clauses += [(Occur.MustNot, to_tantivy(m, schema)) for m in compiled.must_not]
    else:
        clauses = [(Occur.Must, to_tantivy(compiled, schema))]
    return Query.boolean_query([*clauses, slot_clause])


def regex_escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


def _prefix(schema, field: str, prefix: str) -> Query:
    return Query.regex_query(schema, field, regex_escape(prefix) + ".*")


def _analyzed_prefix(schema, field: str, prefix: str) -> Query:
    """A prefix over an analysed field: compound wholes hold every term with a connector;
    any other prefix of a compound is also a prefix of its first part, in FIELD."""
    if COMPOUND_JOINER in prefix:
        return _prefix(schema, field + COMPOUNDS_SUFFIX, prefix)
    if len(prefix) == 1 and is_cjk(prefix):  # 王*: also where 王 ends a CJK run
        return Query.boolean_query(
            [
                (Occur.Should, _prefix(schema, field, prefix)),
                (Occur.Should, _term(schema, field + CHARS_SUFFIX, prefix)),
            ]
        )
    return _prefix(schema, field, prefix)


def _term(schema, field: str, term: str) -> Query:
    return Query.term_query(schema, field, term, index_option="freq")


def _phrase(schema, field: str, terms: tuple) -> Query:
    if len(terms) == 1:
        return _term(schema, field, terms[0][0])
    return Query.phrase_query(schema, field, [(offset, term) for term, offset in terms])


def to_tantivy(q, schema) -> Query:
    """Compiled index query -> Tantivy query."""
    analyzed = getattr(q, "field", None) in ANALYZED_FIELDS
    if isinstance(q, TermQ):
        if analyzed and len(q.term) == 1 and is_cjk(q.term):
            return _term(schema, q.field + CHARS_SUFFIX, q.term)  # every occurrence, not only lone ones
        return _term(schema, q.field, q.term)
    if isinstance(q, PrefixQ):
        return _analyzed_prefix(schema, q.field, q.prefix) if analyzed else _prefix(schema, q.field, q.prefix)
    if isinstance(q, PhraseQ):
        return _phrase(schema, q.field, q.terms)
    if isinstance(q, CharsQ):
        return _phrase(schema, q.field + CHARS_SUFFIX, q.chars)
    if isinstance(q, RangeQ):
        return Query.range_query(schema, q.field, tantivy.FieldType.Integer, q.low, q.high, True, True)
    if isinstance(q, AndQ):
        clauses = [(Occur.Must, to_tantivy(m, schema)) for m in q.must]
        clauses += [(Occur.MustNot, to_tantivy(m, schema)) for m in q.must_not]
        return clauses[0][1] if len(clauses) == 1 else Query.boolean_query(clauses)
    if isinstance(q, OrQ):
        return Query.boolean_query([(Occur.Should, to_tantivy(s, schema)) for s in q.should])
    if isinstance(q, AllQ):
        return Query.all_query()
    if isinstance(q, NothingQ):
        return Query.empty_query()
    raise TypeError(f"cannot run {q!r} on Tantivy")


class TantivyBackend(FolderCheckpoint):
    name = NAME

    def __init__(self, path: Path, *, on_wait: WaitCallback | None = None, lock_timeout: float | None = None):
        self.path = path
        self.on_wait = on_wait
        self.lock_timeout = lock_timeout
        self._ix: tantivy.Index | None = None
        path.mkdir(parents=True, exist_ok=True)
        if is_empty_dir(path):
            with self._lock():
                if is_empty_dir(path):
                    self._create()
        if self._ix is None and marker_is_current(path, NAME, LAYOUT):
            self._ix = tantivy.Index.open(str(path))
            register_tokenizers(self._ix)

    # --- lifecycle ---------------------------------------------------------
    def _lock(self) -> WriterLock:
        return WriterLock(self.path, on_wait=self.on_wait, timeout=self.lock_timeout)

    def _create(self) -> None:
        self._ix = tantivy.Index(build_schema(), path=str(self.path))
        register_tokenizers(self._ix)
        write_marker(self.path, NAME, LAYOUT)

    def _index(self) -> tantivy.Index:
        return current_index(self._ix, self.path, NAME, LAYOUT)

    def needs_rebuild(self) -> bool:
        return not marker_is_current(self.path, NAME, LAYOUT)

    def close(self) -> None:
        self._ix = None

    def clear(self) -> None:
        with self._lock():
            self._ix = None
            wipe_index_dir(self.path)
            self._create()

    # --- writing -------------------------------------------------------------
    def _writer(self, ix: tantivy.Index):
        return ix.writer(heap_size=WRITER_HEAP, num_threads=WRITER_THREADS)

    @staticmethod
    def _release(writer) -> None:
        # consumes the writer: Tantivy's own writer lock is released before ours
        writer.wait_merging_threads()

    def add(self, docs: Iterable[IndexDoc], *, batch_size: int = 1000, on_commit: OnCommit | None = None) -> int:
        """Upsert pages, committing every BATCH_SIZE; ON_COMMIT(last page) after each commit.
        A page given twice keeps its last version (a delete applies to what was added before it)."""
        ix = self._index()
        written = 0
        with self._lock():
            ix.reload()
            # Into an empty index (a new one, a switch of backend) a page needs a delete only if it
            # may have been given before: when its id does not sort after every id before it. A
            # rebuild gives pages in id order, so no set of ids grows with the archive.
            empty, highest = ix.searcher().num_docs == 0, (-1, "")
            writer = self._writer(ix)
            try:
                pending, last = 0, None
                for doc in docs:
                    key = (len(doc.page_id), doc.page_id)  # numeric order for numeric ids
                    if empty and key > highest:
                        highest = key
                    else:
                        writer.delete_documents_by_term(ID_FIELD, doc.page_id)
                    writer.add_document(to_document(doc))
                    pending, last = pending + 1, doc
                    if pending >= batch_size:
                        writer.commit()
                        written, pending = written + pending, 0
                        if on_commit:
                            on_commit(last)
                if pending:
                    writer.commit()
                    written += pending
                    if on_commit:
                        on_commit(last)
            except BaseException:
                writer.rollback()
                self._release(writer)
                raise
            self._release(writer)
        ix.reload()
        return written

    def delete(self, page_ids: Iterable[str]) -> int:
        ix = self._index()
        ids = list(dict.fromkeys(page_ids))
        if not ids:
            return 0
        before = self.count()
        with self._lock():
            writer = self._writer(ix)
            for pid in ids:
                writer.delete_documents_by_term(ID_FIELD, pid)
            writer.commit()
            self._release(writer)
        ix.reload()
        return before - self.count()

    # --- reading -------------------------------------------------------------
    def _searcher(self) -> tantivy.Searcher:
        ix = self._index()
        ix.reload()  # see other processes' commits
        return ix.searcher()

    def search(self, query, *, limit: int = 20, offset: int = 0, sort: str = "relevance") -> BackendPage:
        check_sort(sort)
        compiled = compile_query(query) if isinstance(query, str) else query
        searcher = self._searcher()
        schema = self._ix.schema
        slots = sample_slots(searcher.num_docs) if sort == "relevance" and worth_sampling(compiled) else 0
        if slots:
            sampled = searcher.search(in_sample(compiled, schema, slots), max(limit, 1), count=True, offset=offset)
            if sampled.count >= offset + max(limit, 1):  # enough in the sample: more match in all
                return BackendPage(sampled.count, self._hits(searcher, sampled, limit, sort), total_exact=False)
        tq = to_tantivy(compiled, schema)
        kwargs = {}
        if sort == "date":
            kwargs = {"order_by_field": DATE_FIELD, "order": Order.Desc}
        elif sort != "relevance":
            kwargs = {"order_by_field": SORT_PREFIX + sort, "order": Order.Asc}
        result = searcher.search(tq, max(limit, 1), count=True, offset=offset, **kwargs)
        return BackendPage(result.count, self._hits(searcher, result, limit, sort))

    @staticmethod
    def _hits(searcher: tantivy.Searcher, result, limit: int, sort: str) -> list[BackendHit]:
        hits = []
        for key, address in result.hits[:limit]:
            stored = searcher.doc(address)
            score = float(key) if sort == "relevance" else 0.0
            place = HitPlace.from_stored(stored.get_first(PLACE_FIELD).decode())
            hits.append(BackendHit(stored.get_first(ID_FIELD), score, place, partial(_stored_page, stored)))
        return hits

    def fingerprints(self) -> Iterator[list[tuple[str, str]]]:
        searcher = self._searcher()
        schema = self._ix.schema
        for slot in range(SLOTS):  # a slot at a time: a 256th of the index in memory
            q = Query.term_query(schema, SLOT_FIELD, slot)
            found = searcher.search(q, 1, count=True).count
            if found:
                stored = (searcher.doc(address) for _, address in searcher.search(q, found, count=False).hits)
                yield [(d.get_first(ID_FIELD), d.get_first(FINGERPRINT_FIELD)) for d in stored]

    def count(self) -> int:
        return self._searcher().num_docs
