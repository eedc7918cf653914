"""What a reader sees, and the English left in it: for the tests that a Chinese page, report or
terminal output has nothing left in English (tests/test_languages.py, tests/web/test_languages.py)."""

from __future__ import annotations

import re

# Latin words that stay Latin in Chinese text: names of tools, formats and units
LATIN = {"dangan", "dpi", "sha", "ocr", "pdf", "ofd", "csv", "json", "html", "mpx", "yaml", "bagit", "tiff", "png"}


def visible_text(html: str) -> str:
    """What a reader sees of an HTML page: no tags, no style, no title."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.DOTALL)
    html = re.sub(r"<title>.*?</title>", " ", html, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", html)


def english_words(text: str) -> set[str]:
    """English words left in TEXT once what may stay Latin is taken out: paths and database
    addresses, commands the reader types, keys beside names (replacement_date), codes in
    capitals (SQ, JR, GD01-KH), hex digests, and the names of tools and formats."""
    text = re.sub(r"\S*(?:/|\\|sqlite|postgresql)\S*", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\w*_\w*", " ", text)
    text = re.sub(r"\b[0-9a-f]{12,64}\b", " ", text)
    return {w for w in re.findall(r"[A-Za-z]{3,}", text) if w.lower() not in LATIN and not w.isupper()}


def in_context(words: set[str], text: str) -> list[str]:
    """Each word with what stands round it, for a failure message a translator can act on."""
    found = (re.search(rf".{{0,40}}(?<![A-Za-z]){w}(?![A-Za-z]).{{0,40}}", text, re.DOTALL) for w in sorted(words))
    return [m.group(0) for m in found if m]
