"""Where on the page image a search hit is: boxes around the OCR words of each
occurrence of the matched strings. Pure function; the caller draws.

Chinese OCR words are often single characters, so an occurrence usually spans several
words; a phrase that wraps onto the next line gets one box per line segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from dangan.indexing.analyzer import compact
from dangan.indexing.search import find_garbled


class OcrWord(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def left(self) -> int: ...
    @property
    def top(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def line(self) -> int: ...


class WordBox(NamedTuple):
    """One OCR word as a page stores it: [text, left, top, width, height, conf, line]."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float = 0.0
    line: int = 0


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int
    line: int
    text: str  # the matched string this box belongs to
    tolerant: bool = False

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


def locate(words: Sequence[OcrWord], phrases: Iterable[str], *, tolerant: bool = False) -> list[Box]:
    """Boxes for every occurrence of every phrase (matched ignoring case, width,
    spaces and punctuation, like the index). With `tolerant`, phrases of 3+ characters
    also match with one wrong character. A word only partly covered by a match (e.g.
    '户号3401405288' for the prefix 340140) is boxed whole."""
    chars, owner = _compact_words(words)
    boxes: list[Box] = []
    for phrase in dict.fromkeys(phrases):
        needle = compact(phrase)
        if not needle:
            continue
        for start, end, fuzzy in _occurrences(chars, needle, tolerant):
            covered = sorted(set(owner[start:end]))
            boxes.extend(_line_boxes([words[i] for i in covered], phrase, fuzzy))
    return _dedupe(boxes)


def _compact_words(words: Sequence[OcrWord]) -> tuple[str, list[int]]:
    """All words' token characters in reading order, with the word each came from."""
    chars: list[str] = []
    owner: list[int] = []
    for index, word in enumerate(words):
        for ch in compact(word.text or ""):
            chars.append(ch)
            owner.append(index)
    return "".join(chars), owner


def _occurrences(chars: str, needle: str, tolerant: bool):
    start = chars.find(needle)
    while start >= 0:
        yield start, start + len(needle), False
        start = chars.find(needle, start + 1)
    if tolerant and len(needle) >= 3:
        for start, end in find_garbled(chars, needle):
            yield start, end, True


def _line_boxes(words: list[OcrWord], phrase: str, fuzzy: bool) -> list[Box]:
    by_line: dict[int, list[OcrWord]] = {}
    for word in words:
        by_line.setdefault(word.line, []).append(word)
    boxes = []
    for line, members in by_line.items():
        left = min(w.left for w in members)
        top = min(w.top for w in members)
        right = max(w.left + w.width for w in members)
        bottom = max(w.top + w.height for w in members)
        boxes.append(Box(left, top, right - left, bottom - top, line, phrase, fuzzy))
    return boxes


def _dedupe(boxes: list[Box]) -> list[Box]:
    seen, out = set(), []
    for box in sorted(boxes, key=lambda b: (b.line, b.left, b.top, b.tolerant)):
        key = (box.left, box.top, box.width, box.height)
        if key not in seen:
            seen.add(key)
            out.append(box)
    return out
