"""Search as the user sees it: exact hits ranked by relevance (or date), then an
OCR-tolerant group, results grouped by archive record, with snippets and the matched
strings for highlighting on the page image (indexing.highlight.locate)."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from dangan.indexing.analyzer import compact, compact_with_offsets, is_cjk
from dangan.indexing.backend import Backend, BackendHit, check_sort
from dangan.indexing.query import (
    And,
    CharsQ,
    NothingQ,
    Or,
    OrQ,
    Phrase,
    PhraseQ,
    TermQ,
    Word,
    compile_node,
    parse_query,
    positive_text_terms,
)
from dangan.indexing.schema import IndexDoc

MAX_EXACT_HITS = 1000  # pages grouped per query; beyond this results are truncated
MAX_TOLERANT_CANDIDATES = 500
MIN_TOLERANT_CHARS = 3  # shorter phrases garbled by one char match almost anything
SNIPPET_CONTEXT = 30  # characters either side of the first match
MARK_OPEN, MARK_CLOSE = "【", "】"


@dataclass
class Hit:
    page_id: str
    record_number: str
    document_id: str
    page_no: int
    score: float
    date: dt.date | None
    tolerant: bool = False
    matched: list[str] = field(default_factory=list)  # strings as they appear on the page
    snippet: str = ""
    snippet_html: str = ""


@dataclass
class RecordGroup:
    record_number: str
    hits: list[Hit]  # pages of this record, in page order
    tolerant: bool = False  # True: approximate (one garbled character) matches only


@dataclass
class SearchResults:
    query: str
    page: int
    per_page: int
    sort: str
    groups: list[RecordGroup]  # this result page: exact groups first, then tolerant ones
    total_hits: int  # pages matching exactly (the index's count; more match when not total_exact)
    tolerant_hits: int  # extra pages found by the tolerant pass
    total_groups: int  # groups over all result pages (exact + tolerant)
    exact_groups: int
    truncated: bool  # more than MAX_EXACT_HITS pages: grouping saw the best ones
    total_exact: bool = True  # False: more than total_hits pages (PostgreSQL bounds broad queries)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_groups // self.per_page))


def search(
    backend: Backend,
    query_string: str,
    *,
    page: int = 1,
    per_page: int = 20,
    sort: str = "relevance",
    tolerant: bool = True,
    max_hits: int = MAX_EXACT_HITS,
    personal: bool = True,
) -> SearchResults:
    """Raises indexing.query.QuerySyntaxError for a query the user must fix. PERSONAL: may the
    searcher find pages by the personal numbers on them (indexing.schema keeps them apart)?"""
    check_sort(sort)
    if page < 1 or per_page < 1:
        raise ValueError("page and per_page start at 1")
    ast = parse_query(query_string)
    wanted = positive_text_terms(ast)
    exact_query = compile_node(ast, personal=personal) or NothingQ()
    exact = backend.search(exact_query, limit=max_hits, sort=sort)
    exact_hits = [_hit(h) for h in exact.hits]
    found = {h.page_id: h for h in exact.hits}  # their pages decoded only for the hits shown

    tolerant_hits: list[Hit] = []
    tolerant_truncated = False
    # Pages with a garbled occurrence are listed after every exact one: when exact hits
    # fill the window already, none could be shown (and at a million pages the loose
    # query over a common phrase would cost seconds).
    phrases = tolerant_phrases(ast) if tolerant and exact.total_exact and exact.total <= max_hits else []
    if phrases:
        seen = set(found)
        loose_query = compile_node(ast, phrase_hook=_tolerant_hook, personal=personal) or NothingQ()
        loose = backend.search(loose_query, limit=MAX_TOLERANT_CANDIDATES, sort=sort)
        tolerant_truncated = loose.total > len(loose.hits) or not loose.total_exact
        for h in loose.hits:
            if h.page_id in seen:
                continue
            garbled = garbled_occurrences(h.doc.text, phrases)
            if garbled:
                hit = _hit(h, tolerant=True)
                hit.matched = garbled
                tolerant_hits.append(hit)
                found[h.page_id] = h

    exact_groups = group_by_record(exact_hits)
    tolerant_groups = group_by_record(tolerant_hits, tolerant=True)
    all_groups = exact_groups + tolerant_groups
    shown = all_groups[(page - 1) * per_page : page * per_page]
    for group in shown:
        for hit in group.hits:
            _decorate(hit, found[hit.page_id].doc, wanted)
    return SearchResults(
        query=query_string,
        page=page,
        per_page=per_page,
        sort=sort,
        groups=shown,
        total_hits=exact.total,
        tolerant_hits=len(tolerant_hits),
        total_groups=len(all_groups),
        exact_groups=len(exact_groups),
        truncated=exact.total > len(exact.hits) or not exact.total_exact or tolerant_truncated,
        total_exact=exact.total_exact,
    )


def _hit(found: BackendHit, *, tolerant: bool = False) -> Hit:
    place = found.place
    return Hit(
        page_id=found.page_id,
        record_number=place.record_number,
        document_id=place.document_id,
        page_no=place.page_no,
        score=found.score,
        date=place.date,
        tolerant=tolerant,
    )


def group_by_record(hits: list[Hit], *, tolerant: bool = False) -> list[RecordGroup]:
    """Groups in order of their best hit; pages inside a group in page order."""
    groups: dict[str, RecordGroup] = {}
    for hit in hits:
        key = hit.record_number or f"page:{hit.page_id}"
        if key not in groups:
            groups[key] = RecordGroup(hit.record_number, [], tolerant)
        groups[key].hits.append(hit)
    for group in groups.values():
        group.hits.sort(key=lambda h: (h.page_no, h.page_id))
    return list(groups.values())


# --- the tolerant pass ------------------------------------------------------------


def tolerant_phrases(ast) -> list[str]:
    """Positive plain words/phrases that are all Chinese and long enough."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, (Word, Phrase)) and not getattr(node, "prefix", False):
            chars = compact(node.text)
            if len(chars) >= MIN_TOLERANT_CHARS and all(is_cjk(c) for c in chars):
                out.append(chars)
        elif isinstance(node, (And, Or)):
            for item in node.items:
                walk(item)
        # Not: never loosen an exclusion

    walk(ast)
    return list(dict.fromkeys(out))


