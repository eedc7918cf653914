"""Whoosh backend (whoosh 2.7.4, pinned; unmaintained upstream, so we treat it as our
code). Simple, pure Python, slow beyond ~30k pages: see bench/search.py."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import whoosh.index
from whoosh import fields as wf
from whoosh import query as wq
from whoosh.query import spans

from dangan.indexing.analyzer import BigramTokenizer
from dangan.indexing.backend import (
    FINGERPRINT_BATCH,
    BackendHit,
    BackendPage,
    FolderCheckpoint,
    check_sort,
    current_index,
    is_empty_dir,
    marker_is_current,
    wipe_index_dir,
    write_marker,
)
from dangan.indexing.lock import WaitCallback, WriterLock
from dangan.indexing.query import AllQ, AndQ, CharsQ, NothingQ, OrQ, PhraseQ, PrefixQ, RangeQ, TermQ, compile_query
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
)

NAME = "whoosh"
WHOOSH_WRITER_TIMEOUT = 60.0  # our lock serialises writers; this only guards strangers


def build_schema() -> wf.Schema:
    schema = wf.Schema(
        **{
            ID_FIELD: wf.ID(stored=True, unique=True),
            FINGERPRINT_FIELD: wf.STORED(),
            STORED_DOC_FIELD: wf.STORED(),
            # signed on purpose: open-ended ranges on unsigned NUMERIC match wrongly in 2.7.4
            DATE_FIELD: wf.NUMERIC(int, bits=32, sortable=True),
        }
    )
    for name in ANALYZED_FIELDS:
        schema.add(name, wf.TEXT(analyzer=BigramTokenizer(), phrase=True))
    for name in KEYWORD_FIELDS:
        schema.add(name, wf.KEYWORD(lowercase=False, commas=False, scorable=True))
    return schema


def doc_fields(doc: IndexDoc) -> dict:
    out = {ID_FIELD: doc.page_id, FINGERPRINT_FIELD: doc_fingerprint(doc), STORED_DOC_FIELD: doc.to_json()}
    for name, get in ANALYZED_FIELDS.items():
        value = get(doc)
        if value:
            out[name] = value
    for name in KEYWORD_FIELDS:
        values = keyword_values(doc, name)
        if values:
            out[name] = " ".join(values)
    if doc.date:
        out[DATE_FIELD] = date_key(doc.date)
    return out


def to_whoosh(q) -> wq.Query:
    """Compiled index query -> Whoosh query."""
    if isinstance(q, TermQ):
        return wq.Term(q.field, q.term)
    if isinstance(q, PrefixQ):
        return wq.Prefix(q.field, q.prefix)
    if isinstance(q, PhraseQ):
        return phrase_query(q)
    if isinstance(q, CharsQ):  # unigrams sit at token positions in the one text field
        return phrase_query(PhraseQ(q.field, q.chars))
    if isinstance(q, RangeQ):
        return wq.NumericRange(q.field, q.low, q.high)
    if isinstance(q, AndQ):
        must = [to_whoosh(m) for m in q.must]
        positive = must[0] if len(must) == 1 else wq.And(must)
        if not q.must_not:
            return positive
        return wq.AndNot(positive, wq.Or([to_whoosh(m) for m in q.must_not]))
    if isinstance(q, OrQ):
        return wq.Or([to_whoosh(s) for s in q.should])
    if isinstance(q, AllQ):
        return wq.Every()
    if isinstance(q, NothingQ):
        return wq.NullQuery
    raise TypeError(f"cannot run {q!r} on Whoosh")


class GappedSpan(spans.SpanNear):
    """SpanNear that also answers size estimates (2.7.4 raises NotImplementedError
    when one sits inside an And)."""

    def estimate_size(self, ixreader):
        return min(self.a.estimate_size(ixreader), self.b.estimate_size(ixreader))

    def estimate_min_size(self, ixreader):
        return 0


def phrase_query(q: PhraseQ) -> wq.Query:
    words = [t for t, _ in q.terms]
    offsets = [o for _, o in q.terms]
    if len(words) == 1:
        return wq.Term(q.field, words[0])
    if offsets == list(range(offsets[0], offsets[0] + len(offsets))):
        return wq.Phrase(q.field, words)
    # Gapped phrase (tolerant pass): chain exact-distance span queries.
    node = wq.Term(q.field, words[0])
    for (word, offset), prev in zip(q.terms[1:], offsets):
        gap = offset - prev
        node = GappedSpan(node, wq.Term(q.field, word), slop=gap, mindist=gap)
    return node


class WhooshBackend(FolderCheckpoint):
    name = NAME

    def __init__(self, path: Path, *, on_wait: WaitCallback | None = None, lock_timeout: float | None = None):
        self.path = path
        self.on_wait = on_wait
        self.lock_timeout = lock_timeout
        self._ix = None
        self._searcher = None
        path.mkdir(parents=True, exist_ok=True)
        if is_empty_dir(path):
            with self._lock():
                if is_empty_dir(path):
                    self._create()
        if marker_is_current(path, NAME):
            self._ix = whoosh.index.open_dir(str(path))

    # --- lifecycle ---------------------------------------------------------
    def _lock(self) -> WriterLock:
        return WriterLock(self.path, on_wait=self.on_wait, timeout=self.lock_timeout)

    def _create(self) -> None:
        self._ix = whoosh.index.create_in(str(self.path), build_schema())
        write_marker(self.path, NAME)

    def _index(self):
        return current_index(self._ix, self.path, NAME)

    def needs_rebuild(self) -> bool:
        return not marker_is_current(self.path, NAME)

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        if self._ix is not None:
            self._ix.close()
            self._ix = None

    def clear(self) -> None:
        with self._lock():
            self.close()
            wipe_index_dir(self.path)
            self._create()

    # --- writing -------------------------------------------------------------
    def add(
        self, docs: Iterable[IndexDoc], *, batch_size: int = 1000, on_commit: Callable[[IndexDoc], None] | None = None
    ) -> int:
        ix = self._index()
        written = 0
        batch: dict[str, IndexDoc] = {}
        last = None
        with self._lock():
            for doc in docs:
                batch[doc.page_id] = last = doc  # the last version of a page in a batch wins
                if len(batch) >= batch_size:
                    written += self._write_batch(ix, batch)
                    batch = {}
                    if on_commit:
                        on_commit(last)
            if batch:
                written += self._write_batch(ix, batch)
                if on_commit:
                    on_commit(last)
        return written

    def _write_batch(self, ix, batch: dict[str, IndexDoc]) -> int:
        writer = ix.writer(timeout=WHOOSH_WRITER_TIMEOUT, limitmb=256)
        try:
            # Delete the old versions with ONE searcher, then add: update_document opens
            # a new reader per page, which made a 10k rebuild several times slower.
            with writer.searcher() as searcher:
                for page_id in batch:
                    writer.delete_by_term(ID_FIELD, page_id, searcher=searcher)
            for doc in batch.values():
                writer.add_document(**doc_fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return len(batch)

    def delete(self, page_ids: Iterable[str]) -> int:
        ix = self._index()
        ids = list(dict.fromkeys(page_ids))
        if not ids:
            return 0
        with self._lock():
            writer = ix.writer(timeout=WHOOSH_WRITER_TIMEOUT)
            try:
                deleted = sum(writer.delete_by_term(ID_FIELD, pid) for pid in ids)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        return deleted

    # --- reading -------------------------------------------------------------
    def _fresh_searcher(self):
        ix = self._index()
        if self._searcher is None:
            self._searcher = ix.searcher()
        else:
            # see other processes' commits; refresh() reuses and retires the old reader
            self._searcher = self._searcher.refresh()
        return self._searcher

    def search(self, query, *, limit: int = 20, offset: int = 0, sort: str = "relevance") -> BackendPage:
        check_sort(sort)
        compiled = compile_query(query) if isinstance(query, str) else query
        searcher = self._fresh_searcher()
        wq_query = to_whoosh(compiled)
        window = max(offset + limit, 1)
        if sort == "date":
            results = searcher.search(wq_query, limit=window, sortedby=DATE_FIELD, reverse=True)
        elif sort != "relevance":  # a keyword field without a column: its greatest term, pages without last
            results = searcher.search(wq_query, limit=window, sortedby=SORT_FIELDS[sort])
        else:
            results = searcher.search(wq_query, limit=window)
        total = len(results)
        hits = []
        for i in range(offset, min(offset + limit, results.scored_length())):
            stored = results[i].fields()
            score = float(results[i].score or 0.0) if sort == "relevance" else 0.0
            hits.append(BackendHit.of(stored[ID_FIELD], score, IndexDoc.from_json(stored[STORED_DOC_FIELD])))
        return BackendPage(total, hits)

    def fingerprints(self) -> Iterator[list[tuple[str, str]]]:
        batch: list[tuple[str, str]] = []
        for stored in self._fresh_searcher().all_stored_fields():
            batch.append((stored[ID_FIELD], stored[FINGERPRINT_FIELD]))
            if len(batch) >= FINGERPRINT_BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def count(self) -> int:
        return self._fresh_searcher().doc_count()
