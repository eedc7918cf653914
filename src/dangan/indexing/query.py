"""Search query syntax: parsed into a small AST, then compiled into backend-neutral
index queries that both backends execute with the same meaning.

QUERY_SYNTAX.md beside this module is the user documentation. Parser and compiler share the
AST defined here and change together, so they stay in one module, long as it is.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from dangan.errors import DanganError
from dangan.indexing.analyzer import compound_key, is_cjk, normalize_keyword, query_terms

# The user documentation of the syntax, shown by the web app and the README.
QUERY_SYNTAX = (Path(__file__).resolve().parent / "QUERY_SYNTAX.md").read_text(encoding="utf-8")


class QuerySyntaxError(DanganError, ValueError):
    """A query the user can fix; `str()` says so, where and what."""

    def __init__(self, message: str, query: str = "", column: int | None = None):
        self.message = message
        self.query = query
        self.column = column  # 1-based, in the query as typed
        where = f" at column {column}" if column is not None else ""
        detail = f"cannot read the query: {message}{where}"
        if query and column is not None:
            detail += f"\n  {query}\n  {' ' * _display_width(query[: column - 1])}^"
        super().__init__(detail)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# --- AST ----------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    text: str


@dataclass(frozen=True)
class FieldFilter:
    field: str  # canonical field name, see FIELD_NAMES
    value: str
    prefix: bool = False
    quoted: bool = False


@dataclass(frozen=True)
class DateRange:
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


FIELD_NAMES = {
    "户号": "account",
    "account": "account",
    "acct": "account",
    "业务": "business",
    "business": "business",
    "类型": "type",
    "type": "type",
    "档号": "number",
    "number": "number",
    "户名": "name",
    "name": "name",
    "地址": "address",
    "address": "address",
    "工单": "workorder",
    "workorder": "workorder",
    "位置": "location",
    "location": "location",
    "状态": "qa",
    "qa": "qa",
    "保管期限": "retention",
    "retention": "retention",
    "日期": "date",
    "date": "date",
    "文本": "text",
    "text": "text",
}

# --- tokens -------------------------------------------------------------------

_OPEN_QUOTES = '"\u201c\u300c\u300e'
_CLOSE_QUOTES = '"\u201d\u300d\u300f'


@dataclass
class _Tok:
    kind: str  # WORD, PHRASE, FIELD, LPAREN, RPAREN, OR, NOT
    value: str
    column: int  # 1-based
    field: str = ""
    quoted: bool = False
    value_column: int = 0


def _normalize_query_char(ch: str) -> str:
    """Full-width ASCII (： （ ） －) to half-width, one char in, one char out, so
    columns in error messages stay right."""
    if ch in _OPEN_QUOTES or ch in _CLOSE_QUOTES:
        return '"'
    norm = unicodedata.normalize("NFKC", ch)
    return norm if len(norm) == 1 else ch


def _lex(query: str) -> list[_Tok]:
    text = "".join(_normalize_query_char(c) for c in query)
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "(":
            toks.append(_Tok("LPAREN", ch, i + 1))
            i += 1
            continue
        if ch == ")":
            toks.append(_Tok("RPAREN", ch, i + 1))
            i += 1
            continue
        if ch == '"':
            value, i = _read_quoted(query, text, i)
            toks.append(_Tok("PHRASE", value, i + 1 - len(value) - 2, quoted=True))
            continue
        if ch == "-" and (i + 1 < n and not text[i + 1].isspace()):
            toks.append(_Tok("NOT", ch, i + 1))
            i += 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] not in '()"':
            i += 1
        word = text[start:i]
        tok = _field_token(query, text, word, start)
        if tok is not None:
            if tok.value == "" and i < n and text[i] == '"':
                tok.value, i = _read_quoted(query, text, i)
                tok.quoted = True
            toks.append(tok)
        elif word == "OR":
            toks.append(_Tok("OR", word, start + 1))
        elif word == "AND":
            continue  # AND is the default; accepted for people who type it
        elif word == "NOT":
            toks.append(_Tok("NOT", word, start + 1))
        else:
            toks.append(_Tok("WORD", word, start + 1))
    return toks


def _read_quoted(query: str, text: str, i: int) -> tuple[str, int]:
    end = text.find('"', i + 1)
    if end < 0:
        raise QuerySyntaxError('unclosed quote: add the closing "', query, i + 1)
    return text[i + 1 : end], end + 1


_FIELD_NAME = re.compile(r"^([A-Za-z]+|[\u4e00-\u9fff]+):")


def _field_token(query: str, text: str, word: str, start: int) -> _Tok | None:
    match = _FIELD_NAME.match(word)
    if not match:
        return None
    name = match.group(1)
    canonical = FIELD_NAMES.get(name.lower())
    if canonical is None:
        known = ", ".join(sorted({k for k in FIELD_NAMES if k.isascii()}))
        raise QuerySyntaxError(
            f'unknown field "{name}" (known: {known} and their Chinese names '
            f"户号 业务 类型 档号 户名 地址 工单 位置 状态 保管期限 日期 文本)",
            query,
            start + 1,
        )
    value = word[match.end() :]
    return _Tok("FIELD", value, start + 1, field=canonical, value_column=start + 1 + match.end())


# --- parser -------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str, toks: list[_Tok]):
        self.query, self.toks, self.i = query, toks, 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, message: str, tok: _Tok | None):
        column = tok.column if tok else len(self.query) + 1
        raise QuerySyntaxError(message, self.query, column)

    def parse(self):
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            self.error('unexpected ")" (no matching "(")' if tok.kind == "RPAREN" else f'unexpected "{tok.value}"', tok)
        return node

    def or_expr(self):
        items = [self.and_expr()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            if self.peek() is None or self.peek().kind in ("OR", "RPAREN"):
                self.error("OR needs a word on both sides", tok)
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self):
        items = []
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            items.append(self.unary())
        if not items:
            tok = self.peek()
            self.error(
                'unexpected ")" (no matching "(")' if tok and tok.kind == "RPAREN" else "expected a word here", tok
            )
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self):
        tok = self.peek()
        if tok.kind == "NOT":
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RPAREN", "NOT"):
                self.error('"-" must be followed by the word to exclude', tok)
            return Not(self.atom())
        return self.atom()

    def atom(self):
        tok = self.peek()
        self.i += 1
        if tok.kind == "LPAREN":
            if self.peek() is None or self.peek().kind == "RPAREN":
                self.error('empty "( )"', tok)
            node = self.or_expr()
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                self.error('missing ")" for the "(" opened here', tok)
            self.i += 1
            return node
        if tok.kind == "PHRASE":
            if not query_terms(tok.value):
                self.error("empty phrase", tok)
            return Phrase(tok.value)
        if tok.kind == "WORD":
            return self.word(tok)
        if tok.kind == "FIELD":
            return self.field(tok)
        self.error(f'unexpected "{tok.value}"', tok)

    def word(self, tok: _Tok):
        text, prefix = tok.value, tok.value.endswith("*")
        if prefix:
            text = text.rstrip("*")
            if not text:
                self.error('"*" needs the beginning of a word before it', tok)
            if compound_key(text) is None and not (len(text) == 1 and is_cjk(text)) and not _is_single_term(text):
                self.error('"*" works at the end of one number or word, e.g. 340140*', tok)
        if "*" in text:
            self.error('"*" is only allowed at the end of a word', tok)
        return Word(text, prefix=prefix)

    def field(self, tok: _Tok):
        value = tok.value
        if value == "":
            self.error(f'"{tok.field}:" needs a value after the colon (no space)', tok)
        if tok.field == "date":
            return _parse_date_range(self.query, value, tok.value_column)
        prefix = value.endswith("*") and not tok.quoted
        if prefix:
            value = value.rstrip("*")
            if not value:
                self.error('"*" needs the beginning of a value before it', tok)
        if "*" in value and not tok.quoted:
            self.error('"*" is only allowed at the end of a value', tok)
        if prefix and tok.field in ("name", "address", "text") and not _is_single_term(value):
            self.error('"*" works at the end of one number or word', tok)
        return FieldFilter(tok.field, value, prefix=prefix, quoted=tok.quoted)


def _is_single_term(text: str) -> bool:
    return len(query_terms(text)) == 1


_DATE_PART = re.compile(r"^(\d{4})(?:[-./](\d{1,2}))?(?:[-./](\d{1,2}))?$")


def _parse_date(query: str, text: str, column: int, *, end: bool) -> dt.date:
    m = _DATE_PART.match(text)
    if not m:
        raise QuerySyntaxError(f'"{text}" is not a date: use 2024-01-31, 2024-01 or 2024', query, column)
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        if month is None:
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
        month = int(month)
        if day is None:
            if not end:
                return dt.date(year, month, 1)
            following = dt.date(year + (month == 12), month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        return dt.date(year, month, int(day))
    except ValueError:
        raise QuerySyntaxError(f'"{text}" is not a valid calendar date', query, column) from None


def _parse_date_range(query: str, value: str, value_column: int) -> DateRange:
    if ".." not in value:
        return DateRange(
            _parse_date(query, value, value_column, end=False), _parse_date(query, value, value_column, end=True)
        )
    left, right = value.split("..", 1)
    if not left and not right:
        raise QuerySyntaxError("a date range needs at least one end, e.g. ..2024-06-30", query, value_column)
    start = _parse_date(query, left, value_column, end=False) if left else None
    finish = _parse_date(query, right, value_column + len(left) + 2, end=True) if right else None
    if start and finish and start > finish:
        raise QuerySyntaxError(f"date range starts after it ends ({left} > {right})", query, value_column)
    return DateRange(start, finish)


def parse_query(query: str):
    """Parse user input into the AST; raises QuerySyntaxError with column and caret."""
    if not query or not query.strip():
        raise QuerySyntaxError("empty query: type a word, a number or a field filter")
    return _Parser(query, _lex(query)).parse()


# --- compiled, backend-neutral index queries ----------------------------------


@dataclass(frozen=True)
class TermQ:
    field: str
    term: str


@dataclass(frozen=True)
class PrefixQ:
    field: str
    prefix: str


@dataclass(frozen=True)
class PhraseQ:
    """Terms at fixed offsets (0-based, strictly increasing); gaps allowed."""

    field: str
    terms: tuple  # ((term, offset), ...)


@dataclass(frozen=True)
class CharsQ:
    """Single characters at fixed offsets in the text (0-based, increasing; gaps allowed):
    the tolerant pass's candidates when no bigram of a phrase survives (c0 ? c2). Backends
    may be looser than exact token positions; every candidate is verified on the text."""

    field: str
    chars: tuple  # ((char, offset), ...)


@dataclass(frozen=True)
class RangeQ:
    field: str
    low: int | None
    high: int | None


@dataclass(frozen=True)
class AndQ:
    must: tuple
    must_not: tuple = ()


@dataclass(frozen=True)
class OrQ:
    should: tuple


@dataclass(frozen=True)
class AllQ:
    pass


@dataclass(frozen=True)
class NothingQ:
    pass


def text_query(field: str, text: str, *, prefix: bool = False):
    """A word or phrase over an analysed field: one term, or a position phrase."""
    if prefix:
        key = compound_key(text)
        return PrefixQ(field, key if key is not None else query_terms(text)[0][0])
    terms = query_terms(text)
    if not terms:
        return None
    if len(terms) == 1:
        return TermQ(field, terms[0][0])
    return PhraseQ(field, tuple(terms))


def keyword_query(fields: tuple[str, ...], value: str, *, prefix: bool):
    key = normalize_keyword(value)
    make = PrefixQ if prefix else TermQ
    parts = tuple(make(f, key) for f in fields)
    return parts[0] if len(parts) == 1 else OrQ(parts)


_KEYWORD_FILTERS = {
    "account": ("account",),
    "business": ("business_type", "business_name"),
    "type": ("doc_type", "doc_type_name"),
    "workorder": ("work_order",),
    "location": ("location",),
    "qa": ("qa_status",),
    "retention": ("retention",),
}
_TEXT_FILTERS = {"name": "customer_name", "address": "address", "text": "text"}


def _date_int(day: dt.date | None) -> int | None:
    return day.year * 10000 + day.month * 100 + day.day if day else None


def _looks_like_code(text: str) -> bool:
    """A number or code typed on its own (户号, 档号, 工单号): also look for it in the
    record's identifiers, not only in the page text."""
    key = compound_key(text)
    return key is not None and any(ch.isdigit() for ch in key)


