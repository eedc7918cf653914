"""Files as they arrive: what they are, whether we can take them, and their pages one at a time.

A file is identified by its bytes, never by its extension (a text file called scan.jpg
is not an image). Anything we cannot take raises RejectedFile with a reason an operator
can act on; the batch quarantines the file and goes on.

Pages are produced one at a time: a 500-page PDF is never loaded whole.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from dangan.errors import DanganError
from dangan.i18n import _
from dangan.tools import ToolFailed, ToolTimeout
from dangan.tools.pdfimages import extract_jpegs, list_images
from dangan.tools.pdfinfo import PdfEncrypted, pdfinfo
from dangan.tools.pdftoppm import render_page

PDF, TIFF, PNG, JPEG = "application/pdf", "image/tiff", "image/png", "image/jpeg"
SUFFIX = {PDF: ".pdf", TIFF: ".tif", PNG: ".png", JPEG: ".jpg"}
ACCEPTED = "PDF, TIFF, PNG or JPEG"

# A4 at 600 dpi is ~35 Mpx; anything far beyond is a decompression bomb or a mistake.
MAX_PIXELS = 80_000_000
MAX_PDF_PAGES = 5000
RASTER_DPI = 300
CHECK_DPI = 50  # enough to hear poppler say an image could not be decoded
TOOL_TIMEOUT = 120

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow raises DecompressionBombError above 2x this
# We refuse oversized images ourselves, with a reason; Pillow's warning would only be noise.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)


class RejectedFile(DanganError):
    """The file cannot be ingested; str(e) tells the operator why and what to do."""


@dataclass(frozen=True)
class SourceInfo:
    path: str
    media_type: str
    page_count: int


@dataclass(frozen=True)
class RawPage:
    """One page as delivered: the master bytes (stored untouched) and its pixels."""

    master: bytes
    master_suffix: str
    image: np.ndarray  # RGB uint8
    dpi: int


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    return None


def inspect(path: str | Path) -> SourceInfo:
    """Check a file can be ingested and count its pages; raise RejectedFile otherwise."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise RejectedFile("empty file (0 bytes): the scanner or the copy failed; scan the sheets again")
    with open(path, "rb") as f:
        head = f.read(16)
    kind = sniff(head)
    if kind is None:
        looks = "text" if _looks_like_text(path) else "binary data"
        raise RejectedFile(
            f"not a {ACCEPTED} file: its content is {looks}"
            + (f" despite the '{path.suffix}' extension" if path.suffix else "")
            + "; export the scan again as PDF or TIFF"
        )
    if kind == PDF:
        return SourceInfo(str(path), PDF, _pdf_page_count(path))
    return SourceInfo(str(path), kind, _image_frame_count(path, kind))


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as f:
        chunk = f.read(4096)
    try:
        chunk.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _pdf_page_count(path: Path) -> int:
    try:
        pages = pdfinfo(path, timeout=TOOL_TIMEOUT).pages
    except PdfEncrypted:
        raise RejectedFile("PDF is encrypted (password protected): save it again without a password") from None
    except ToolTimeout:
        raise RejectedFile("PDF could not be read within 2 minutes: the file is probably damaged") from None
    except ToolFailed as e:
        raise RejectedFile(f"PDF is damaged or truncated ({e.detail}); copy or scan it again") from None
    if pages == 0:
        raise RejectedFile("PDF has no pages")
    if pages > MAX_PDF_PAGES:
        raise RejectedFile(f"PDF has {pages} pages, more than the {MAX_PDF_PAGES} allowed in one file; split it")
    # pdfinfo reads little of a truncated file; make sure the last page really renders.
    _pdf_render(path, pages, dpi=10)
    return pages


def _image_frame_count(path: Path, kind: str) -> int:
    try:
        with Image.open(path) as im:
            _check_pixels(im)
            frames = getattr(im, "n_frames", 1)
            for i in range(frames):  # every frame must decode, or we would lose a page later
                im.seek(i)
                _check_pixels(im)
                im.load()
            return frames
    except RejectedFile:
        raise
    except Image.DecompressionBombError as e:
        raise RejectedFile(f"image is too large to be a scan ({e}); check the scanner settings")
    except Exception as e:  # noqa: BLE001 - Pillow signals damage with many exception types
        what = {TIFF: "TIFF", PNG: "PNG", JPEG: "JPEG"}[kind]
        raise RejectedFile(f"{what} image is damaged or truncated ({e}); copy or scan it again")


