"""The one tokeniser of the index: used at index time and query time, by every backend.

Why bigrams: customer files are Chinese OCR text without word boundaries. A word
segmenter (jieba) makes recall depend on context; overlapping character bigrams find
exactly what a substring search finds, and phrase queries over token positions keep
precision (see shared/reference/ocr-and-search-findings.md).

Token rules (after NFKC, so full-width 'ＧＤ０１' == 'gd01', '：' == ':'):
- a CJK run c0..c(m-1) -> bigrams c0c1, c1c2, ... at consecutive positions;
  a lone CJK character -> that unigram.
- every CJK character is ALSO emitted as a unigram at the position of the bigram it
  starts (same position, different term). This makes one-character queries such as
  the surname 王 work, and lets the tolerant pass ask for "c0 ? c2". Measured cost:
  see bench/search.py (--no-unigrams) and the report.
- Latin/digit words are kept whole, lower-cased ('3401405288', '10kv').
- alnum parts joined by connectors (- · . / _ #) without spaces form a compound
  ('GD01-KH·2024-0001239'): every part is a token at its own position (so a part, or a
  run of parts, is found by phrase), and the whole compound, connectors normalised to
  '-', is emitted at the first part's position (so 'GD01-KH·2024*' works as a prefix).
- everything else (punctuation, spaces) is dropped; it only separates tokens.
Positions count tokens, not characters, so phrase queries are position phrases.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from operator import add
from typing import NamedTuple

import numpy as np
from whoosh.analysis import Token, Tokenizer

# Bump when tokens change: every index built with another version needs a rebuild.
ANALYZER_VERSION = 1

# Connectors that glue alnum parts into one compound (after NFKC).
CONNECTORS = frozenset("-·./_#\u30fb\u2027\u2022\u2010\u2011\u2012\u2013\u2014\u2212\u2015")
COMPOUND_JOINER = "-"
_TO_JOINER = {ord(c): COMPOUND_JOINER for c in CONNECTORS}

_CJK_RANGES = (
    (0x3007, 0x3007),  # 〇, used in dates written 二〇二四
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3134F),
)


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def is_alnum(ch: str) -> bool:
    return ch.isalnum() and not is_cjk(ch)


class Term(NamedTuple):
    """One token: its text, token position, and character span in the ORIGINAL text.
    (A NamedTuple: tokenising makes millions of these.)"""

    text: str
    position: int
    start: int
    end: int


class _CharNormal(dict):
    """char -> its NFKC form, lower-cased; filled on first sight (str.translate table)."""

    def __missing__(self, ch: str) -> str:
        norm = ch if ch.isascii() else unicodedata.normalize("NFKC", ch)
        self[ch] = out = norm.lower()
        return out


class _OrdNormal(dict):
    def __missing__(self, code: int) -> str:
        self[code] = out = _CHAR_NORMAL[chr(code)]
        return out


_CHAR_NORMAL = _CharNormal()
_ORD_NORMAL = _OrdNormal()


def _normal_is_lowered(text: str, lowered: str) -> bool:
    return len(lowered) == len(text) and (text.isascii() or unicodedata.is_normalized("NFKC", text))


def normalize_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """NFKC + lower-case, character by character, keeping for each output character the
    index of the original character it came from (so snippets point into the original).
    The offsets are None when they are the identity (text already NFKC)."""
    lowered = text.lower()
    if _normal_is_lowered(text, lowered):
        return lowered, None
    if all(len(_CHAR_NORMAL[ch]) == 1 for ch in set(text)):  # one for one (full-width ： → :)
        return text.translate(_ORD_NORMAL), None
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for out in _CHAR_NORMAL[ch]:
            chars.append(out)
            origin.append(i)
    return "".join(chars), origin


def normalize(text: str) -> str:
    """normalize_with_offsets without the offsets, at C speed (OCR text is rarely NFKC:
    full-width ： ， （ are everywhere)."""
    lowered = text.lower()
    if _normal_is_lowered(text, lowered):
        return lowered
    return text.translate(_ORD_NORMAL)


@lru_cache(maxsize=512)
def compact_with_offsets(text: str) -> tuple[str, tuple[int, ...]]:
    """The normalised text with everything but token characters removed: what phrase
    matching "sees" (punctuation and spaces between tokens do not break a phrase), with the
    index in TEXT of each character kept. Cached: a page shown in results is matched,
    snippeted and highlighted several times."""
    norm, origin = normalize_with_offsets(text)
    out, where = [], []
    for m in _TOKEN_RUN.finditer(norm):
        out.append(m.group())
        where.extend(range(m.start(), m.end()))
    if origin is not None:
        where = [origin[i] for i in where]
    return "".join(out), tuple(where)


@lru_cache(maxsize=65536)
def compact(text: str) -> str:
    """TEXT as phrase matching sees it (compact_with_offsets without the offsets); cached,
    as highlighting asks for it once per OCR word of every page shown."""
    return "".join(_TOKEN_RUN.findall(normalize(text)))


def normalize_keyword(value: str) -> str:
    """Exact-match form of a code or identifier (户号, 档号, location, type code...):
    NFKC, lower-case, no spaces, connectors unified to '-'."""
    return "".join(normalize(value).split()).translate(_TO_JOINER)


_CJK_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES)
# One run of CJK characters, or one run of other letters/digits.
_RUN = re.compile(f"(?P<cjk>[{_CJK_CLASS}]+)|(?P<alnum>(?:(?![{_CJK_CLASS}])[^\\W_])+)")
_TOKEN_RUN = re.compile(f"(?:[{_CJK_CLASS}]|[^\\W_])+")
# For `streams`: what is not a token character, CJK runs, and alnum parts joined by connectors.
_NON_TOKEN = re.compile(f"(?:_|[^\\w{_CJK_CLASS}])+")
_CJK_SPLIT = re.compile(f"([{_CJK_CLASS}]+)")
_ALNUM = f"[^\\W_{_CJK_CLASS}]+"  # as _RUN's alnum group, without its per-character lookahead
_CONNECTOR_CLASS = "".join("\\" + c if c in "-.\\]^[" else c for c in sorted(CONNECTORS))
_COMPOUND = re.compile(f"{_ALNUM}(?:[{_CONNECTOR_CLASS}]{_ALNUM})+")
_CONNECTOR = re.compile(f"[{_CONNECTOR_CLASS}]")


def tokenize(text: str, *, unigrams: bool = True) -> list[Term]:
    """All index terms of `text`, in position order (see module docstring)."""
    norm, origin = normalize_with_offsets(text)
    if origin is None:

        def span(a: int, b: int) -> tuple[int, int]:
            return a, b
    else:

        def span(a: int, b: int) -> tuple[int, int]:
            return origin[a], origin[b - 1] + 1

    terms: list[Term] = []
    append = terms.append
    pos = 0
    compound: list[tuple[int, int]] = []  # alnum parts joined by connectors so far
    compound_first = -1  # index in `terms` of the first part

    def close_compound():
        if len(compound) > 1:
            whole = COMPOUND_JOINER.join(norm[a:b] for a, b in compound)
            first = terms[compound_first]
            terms.insert(compound_first, Term(whole, first.position, *span(compound[0][0], compound[-1][1])))
        compound.clear()

    for m in _RUN.finditer(norm):
        start, end = m.start(), m.end()
        if m.lastgroup == "cjk":
            if compound:
                close_compound()
            length = end - start
            if length == 1:
                append(Term(norm[start], pos, *span(start, end)))
                pos += 1
                continue
            for i in range(start, end - 1):
                p = pos + i - start
                append(Term(norm[i : i + 2], p, *span(i, i + 2)))
                if unigrams:
                    append(Term(norm[i], p, *span(i, i + 1)))
            if unigrams:
                # last character: shares the position of whatever token comes next
                append(Term(norm[end - 1], pos + length - 1, *span(end - 1, end)))
            pos += length - 1
            continue
        joined = bool(compound) and start == compound[-1][1] + 1 and norm[start - 1] in CONNECTORS
        if not joined:
            close_compound()
            compound_first = len(terms)
        compound.append((start, end))
        append(Term(norm[start:end], pos, *span(start, end)))
        pos += 1
    close_compound()
    return terms


class Streams(NamedTuple):
    """`tokenize` in the shape an engine's own tokenizers take it (Tantivy splits on
    whitespace and runs a regex in Rust; PostgreSQL reads a tsvector), made with a few
    C-speed string and array operations instead of one Python object per term. Tested
    equal to `tokenize` (tests/indexing/test_analyzer.py)."""

    normalized: str  # NFKC + lower-case text: its CJK and alnum characters are the "chars" terms
    terms: str  # the positioned terms, whitespace-separated; a term's position is its index
    compounds: str  # compound wholes ('gd01-kh-2024-0001239'), space-separated; unpositioned


def streams(text: str) -> Streams:
    """The terms of `tokenize(text)`, split three ways: positioned terms (bigrams, lone
    CJK characters, alnum parts; no extra unigrams), compound wholes, and the normalised
    text whose characters are the unigrams (`char_terms`)."""
    norm = normalize(text)
    cleaned = _NON_TOKEN.sub(" ", norm)
    terms = _array_terms(cleaned) if len(cleaned) >= ARRAY_TERMS_FROM else _run_terms(cleaned)
    compounds = " ".join(_CONNECTOR.sub(COMPOUND_JOINER, m) for m in _COMPOUND.findall(norm)) if norm else ""
    return Streams(norm, terms, compounds)


# a text this long has its terms made as an array (a page: 100 us, where joining the bigrams of
# each run took 210); a name or an address run by run (the array's fixed cost is ~40 us)
ARRAY_TERMS_FROM = 200


def _run_terms(cleaned: str) -> str:
    """CLEANED (normalised, every non-token character a space) as whitespace-separated
    positioned terms: each CJK run of two or more characters as its bigrams, a lone CJK
    character and every alnum word as itself."""
    parts = _CJK_SPLIT.split(cleaned)
    for i in range(1, len(parts), 2):  # odd parts are CJK runs
        run = parts[i]
        if len(run) > 1:
            parts[i] = " ".join(map(add, run[:-1], run[1:]))
    return " ".join(parts)


def _array_terms(cleaned: str) -> str:
    """_run_terms made on the code points as an array, for a long text."""
    a = np.frombuffer(cleaned.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cjk = np.zeros(len(a), dtype=bool)
    for lo, hi in _CJK_RANGES:
        cjk |= (a >= lo) & (a <= hi)
    after = np.zeros_like(cjk)  # the next character is CJK
    after[:-1] = cjk[1:]
    before = np.zeros_like(cjk)  # the previous one is
    before[1:] = cjk[:-1]
    pair = cjk & after  # starts a bigram: " c next "
    lone = cjk & ~(before | after)  # " c "
    # anything else is itself, and the last character of a run a space (it ended the last bigram)
    lengths = 1 + 3 * pair + 2 * lone
    starts = np.cumsum(lengths) - lengths
    out = np.full(int(lengths.sum()), 32, dtype=np.uint32)
    other = ~cjk
    out[starts[other]] = a[other]
    out[starts[pair] + 1] = a[pair]
    out[starts[pair] + 2] = a[1:][pair[:-1]]
    out[starts[lone] + 1] = a[lone]
    return out.tobytes().decode("utf-32-le", "surrogatepass")


def positioned_terms(terms: str) -> Iterator[tuple[str, int]]:
    """(term, position) for every term of `Streams.terms`, with the extra unigram of every
    CJK character at the position of the bigram it starts (as `tokenize` does)."""
    for position, term in enumerate(terms.split()):
        yield term, position
        if len(term) == 2 and is_cjk(term[0]):  # a bigram; its second char starts the next one
            yield term[0], position
            yield term[1], position + 1


def query_terms(text: str) -> list[tuple[str, int]]:
    """Terms of a query word or phrase as (term, offset) for a position phrase: bigrams
    for CJK runs, unigram for a lone CJK character, alnum parts; no duplicates at the
    same position (no extra unigrams, no compound wholes). Offsets start at 0."""
    out: list[tuple[str, int]] = []
    seen_positions: set[int] = set()
    for term in tokenize(text, unigrams=False):
        if term.position in seen_positions:
            continue  # the compound whole sits at its first part's position: keep the part
        if COMPOUND_JOINER in term.text:
            continue
        seen_positions.add(term.position)
        out.append((term.text, term.position))
    if out:
        base = out[0][1]
        out = [(t, p - base) for t, p in out]
    return out


def compound_key(text: str) -> str | None:
    """The whole-compound term of `text` if it is ONE alnum word or compound, else None.
    Used for prefix queries such as 340140* or GD01-KH·2024*."""
    key = normalize_keyword(text)
    if key and all(is_alnum(ch) or ch == COMPOUND_JOINER for ch in key) and not key.startswith(COMPOUND_JOINER):
        return key
    return None


class BigramTokenizer(Tokenizer):
    """Whoosh adapter over `tokenize`. Lives in this importable module because Whoosh
    pickles the analyzer into the index schema."""

    def __init__(self, unigrams: bool = True):
        self.unigrams = unigrams

    def __eq__(self, other):
        return type(other) is type(self) and other.unigrams == self.unigrams

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize_=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term in tokenize(value, unigrams=self.unigrams):
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = term.text
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar = start_char + term.start
                token.endchar = start_char + term.end
            yield token
