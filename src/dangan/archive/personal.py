"""Personal data in customer files, and how it is shown to someone without the grant to see it.

Which values are personal is data, in the classification scheme (`personal_data`): the page
and case fields whose values are personal (`fields`), and the detectors that find personal
numbers written anywhere in OCR text or a message (`find_in_text`, names from DETECTORS below).

Someone without the grant sees at most the last 4 characters of a personal value
(`**************5748`), wherever it appears: page text, snippets, field values, flag
messages, word boxes, events. Masking keeps the length of what it masks, so offsets into a
text (snippets, highlight spans) stay valid. They cannot search by a personal number or a
prefix long enough to be one (`refusal`), and the index keeps personal numbers out of the
words they search (indexing.schema).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dangan.i18n import _

VISIBLE_TAIL = 4  # characters of a personal value a person without the grant may see
_MIN_TAIL_LENGTH = 10  # shorter values are hidden whole: their last 4 would say too much
_MIN_KNOWN = 6  # a field value shorter than this is not hunted for in text (too many false hits)

# Province-level codes that start a 公民身份号码 (GB/T 2260); no work order (YYYYMMDD…) starts so.
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42"}
    | {"43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
)


@dataclass(frozen=True)
class Detector:
    """Finds one kind of personal number in free text, and tells one in a search term."""

    name: str
    label: str
    pattern: re.Pattern  # an occurrence as written (OCR may put spaces inside)

    def is_or_starts(self, compact: str) -> bool:
        """Is COMPACT (a search term, spaces and separators removed) such a number, or a
        beginning of one long enough to single a person out?"""
        if self.name == "cn_ric":
            if re.fullmatch(r"\d{17}[\dX]", compact):
                return True
            # 6 digits of region, then a birth year: 11+ digits that can only start an ID
            return bool(
                re.fullmatch(r"\d{11,17}", compact) and compact[:2] in _PROVINCES and 1900 <= int(compact[6:10]) <= 2099
            )
        return bool(self.pattern.fullmatch(compact))


# The closed registry the scheme names detectors from.
DETECTORS: dict[str, Detector] = {
    "cn_ric": Detector(
        "cn_ric",
        "公民身份号码",
        # 17 digits and a check character, possibly with single spaces inside as OCR reads them
        re.compile(r"(?<![0-9A-Za-z])(?:\d[ \u3000]?){17}[0-9Xx](?![0-9A-Za-z])"),
    ),
}


def compact(text: str) -> str:
    """A value as compared: full-width to half-width, no spaces or separators, upper case."""
    return re.sub(r"[\s\-_/]", "", unicodedata.normalize("NFKC", text or "")).upper()


def mask_value(value: str) -> str:
    """A personal value as someone without the grant sees it: at most its last 4 characters,
    and none of a short one. Spaces inside stay where they are (the length is kept)."""
    if not value:
        return value
    count = sum(1 for ch in value if not ch.isspace())
    keep = VISIBLE_TAIL if count >= _MIN_TAIL_LENGTH else 0
    out, seen = [], 0
    for ch in value:
        if ch.isspace():
            out.append(ch)
            continue
        seen += 1
        out.append(ch if seen > count - keep else "*")
    return "".join(out)


@dataclass(frozen=True)
class PersonalData:
    """The scheme's `personal_data`: which field values are personal and how to find
    personal numbers in text."""

    fields: frozenset[str] = frozenset({"id_number"})
    detectors: tuple[Detector, ...] = (DETECTORS["cn_ric"],)

    @classmethod
    def from_scheme(cls, spec: Mapping[str, Any] | None) -> PersonalData:
        if spec is None:
            return cls()
        return cls(frozenset(spec.get("fields", ())), tuple(DETECTORS[d] for d in spec.get("find_in_text", ())))

    # --- finding ---------------------------------------------------------------------------

    def field_values(self, fields: Mapping[str, Any] | None) -> list[str]:
        """Every string a page's personal fields hold (value, text as read, proposed repairs)."""
        out: list[str] = []

        def walk(v: Any) -> None:
            if isinstance(v, str):
                if len(compact(v)) >= _MIN_KNOWN:
                    out.append(v)
            elif isinstance(v, Mapping):
                for key in ("value", "raw", "alternatives"):
                    if key in v:
                        walk(v[key])
            elif isinstance(v, (list, tuple)):
                for item in v:
                    walk(item)

        for name, value in (fields or {}).items():
            if name in self.fields:
                walk(value)
        return list(dict.fromkeys(out))

    def spans(self, text: str, known: Iterable[str] = ()) -> list[tuple[int, int]]:
        """Where personal values are in TEXT: what the detectors find, and every occurrence of
        the KNOWN values (a page's personal fields, which may be misread beyond a detector)."""
        found: list[tuple[int, int]] = []
        for d in self.detectors:
            found += [m.span() for m in d.pattern.finditer(text or "")]
        return _merge(found + _value_spans(text, known))

    def found_in(self, text: str, known: Iterable[str] = ()) -> list[str]:
        """The personal values written in TEXT, as written (e.g. to black them out on an image)."""
        return [text[a:b] for a, b in self.spans(text, known)]

    def numbers_in(self, text: str, known: Iterable[str] = ()) -> list[str]:
        """The personal values in TEXT and KNOWN, compact (e.g. to index them apart)."""
        return list(dict.fromkeys([compact(v) for v in self.found_in(text, known)] + [compact(v) for v in known]))

    # --- masking ---------------------------------------------------------------------------

    def mask_text(self, text: str, known: Iterable[str] = ()) -> str:
        """TEXT with every personal value masked; same length."""
        if not text:
            return text
        known = list(known)
        spans = self.spans(text, known)
        if not spans:
            return text
        out, cursor = [], 0
        for a, b in spans:
            out.append(text[cursor:a])
            out.append(mask_value(text[a:b]))
            cursor = b
        out.append(text[cursor:])
        return "".join(out)

    def mask_fields(self, fields: Mapping[str, Any] | None) -> dict[str, Any]:
        """Page fields with personal values masked; personal numbers in other fields too."""
        known = self.field_values(fields)
        return {k: self._mask_any(v, whole=k in self.fields, known=known) for k, v in (fields or {}).items()}

    def _mask_any(self, value: Any, *, whole: bool, known: list[str]) -> Any:
        if isinstance(value, str):
            return mask_value(value) if whole else self.mask_text(value, known)
        if isinstance(value, Mapping):
            return {
                k: self._mask_any(v, whole=whole and k in ("value", "raw", "alternatives"), known=known)
                for k, v in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self._mask_any(v, whole=whole, known=known) for v in value]
        return value

    def mask_data(self, value: Any, known: Iterable[str] = ()) -> Any:
        """Any JSON-like value (an event's detail …) with personal values in its strings masked."""
        known = list(known)
        if isinstance(value, str):
            return self.mask_text(value, known)
        if isinstance(value, Mapping):
            return {k: self.mask_data(v, known) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.mask_data(v, known) for v in value]
        return value

    # --- searching -------------------------------------------------------------------------

    def is_personal_term(self, term: str) -> bool:
        """Is TERM (as typed in a search) a personal number, or a beginning of one long enough
        to single a person out?"""
        key = compact(term)
        return any(d.is_or_starts(key) for d in self.detectors)

    def mask_query(self, query: str) -> str:
        """A search query as the event log keeps it: personal numbers and their beginnings masked."""
        text = self.mask_text(query)
        return re.sub(r"[0-9A-Za-z]{6,}", lambda m: mask_value(m[0]) if self.is_personal_term(m[0]) else m[0], text)

    def refusal(self, terms: Iterable[str]) -> str | None:
        """Why a search for TERMS is refused to someone without the grant (None: it is not).
        A personal number, or a beginning of one, would tell them whether it is in the archive."""
        for term in terms:
            key = compact(term)
            for d in self.detectors:
                if d.is_or_starts(key):
                    return _(
                        "searching by a personal number ({kind}) or its beginning needs the grant to see "
                        "personal numbers: search by 户号, name, address or work order instead"
                    ).format(kind=d.label)
        return None


def _value_spans(text: str, values: Iterable[str]) -> list[tuple[int, int]]:
    """Every occurrence of each of VALUES in TEXT, spaces between characters allowed."""
    found: list[tuple[int, int]] = []
    for value in values:
        chars = [re.escape(c) for c in compact(value)]
        if len(chars) >= _MIN_KNOWN:
            found += [m.span() for m in re.finditer(r"\s?".join(chars), text or "", re.IGNORECASE)]
    return found


def blank_values(text: str, values: Iterable[str]) -> str:
    """TEXT with every occurrence of VALUES replaced by spaces (what the index reads as words)."""
    out = list(text or "")
    for a, b in _merge(_value_spans(text, values)):
        out[a:b] = " " * (b - a)
    return "".join(out)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]