def _check_pixels(im: Image.Image) -> None:
    w, h = im.size
    if w * h > MAX_PIXELS:
        raise RejectedFile(
            f"image is {w}×{h} = {w * h / 1e6:.0f} megapixels, above the {MAX_PIXELS / 1e6:.0f} Mpx limit "
            "(a decompression bomb or a wrong scanner setting); rescan at 300-600 dpi"
        )


def read_page(info: SourceInfo, page_no: int) -> RawPage:
    """Page PAGE_NO (1-based) of a source, loading only that page."""
    path = Path(info.path)
    if info.media_type == PDF:
        return _pdf_page(path, page_no)
    if info.media_type in (PNG, JPEG) and info.page_count == 1:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            return RawPage(data, SUFFIX[info.media_type], _to_rgb(im), _dpi_of(im))
    with Image.open(path) as im:  # multi-frame TIFF: each frame becomes a lossless PNG master
        im.seek(page_no - 1)
        frame = im.copy()
    if info.page_count == 1:
        data = path.read_bytes()
        return RawPage(data, SUFFIX[info.media_type], _to_rgb(frame), _dpi_of(frame))
    buf = io.BytesIO()
    frame.save(buf, format="PNG", dpi=(_dpi_of(frame),) * 2)
    return RawPage(buf.getvalue(), ".png", _to_rgb(frame), _dpi_of(frame))


def _dpi_of(im: Image.Image) -> int:
    dpi = im.info.get("dpi")
    if dpi and dpi[0]:
        return round(float(dpi[0]))
    return 0  # unknown: quality check will say so


def _to_rgb(im: Image.Image) -> np.ndarray:
    im = ImageOps.exif_transpose(im) if im.format == "JPEG" else im
    if im.mode in ("1", "L", "I;16", "I"):
        im = im.convert("L").convert("RGB")
    elif im.mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im)


def _pdf_page(path: Path, page_no: int) -> RawPage:
    """A scanner PDF holds one JPEG per page: that JPEG, byte for byte, is the master.
    Anything else is rendered at 300 dpi and the rendering is the master."""
    jpeg = _single_embedded_jpeg(path, page_no)
    if jpeg is not None:
        data, dpi = jpeg
        with Image.open(io.BytesIO(data)) as im:
            return RawPage(data, ".jpg", _to_rgb(im), dpi)
    im = _pdf_render(path, page_no, dpi=RASTER_DPI)
    if _all_one_colour(im):  # an empty page, or an image poppler could not decode and left out?
        _pdf_render(path, page_no, dpi=CHECK_DPI, strict=True)
    buf = io.BytesIO()
    im.save(buf, format="PNG", dpi=(RASTER_DPI, RASTER_DPI))
    return RawPage(buf.getvalue(), ".png", _to_rgb(im), RASTER_DPI)


def _single_embedded_jpeg(path: Path, page_no: int) -> tuple[bytes, int] | None:
    try:
        images = list_images(path, page_no, timeout=TOOL_TIMEOUT)
    except ToolFailed:
        return None  # rendering the page says what is wrong with it
    if len(images) != 1:
        return None
    image = images[0]
    if image.kind != "image" or image.encoding != "jpeg" or image.colour not in ("rgb", "gray"):
        return None
    jpegs = extract_jpegs(path, page_no, timeout=TOOL_TIMEOUT)
    return (jpegs[0], image.x_ppi) if len(jpegs) == 1 else None


def _all_one_colour(im: Image.Image) -> bool:
    low, high = im.convert("L").getextrema()
    return low == high


def _pdf_render(path: Path, page_no: int, dpi: int, *, strict: bool = False) -> Image.Image:
    """Page PAGE_NO rendered; STRICT: a syntax error while rendering (an image left out because
    it cannot be decoded) refuses the file rather than archiving a blank page."""
    try:
        return render_page(path, page_no, dpi=dpi, timeout=TOOL_TIMEOUT, strict=strict)
    except ToolFailed as e:
        if strict:
            raise RejectedFile(
                _(
                    "PDF page {page} holds an image that cannot be decoded ({detail}): it would be archived "
                    "as a blank page; export the PDF again from the scanner, or scan the sheets again"
                ).format(page=page_no, detail=e.detail)
            ) from None
        raise RejectedFile(f"PDF page {page_no} cannot be rendered ({e.detail}); the file is damaged") from None
    except ToolTimeout:
        raise RejectedFile(
            f"PDF page {page_no} could not be rendered within 2 minutes: the file is probably damaged"
        ) from None
