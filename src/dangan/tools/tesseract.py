"""tesseract, through pytesseract: OCR of one image file as TSV (words with boxes and
confidences), orientation and script detection, the version.

The image is handed over as a file the caller wrote (a lightly compressed grey PNG is
cheaper than pytesseract's own RGB PNG). pytesseract's errors become the typed tool errors
of dangan.tools, with Tesseract's own first line as the detail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dangan.tools import ToolFailed, ToolMissing, ToolTimeout

# One thread per Tesseract process: dangan parallelises across pages (4x faster, see findings).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def _call(fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> Any:
    import pytesseract

    try:
        return fn(*args, timeout=timeout, **kwargs)
    except pytesseract.TesseractNotFoundError:
        raise ToolMissing("tesseract", "tesseract-ocr") from None
    except pytesseract.TesseractError as e:
        detail = str(e.message or "").strip().splitlines()
        raise ToolFailed("tesseract", detail[0] if detail else f"exit status {e.status}") from None
    except RuntimeError as e:  # pytesseract's way of saying the timeout passed
        if "timeout" in str(e).lower():
            raise ToolTimeout("tesseract", timeout) from None
        raise


@cache
def version() -> str:
    import pytesseract

    try:
        return f"tesseract {pytesseract.get_tesseract_version()}"
    except pytesseract.TesseractNotFoundError:
        raise ToolMissing("tesseract", "tesseract-ocr") from None


@cache
def languages() -> frozenset[str]:
    import pytesseract

    try:
        return frozenset(pytesseract.get_languages(config=""))
    except pytesseract.TesseractNotFoundError:
        raise ToolMissing("tesseract", "tesseract-ocr") from None


def tsv(image: str | Path, *, language: str, psm: int, timeout: float = 600) -> str:
    """Tesseract's TSV output for the image file IMAGE."""
    import pytesseract

    config = f"--psm {psm} -c preserve_interword_spaces=0"
    return _call(pytesseract.image_to_data, str(image), lang=language, config=config, timeout=timeout)


@dataclass(frozen=True)
class Orientation:
    rotate: int  # clockwise degrees that make the page upright
    confidence: float
    script: str
    script_confidence: float


_OSD = re.compile(r"^(Rotate|Orientation confidence|Script|Script confidence):\s*(.+)$", re.MULTILINE)


def osd(image: str | Path, *, timeout: float = 120) -> Orientation | None:
    """Tesseract's orientation and script detection (--psm 0), or None when the page has too
    little text for it (Tesseract then refuses with 'Too few characters')."""
    import pytesseract

    try:
        out = _call(pytesseract.image_to_osd, str(image), config="--psm 0", timeout=timeout)
    except ToolFailed as e:
        if "few characters" in e.detail.lower() or "0 dpi" in e.detail.lower():
            return None
        raise
    found = dict(_OSD.findall(out))
    try:
        return Orientation(
            int(found["Rotate"]),
            float(found["Orientation confidence"]),
            found.get("Script", ""),
            float(found.get("Script confidence", 0)),
        )
    except (KeyError, ValueError):
        return None
