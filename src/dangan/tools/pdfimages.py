"""pdfimages (poppler): the image streams embedded in a PDF page, listed, and extracted
byte for byte (a scanner's JPEG stays that JPEG)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dangan.tools import ToolFailed, first_line, run

# page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
_ROW = re.compile(
    r"^\s*(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)\s+\w+\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
)


@dataclass(frozen=True)
class EmbeddedImage:
    page: int
    kind: str  # image | mask | smask | stencil
    width: int
    height: int
    colour: str  # rgb | gray | cmyk | index | ...
    bits: int
    encoding: str  # jpeg | jpx | ccitt | jbig2 | image (Flate/raw) ...
    x_ppi: int
    y_ppi: int


def list_images(path: str | Path, page: int, *, timeout: float = 120) -> list[EmbeddedImage]:
    out = run(["pdfimages", "-list", "-f", str(page), "-l", str(page), str(path)], timeout=timeout)
    if out.returncode != 0:
        raise ToolFailed("pdfimages", first_line(out.stderr))
    images = []
    for line in out.stdout.decode("utf-8", "replace").splitlines()[2:]:
        m = _ROW.match(line)
        if m:
            images.append(
                EmbeddedImage(
                    page=int(m[1]),
                    kind=m[3],
                    width=int(m[4]),
                    height=int(m[5]),
                    colour=m[6],
                    bits=int(m[8]),
                    encoding=m[9],
                    x_ppi=int(m[12]),
                    y_ppi=int(m[13]),
                )
            )
    return images


def extract_jpegs(path: str | Path, page: int, *, timeout: float = 120) -> list[bytes]:
    """The JPEG streams of PAGE exactly as they are stored in the PDF."""
    with tempfile.TemporaryDirectory(prefix="dangan-pdfimages-") as tmp:
        out = run(["pdfimages", "-j", "-f", str(page), "-l", str(page), str(path), f"{tmp}/p"], timeout=timeout)
        if out.returncode != 0:
            raise ToolFailed("pdfimages", first_line(out.stderr))
        return [f.read_bytes() for f in sorted(Path(tmp).glob("p-*.jpg"))]
