"""pdftoppm (poppler, through pdf2image): one PDF page rendered to pixels."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from dangan.tools import ToolFailed, ToolMissing, ToolTimeout


def render_page(path: str | Path, page: int, *, dpi: int, timeout: float = 120, strict: bool = False) -> Image.Image:
    """Page PAGE (1-based) at DPI. Raises ToolFailed when poppler cannot render it, or (STRICT)
    when it reports a syntax error while rendering (an image it had to leave out)."""
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFPopplerTimeoutError, PDFSyntaxError

    try:
        pages = convert_from_path(
            str(path), dpi=dpi, first_page=page, last_page=page, timeout=int(timeout), strict=strict
        )
    except PDFInfoNotInstalledError:
        raise ToolMissing("pdftoppm", "poppler-utils") from None
    except PDFPopplerTimeoutError:
        raise ToolTimeout("pdftoppm", timeout) from None
    except (PDFPageCountError, PDFSyntaxError) as e:
        detail = "; ".join(line.strip() for line in str(e).splitlines() if line.strip())
        raise ToolFailed("pdftoppm", detail or "the page cannot be rendered") from None
    if not pages:
        raise ToolFailed("pdftoppm", f"page {page} rendered to nothing")
    return pages[0]
