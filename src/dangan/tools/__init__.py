"""External programs, wrapped once each (as OCRmyPDF's ``_exec``): one module per tool, with
its timeouts and typed errors. Nothing else in dangan starts these programs itself.

    pdfinfo      page count and encryption of a PDF
    pdfimages    the image streams embedded in a PDF page, listed and extracted unchanged
    pdftoppm     a PDF page rendered to pixels (through pdf2image)
    pdftocairo   a PDF page as SVG (glyphs as outlines), for the OFD export
    jbig2dec     a JBIG2 picture (an OFD e-invoice's QR code) decoded
    tesseract    OCR, its version
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from dangan.errors import DanganError, Unavailable
from dangan.i18n import _


class ToolError(Unavailable):
    """An external program is missing or did not finish."""

    def __init__(self, tool: str, message: str):
        self.tool = tool
        super().__init__(message)


class ToolMissing(ToolError):
    def __init__(self, tool: str, package: str):
        super().__init__(
            tool,
            _("{tool} is not installed: install the Debian package {package} (`make setup` does)").format(
                tool=tool, package=package
            ),
        )


class ToolTimeout(ToolError):
    def __init__(self, tool: str, seconds: float):
        self.seconds = seconds
        super().__init__(tool, _("{tool} did not finish within {seconds} s").format(tool=tool, seconds=f"{seconds:g}"))


class ToolFailed(DanganError):
    """The program ran and refused the input: ``detail`` is the first thing it said."""

    def __init__(self, tool: str, detail: str):
        self.tool, self.detail = tool, detail
        super().__init__(_("{tool} failed: {detail}").format(tool=tool, detail=detail))


PACKAGES = {
    "pdfinfo": "poppler-utils",
    "pdfimages": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "tesseract": "tesseract-ocr",
    "pdftocairo": "poppler-utils",
    "jbig2dec": "jbig2dec",
}


def run(args: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run ARGS, capturing output; the caller reads the return code. Raises ToolMissing or
    ToolTimeout, never a bare OSError or TimeoutExpired."""
    tool = args[0]
    try:
        return subprocess.run(list(args), capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ToolMissing(tool, PACKAGES.get(tool, tool)) from None
    except subprocess.TimeoutExpired:
        raise ToolTimeout(tool, timeout) from None


def available(tool: str) -> bool:
    return shutil.which(tool) is not None


def first_line(stderr: bytes, default: str = "no message") -> str:
    text = stderr.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else default
