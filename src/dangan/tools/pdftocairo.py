"""pdftocairo (poppler): one PDF page as SVG, glyphs as outlines (the OFD export converts it)."""

from __future__ import annotations

from pathlib import Path

from dangan.tools import ToolFailed, first_line, run


def svg_page(path: str | Path, page: int, out: str | Path, *, timeout: float = 60) -> None:
    """Page PAGE (1-based) of the PDF at PATH written to OUT as SVG. Raises ToolMissing,
    ToolTimeout, or ToolFailed when poppler cannot convert it."""
    done = run(["pdftocairo", "-svg", "-f", str(page), "-l", str(page), str(path), str(out)], timeout=timeout)
    if done.returncode != 0 or not Path(out).exists():
        raise ToolFailed("pdftocairo", first_line(done.stderr, "the page cannot be converted"))
