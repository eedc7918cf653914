"""pdfinfo (poppler): how many pages a PDF has and whether it is encrypted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dangan.tools import ToolFailed, first_line, run


class PdfEncrypted(ToolFailed):
    def __init__(self) -> None:
        super().__init__("pdfinfo", "the PDF is encrypted (password protected)")


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    fields: dict[str, str]  # everything pdfinfo printed, "Key: value"


def pdfinfo(path: str | Path, *, timeout: float = 120) -> PdfInfo:
    """Raises PdfEncrypted, ToolFailed (damaged: its detail says how) or ToolTimeout."""
    out = run(["pdfinfo", str(path)], timeout=timeout)
    err = out.stderr.decode("utf-8", "replace")
    if "Incorrect password" in err or "encrypt" in err.lower():
        raise PdfEncrypted()
    if out.returncode != 0:
        raise ToolFailed("pdfinfo", first_line(out.stderr, "unknown error"))
    lines = out.stdout.decode("utf-8", "replace").splitlines()
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines) if v}
    if fields.get("Encrypted", "no").startswith("yes"):
        raise PdfEncrypted()
    return PdfInfo(pages=int(fields.get("Pages", "0") or 0), fields=fields)


@dataclass(frozen=True)
class PageGeometry:
    width_pt: float  # the media box, before /Rotate
    height_pt: float
    rotate: int  # the page's /Rotate: clockwise degrees a viewer turns it by


_SIZE = re.compile(r"^Page\s+(\d+)\s+size:\s+([\d.]+)\s+x\s+([\d.]+)", re.MULTILINE)
_ROT = re.compile(r"^Page\s+(\d+)\s+rot:\s+(-?\d+)", re.MULTILINE)


def page_geometry(path: str | Path, page: int, *, timeout: float = 120) -> PageGeometry:
    out = run(["pdfinfo", "-f", str(page), "-l", str(page), str(path)], timeout=timeout)
    if out.returncode != 0:
        raise ToolFailed("pdfinfo", first_line(out.stderr, "unknown error"))
    text = out.stdout.decode("utf-8", "replace")
    size, rot = _SIZE.search(text), _ROT.search(text)
    if size is None:
        raise ToolFailed("pdfinfo", f"no size reported for page {page}")
    return PageGeometry(float(size[2]), float(size[3]), int(rot[2]) % 360 if rot else 0)
