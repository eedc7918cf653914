"""The page's resolution, when the file does not say it or says something impossible.

Phone photos, screenshots and many PNG exports record no dpi (or JFIF's default 72 for a
3000-pixel photo of an A4 sheet). Every later step measures in millimetres, so the working
``page.dpi`` is estimated from the height of the body text (Chinese body text in customer
files is 10.5-12 pt: a character about 0.13 inch high) and never left at 0. What the file
declared is kept in ``metrics['dpi_declared']``; ``metrics['dpi_source']`` says where the
working value came from (0 the file, 1 the text size, 2 the page size).
"""

from __future__ import annotations

from dataclasses import replace

from dangan.scanning.analysis import text_size
from dangan.scanning.page import PageState, PipelineOptions

CHAR_INCH = 0.13  # body character height, measured on our forms: 39 px at 300 dpi, 26 px at 200
MIN_SAMPLES = 20  # text blobs needed before the text size is trusted
PLAUSIBLE_DPI = (50, 2400)
PLAUSIBLE_LONG_SIDE_MM = (40, 1200)  # a business card to A0
AGREEMENT = 3.0  # a declared dpi more than 3x off the text's estimate is wrong (Latin text reads ~2x low)
# Cameras and image editors write 72 or 96 when they know nothing: trusted only when the text agrees closely.
SOFTWARE_DEFAULTS = (72, 96)
DEFAULT_AGREEMENT = 1.5
A4_LONG_INCH = 11.69

FROM_FILE, FROM_TEXT, FROM_PAGE_SIZE = 0.0, 1.0, 2.0


def plausible(declared: int, long_side_px: int, estimate: float) -> bool:
    if not PLAUSIBLE_DPI[0] <= declared <= PLAUSIBLE_DPI[1]:
        return False
    long_mm = long_side_px / declared * 25.4
    if not PLAUSIBLE_LONG_SIDE_MM[0] <= long_mm <= PLAUSIBLE_LONG_SIDE_MM[1]:
        return False
    agreement = DEFAULT_AGREEMENT if declared in SOFTWARE_DEFAULTS else AGREEMENT
    return not estimate or 1 / agreement <= estimate / declared <= agreement


def estimate_dpi(page: PageState) -> tuple[int, float, float, int]:
    """(working dpi, its source, character height in px, text samples) for PAGE."""
    char, samples = text_size(page.image)
    estimate = char / CHAR_INCH if samples >= MIN_SAMPLES else 0.0
    long_side = max(page.image.shape[:2])
    if page.dpi and plausible(page.dpi, long_side, estimate):
        return page.dpi, FROM_FILE, char, samples
    if estimate:
        return round(min(max(estimate, 50), 1200) / 10) * 10, FROM_TEXT, char, samples
    # No text to judge by: take it for an A4 sheet, within reason.
    return round(min(max(long_side / A4_LONG_INCH, 50), 600)), FROM_PAGE_SIZE, char, samples


def resolution(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: a working ``dpi`` that is never 0, and the body text size in
    ``metrics['char_px']`` (the detector's scale comes from it)."""
    dpi, source, char, samples = estimate_dpi(page)
    metrics = {
        **page.metrics,
        "dpi_declared": float(page.dpi),
        "dpi_source": source,
        "char_px": round(char, 1),
        "char_samples": float(samples),
    }
    return replace(page, dpi=dpi, metrics=metrics)


def working_dpi(page: PageState) -> int:
    """The page's dpi for measuring in millimetres: its own, or the estimate when it has none
    (a step run before `resolution`)."""
    return page.dpi if page.dpi > 0 else estimate_dpi(page)[0]
