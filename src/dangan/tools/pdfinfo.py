"""pdfinfo (poppler): how many pages a PDF has and whether it is encrypted."""

from __future__ import annotations

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
