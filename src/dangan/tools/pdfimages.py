"""pdfimages (poppler): the image streams embedded in a PDF page, listed, and extracted
byte for byte (a scanner's JPEG stays that JPEG; JPEG 2000 and CCITT fax streams too)."""

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


def list_images(path: str | Path, page: int | None, *, timeout: float = 120) -> list[EmbeddedImage]:
    """The images of PAGE, or of every page when PAGE is None."""
    pages = ["-f", str(page), "-l", str(page)] if page is not None else []
    out = run(["pdfimages", "-list", *pages, str(path)], timeout=timeout)
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


@dataclass(frozen=True)
class ExtractedImage:
    suffix: str  # .jpg | .jp2 | .ccitt | .png (Flate, JBIG2 and anything else, decoded)
    data: bytes
    params: str = ""  # for .ccitt: the decoding parameters, as fax2tiff options (see pdfimages(1))


def extract_images(path: str | Path, page: int, *, timeout: float = 120) -> list[ExtractedImage]:
    """The images of PAGE: JPEG, JPEG 2000 and CCITT streams exactly as stored in the PDF,
    every other kind decoded to PNG."""
    with tempfile.TemporaryDirectory(prefix="dangan-pdfimages-") as tmp:
        args = ["pdfimages", "-j", "-jp2", "-ccitt", "-png", "-f", str(page), "-l", str(page), str(path), f"{tmp}/p"]
        out = run(args, timeout=timeout)
        if out.returncode != 0:
            raise ToolFailed("pdfimages", first_line(out.stderr))
        found = []
        for f in sorted(Path(tmp).glob("p-*")):
            if f.suffix == ".params":
                continue
            params = f.with_suffix(".params")
            found.append(
                ExtractedImage(f.suffix, f.read_bytes(), params.read_text().strip() if params.exists() else "")
            )
        return found
