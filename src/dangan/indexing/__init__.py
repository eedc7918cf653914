"""Full-text index of scanned pages: one analyzer, one schema, three backends behind one
contract (Tantivy, the embedded default; Whoosh, pure Python; PostgreSQL, in the archive's
own database for shared mode), one writer at a time, and the search a user runs. Knows
nothing of the database's tables but through the feed: callers feed backends `IndexDoc`s.

    from dangan.indexing import open_backend, search

    index = open_backend("var/index/tantivy", "tantivy", on_wait=lambda pid: print(...))
    if index.needs_rebuild(): index.clear(); index.add(all_pages())
    results = search(index, '户号:340140* "供用电合同"')
"""

from dangan.indexing.analyzer import ANALYZER_VERSION
from dangan.indexing.backend import Backend, BackendHit, BackendPage, IndexNeedsRebuild
from dangan.indexing.backends import open_backend
from dangan.indexing.highlight import Box, locate
from dangan.indexing.lock import IndexLockTimeout
from dangan.indexing.query import QUERY_SYNTAX, QuerySyntaxError, parse_query
from dangan.indexing.schema import SCHEMA_VERSION, IndexDoc, doc_fingerprint
from dangan.indexing.search import Hit, RecordGroup, SearchResults, search

__all__ = [
    "ANALYZER_VERSION",
    "QUERY_SYNTAX",
    "SCHEMA_VERSION",
    "Backend",
    "BackendHit",
    "BackendPage",
    "Box",
    "Hit",
    "IndexDoc",
    "IndexLockTimeout",
    "IndexNeedsRebuild",
    "QuerySyntaxError",
    "RecordGroup",
    "SearchResults",
    "doc_fingerprint",
    "locate",
    "open_backend",
    "parse_query",
    "search",
]