def one_wildcard_queries(chars: str) -> list:
    """For each position k: the phrase's bigrams that do not touch character k, at
    their offsets (a gapped phrase); when none survive, the two unigrams around k."""
    bigrams = [(chars[i : i + 2], i) for i in range(len(chars) - 1)]
    out = []
    for k in range(len(chars)):
        kept = tuple((t, o) for t, o in bigrams if o not in (k - 1, k))
        if kept:
            out.append(TermQ("text", kept[0][0]) if len(kept) == 1 else PhraseQ("text", kept))
        else:
            out.append(CharsQ("text", tuple((chars[i], i) for i in range(len(chars)) if i != k)))
    return out


def _tolerant_hook(text: str, exact_query):
    chars = compact(text)
    if len(chars) < MIN_TOLERANT_CHARS or not all(is_cjk(c) for c in chars):
        return exact_query
    return OrQ((exact_query, *one_wildcard_queries(chars)))


def _fuzzy_pattern(needle: str) -> re.Pattern:
    alternatives = [
        f"{re.escape(needle[:k])}(?!{re.escape(needle[k])}).{re.escape(needle[k + 1 :])}" for k in range(len(needle))
    ]
    return re.compile("(?=(" + "|".join(alternatives) + "))")


def find_garbled(text_compact: str, needle: str) -> list[tuple[int, int]]:
    """Spans in compact text equal to `needle` with exactly one character different."""
    n = len(needle)
    return [(m.start(), m.start() + n) for m in _fuzzy_pattern(needle).finditer(text_compact)]


def garbled_occurrences(text: str, phrases: list[str]) -> list[str]:
    """The page's own spellings of phrases found with one wrong character (what to
    highlight); empty when none."""
    chars, _origin = compact_with_offsets(text)
    found: list[str] = []
    for needle in phrases:
        for start, end in find_garbled(chars, needle):
            found.append(chars[start:end])
    return list(dict.fromkeys(found))


# --- snippets ----------------------------------------------------------------------


def match_spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Original-text spans of every occurrence of each needle, punctuation-insensitive
    (a phrase matches across spaces and punctuation like the index does)."""
    chars, origin = compact_with_offsets(text)
    spans = []
    for needle in needles:
        key = compact(needle)
        if not key:
            continue
        start = chars.find(key)
        while start >= 0:
            spans.append((origin[start], origin[start + len(key) - 1] + 1))
            start = chars.find(key, start + 1)
    return merge_spans(spans)


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _decorate(hit: Hit, doc: IndexDoc, wanted: list[str]) -> None:
    if not hit.tolerant:
        chars = compact(doc.text)
        hit.matched = [w for w in wanted if compact(w) and compact(w) in chars]
    spans = match_spans(doc.text, hit.matched)
    hit.snippet, hit.snippet_html = make_snippet(doc.text, spans)


def make_snippet(text: str, spans: list[tuple[int, int]], context: int = SNIPPET_CONTEXT) -> tuple[str, str]:
    """(plain snippet with 【】 marks, HTML snippet with <mark> and escaping)."""
    if not spans:
        window = (0, min(len(text), 2 * context))
    else:
        window = (max(0, spans[0][0] - context), min(len(text), spans[0][1] + context))
    lo, hi = window
    plain, rich = [], []
    if lo > 0:
        plain.append("…")
        rich.append("…")
    cursor = lo
    for start, end in spans:
        if end <= lo or start >= hi:
            continue
        start, end = max(start, lo), min(end, hi)
        plain.append(_flat(text[cursor:start]))
        rich.append(html.escape(_flat(text[cursor:start])))
        plain.append(MARK_OPEN + _flat(text[start:end]) + MARK_CLOSE)
        rich.append("<mark>" + html.escape(_flat(text[start:end])) + "</mark>")
        cursor = end
    plain.append(_flat(text[cursor:hi]))
    rich.append(html.escape(_flat(text[cursor:hi])))
    if hi < len(text):
        plain.append("…")
        rich.append("…")
    return "".join(plain), "".join(rich)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)