def _code_queries(text: str, prefix: bool, personal: bool) -> tuple:
    key = normalize_keyword(text)
    record = PrefixQ("record_key", key) if prefix else text_query("record_text", text)
    make = PrefixQ if prefix else TermQ
    return (record, make("account", key), make("work_order", key)) + ((make("personal", key),) if personal else ())


def compile_node(node, phrase_hook=None, *, personal: bool = True):
    """AST -> index query. `phrase_hook(text, exact_query)` may replace the query of a
    plain word/phrase in the text (used by the tolerant pass). PERSONAL: a number typed on
    its own also finds the pages with that personal number (only for people who may see them)."""

    def sub(item, hook=phrase_hook):
        return compile_node(item, hook, personal=personal)

    if isinstance(node, (Word, Phrase)):
        prefix = getattr(node, "prefix", False)
        q = text_query("text", node.text, prefix=prefix)
        if q is not None and phrase_hook is not None and not prefix:
            q = phrase_hook(node.text, q)
        if q is not None and _looks_like_code(node.text):
            q = OrQ((q,) + _code_queries(node.text, prefix, personal))
        return q
    if isinstance(node, FieldFilter):
        if node.field in _KEYWORD_FILTERS:
            return keyword_query(_KEYWORD_FILTERS[node.field], node.value, prefix=node.prefix)
        if node.field == "number":
            if node.prefix:
                return PrefixQ("record_key", normalize_keyword(node.value))
            return text_query("record_text", node.value)
        return text_query(_TEXT_FILTERS[node.field], node.value, prefix=node.prefix)
    if isinstance(node, DateRange):
        return RangeQ("date", _date_int(node.start), _date_int(node.end))
    if isinstance(node, Not):
        inner = sub(node.item, None)  # never tolerant inside an exclusion
        return AndQ((AllQ(),), (inner,)) if inner is not None else None
    if isinstance(node, And):
        must, must_not = [], []
        for item in node.items:
            if isinstance(item, Not):
                inner = sub(item.item, None)
                if inner is not None:
                    must_not.append(inner)
                continue
            q = sub(item)
            if q is not None:
                must.append(q)
        if not must and not must_not:
            return None
        return AndQ(tuple(must) or (AllQ(),), tuple(must_not))
    if isinstance(node, Or):
        items = tuple(q for q in (sub(i) for i in node.items) if q is not None)
        if not items:
            return None
        return items[0] if len(items) == 1 else OrQ(items)
    raise TypeError(f"not a query node: {node!r}")


def compile_query(query):
    """Query string or AST -> index query (NothingQ when only punctuation was typed)."""
    node = parse_query(query) if isinstance(query, str) else query
    return compile_node(node) or NothingQ()


def typed_values(node) -> list[str]:
    """Every word, phrase and filter value typed in the query (excluded ones too), dates aside."""
    if isinstance(node, (Word, Phrase)):
        return [node.text]
    if isinstance(node, FieldFilter):
        return [node.value]
    if isinstance(node, Not):
        return typed_values(node.item)
    if isinstance(node, (And, Or)):
        return [v for item in node.items for v in typed_values(item)]
    return []


def positive_text_terms(node) -> list[str]:
    """The words/phrases the user is looking for in page text (for snippets and
    highlighting): not excluded ones, not filters on codes or dates."""
    out: list[str] = []
    if isinstance(node, (Word, Phrase)):
        out.append(node.text)
    elif isinstance(node, FieldFilter) and node.field in ("account", "workorder", "number", "name", "address", "text"):
        out.append(node.value)
    elif isinstance(node, (And, Or)):
        for item in node.items:
            out.extend(positive_text_terms(item))
    seen, unique = set(), []
    for term in out:
        if term not in seen:
            seen.add(term)
            unique.append(term)
    return unique
