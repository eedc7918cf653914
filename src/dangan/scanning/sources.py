"""Files as they arrive: what they are, whether we can take them, and their pages one at a time.

A file is identified by its bytes, never by its extension (a text file called scan.jpg
is not an image). Anything we cannot take raises RejectedFile with a reason an operator
can act on; the batch quarantines the file and goes on.

Pages are produced one at a time: a 500-page PDF is never loaded whole.

The module is long (past 550 lines) because each format it takes (PDF, TIFF/PNG/JPEG, OFD) has
checks of its own, and each refusal keeps its reason as code + text + params for readers of any
language; the formats share the limits, the sniffing and the refusal, so they stay together.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from dangan.errors import DanganError
from dangan.i18n import N_, _, kept
from dangan.i18n import render as render_message
from dangan.scanning.ofd import OfdFile, OfdInvalid, is_ofd, reading_order
from dangan.scanning.ofd_render import drawable, render
from dangan.scanning.page import Word
from dangan.scanning.text_layer import MIN_CHARS, TextLayer, picture_boxes, read_text_layer, text_layer
from dangan.tools import ToolFailed, ToolTimeout
from dangan.tools.pdfimages import EmbeddedImage, extract_images, list_images
from dangan.tools.pdfinfo import PageGeometry, PdfEncrypted, page_geometry, pdfinfo
from dangan.tools.pdftoppm import render_page

PDF, TIFF, PNG, JPEG = "application/pdf", "image/tiff", "image/png", "image/jpeg"
OFD = "application/ofd"  # GB/T 33190-2016
SUFFIX = {PDF: ".pdf", TIFF: ".tif", PNG: ".png", JPEG: ".jpg", OFD: ".ofd"}
ACCEPTED = "PDF, OFD, TIFF, PNG or JPEG"
ZIP = "application/zip"  # an OFD when it holds OFD.xml

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
    """The file cannot be ingested; str(e) tells the operator why and what to do (in the language
    of the run), ``e.kept`` the same as code + text + params (the quarantine keeps it, so every
    reader sees it in their own language)."""

    @classmethod
    def of(cls, code: str, text: str, /, **params: object) -> RejectedFile:
        """Refused for reason CODE (stable, English): TEXT (marked with N_) filled with PARAMS."""
        reason = kept(text, **params) | {"code": code}
        e = cls(render_message(reason))
        e.kept = reason
        return e


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
    image: np.ndarray  # RGB uint8, as the page is meant to be seen (EXIF orientation applied)
    dpi: int  # as the file records it; 0 when it records none
    # A born-digital page: the source file itself is its master (MASTER is empty), and its own
    # text layer, when usable, is its text (no OCR); NOTE says why a text layer was not used.
    master_is_source: bool = False
    text: str = ""
    words: tuple[Word, ...] = ()
    note: str = ""
    # An OFD page: its signatures and seals (Signature.as_dict()), and what of it cannot be shown.
    signatures: tuple[dict, ...] = ()
    problems: tuple[str, ...] = ()
    # A born-digital page with its own text: where pictures lie on it (left, top, right, bottom
    # in pixels), which may hold text the layer does not (picture_text OCRs them).
    pictures: tuple[tuple[int, int, int, int], ...] = ()


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    return None


def inspect(path: str | Path) -> SourceInfo:
    """Check a file can be ingested and count its pages; raise RejectedFile otherwise."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise RejectedFile.of(
            "empty", N_("empty file (0 bytes): the scanner or the copy failed; scan the sheets again")
        )
    with open(path, "rb") as f:
        head = f.read(16)
    kind = sniff(head)
    if kind is None:
        looks = kept(N_("text")) if _looks_like_text(path) else kept(N_("binary data"))
        raise RejectedFile.of(
            "not_a_scan",
            N_("not a {accepted} file: its content is {looks}{extension}; export the scan again as PDF or TIFF"),
            accepted=ACCEPTED,
            looks=looks,
            extension=kept(N_(" despite the '{suffix}' extension"), suffix=path.suffix) if path.suffix else "",
        )
    if kind == PDF:
        return SourceInfo(str(path), PDF, _pdf_page_count(path))
    if kind == ZIP:
        if not is_ofd(path):
            raise RejectedFile.of(
                "zip_not_ofd",
                N_("a ZIP archive, not an OFD file (it holds no OFD.xml): unpack it and scan the files inside"),
            )
        return SourceInfo(str(path), OFD, _ofd_page_count(path))
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
        raise RejectedFile.of(
            "pdf_encrypted", N_("PDF is encrypted (password protected): save it again without a password")
        ) from None
    except ToolTimeout:
        raise RejectedFile.of(
            "pdf_timeout", N_("PDF could not be read within 2 minutes: the file is probably damaged")
        ) from None
    except ToolFailed as e:
        raise RejectedFile.of(
            "pdf_damaged", N_("PDF is damaged or truncated ({detail}); copy or scan it again"), detail=e.detail
        ) from None
    if pages == 0:
        raise RejectedFile.of("pdf_no_pages", N_("PDF has no pages"))
    if pages > MAX_PDF_PAGES:
        raise RejectedFile.of(
            "too_many_pages",
            N_("PDF has {pages} pages, more than the {limit} allowed in one file; split it"),
            pages=pages,
            limit=MAX_PDF_PAGES,
        )
    try:  # a page image past the pixel limit is refused now, before poppler spends minutes decoding it
        images = list_images(path, None, timeout=TOOL_TIMEOUT)
    except (ToolFailed, ToolTimeout):
        images = []
    for image in images:
        _check_image_pixels(image, image.page)
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
        raise RejectedFile.of(
            "image_too_large",
            N_("image is too large to be a scan ({detail}); check the scanner settings"),
            detail=str(e),
        )
    except Exception as e:  # noqa: BLE001 - Pillow signals damage with many exception types
        what = {TIFF: "TIFF", PNG: "PNG", JPEG: "JPEG"}[kind]
        raise RejectedFile.of(
            "image_damaged",
            N_("{what} image is damaged or truncated ({detail}); copy or scan it again"),
            what=what,
            detail=str(e),
        )


def _check_pixels(im: Image.Image) -> None:
    w, h = im.size
    if w * h > MAX_PIXELS:
        raise RejectedFile.of(
            "too_many_pixels",
            N_(
                "image is {w}×{h} = {mpx:.0f} megapixels, above the {limit:.0f} Mpx limit "
                "(a decompression bomb or a wrong scanner setting); rescan at 300-600 dpi"
            ),
            w=w,
            h=h,
            mpx=w * h / 1e6,
            limit=MAX_PIXELS / 1e6,
        )


def read_page(info: SourceInfo, page_no: int) -> RawPage:
    """Page PAGE_NO (1-based) of a source, loading only that page."""
    path = Path(info.path)
    if info.media_type == PDF:
        return _pdf_page(path, page_no)
    if info.media_type == OFD:
        return _ofd_page(path, page_no)
    if info.page_count == 1:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            image, dpi = pixels(im)
        return RawPage(data, SUFFIX[info.media_type], image, dpi)
    with Image.open(path) as im:  # multi-frame TIFF: each frame becomes a lossless master of its own
        im.seek(page_no - 1)
        frame = im.copy()
        frame.info.update(im.info)
        exif = im.getexif()
    image, dpi = pixels(frame, exif)
    return RawPage(*_lossless(frame), image, dpi)


def _lossless(frame: Image.Image) -> tuple[bytes, str]:
    """One frame as a file of its own, pixels unchanged: G4 TIFF for bilevel, PNG otherwise."""
    buf = io.BytesIO()
    dpi = frame.info.get("dpi")
    kw = {"dpi": dpi} if dpi and dpi[0] else {}
    if frame.mode == "1":
        frame.save(buf, format="TIFF", compression="group4", **kw)
        return buf.getvalue(), ".tif"
    frame.save(buf, format="PNG", **kw)
    return buf.getvalue(), ".png"


def declared_dpi(im: Image.Image) -> tuple[float, float]:
    """(x, y) resolution the file records, (0, 0) when it records none."""
    dpi = im.info.get("dpi")
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return 0.0, 0.0
    return (x, y) if x > 0 and y > 0 else (0.0, 0.0)


def pixels(im: Image.Image, exif: Image.Exif | None = None) -> tuple[np.ndarray, int]:
    """The page as it is meant to be seen, RGB uint8, and its resolution (0: not recorded).

    The EXIF orientation is applied (phones store the sensor's frame and a tag saying how to
    turn it), transparency is laid on white paper, 16-bit grey is scaled rather than clipped,
    and pixels that are not square (fax at 204 x 196 dpi) are made square at the higher
    resolution."""
    orientation = (exif if exif is not None else im.getexif()).get(ORIENTATION_TAG, 1)
    x_dpi, y_dpi = declared_dpi(im)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(paper, rgba).convert("RGB")
    elif im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im).astype(np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        im = Image.fromarray(np.clip(arr * 255.0 / top, 0, 255).astype(np.uint8))
    if im.mode != "RGB":
        im = im.convert("L").convert("RGB") if im.mode in ("1", "L", "P") and _grey_palette(im) else im.convert("RGB")
    if orientation in EXIF_TRANSPOSE:
        im = im.transpose(EXIF_TRANSPOSE[orientation])
        if orientation in (5, 6, 7, 8):
            x_dpi, y_dpi = y_dpi, x_dpi
    image = np.asarray(im)
    if x_dpi and y_dpi and abs(x_dpi - y_dpi) > 0.02 * max(x_dpi, y_dpi):
        h, w = image.shape[:2]
        high = max(x_dpi, y_dpi)
        size = (round(w * high / x_dpi), round(h * high / y_dpi))
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(image), round(max(x_dpi, y_dpi))


ORIENTATION_TAG = 0x0112
EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _grey_palette(im: Image.Image) -> bool:
    if im.mode != "P":
        return True
    palette = np.asarray(im.getpalette() or [], np.uint8).reshape(-1, 3)
    return bool(len(palette)) and bool(np.all(palette.max(axis=1) == palette.min(axis=1)))


# --------------------------------------------------------------------------- PDF pages

# An image covering this much of the page is the scan of it; less is a picture on a page
# made otherwise (a logo on a born-digital letter), which is rendered.
PAGE_COVERAGE = 0.8


def _pdf_page(path: Path, page_no: int) -> RawPage:
    """A scanned PDF page holds one image: that image's own stream is the master (JPEG and
    JPEG 2000 byte for byte, CCITT fax data wrapped unchanged in a TIFF, JBIG2 as lossless G4
    TIFF, Flate as PNG); a text layer on it (a scanner's or OCRmyPDF's OCR) is ignored. A page
    without a single full-page image is rendered, within the pixel limit: when it carries text
    of its own it is born digital (the file is its master), otherwise the rendering is."""
    try:
        geometry = page_geometry(path, page_no, timeout=TOOL_TIMEOUT)
        images = list_images(path, page_no, timeout=TOOL_TIMEOUT)
    except (ToolFailed, ToolTimeout):
        geometry, images = None, []  # rendering the page says what is wrong with it
    scan = _page_scan(images, geometry)
    if scan is not None:
        _check_image_pixels(scan, page_no)
        raw = _embedded_master(path, page_no, scan)
        if raw is not None:
            return _upright_as_displayed(raw, scan, geometry)
    dpi = _render_dpi(geometry)
    im = _pdf_render(path, page_no, dpi=dpi)
    if _all_one_colour(im):  # an empty page, or an image poppler could not decode and left out?
        _pdf_render(path, page_no, dpi=CHECK_DPI, strict=True)
    image = np.asarray(im.convert("RGB"))
    layer = _text_layer(path, page_no, im.size)
    if layer is not None:  # born digital: the file is the master, the rendering is for viewing
        if layer.usable:
            pictures = tuple(picture_boxes(path, page_no, im.size))
            return RawPage(b"", SUFFIX[PDF], image, dpi, True, layer.text, layer.words, pictures=pictures)
        return RawPage(b"", SUFFIX[PDF], image, dpi, True, note=layer.problem)
    buf = io.BytesIO()
    im.save(buf, format="PNG", dpi=(dpi, dpi))
    return RawPage(buf.getvalue(), ".png", image, dpi)


def _text_layer(path: Path, page_no: int, size: tuple[int, int]) -> TextLayer | None:
    try:
        return read_text_layer(path, page_no, size)
    except Exception as e:  # noqa: BLE001 - pdfium signals a page it cannot parse in several ways
        # the page renders (poppler read it): OCR reads it, and the page says why
        return TextLayer(
            "", (), _("its text layer cannot be read ({error}); the page was OCRed instead").format(error=e)
        )


def _page_scan(images: list[EmbeddedImage], geometry: PageGeometry | None) -> EmbeddedImage | None:
    """The page's one image when it is a scan of the whole page."""
    if len(images) != 1 or images[0].kind != "image" or geometry is None:
        return None
    image = images[0]
    if not image.x_ppi or not image.y_ppi:
        return None
    shown = (image.width / image.x_ppi) * (image.height / image.y_ppi) * 72 * 72
    return image if shown >= PAGE_COVERAGE * geometry.width_pt * geometry.height_pt else None


def _check_image_pixels(image: EmbeddedImage, page_no: int) -> None:
    if image.width * image.height > MAX_PIXELS:
        raise RejectedFile.of(
            "too_many_pixels",
            N_(
                "PDF page {page} holds a {w}×{h} image ({mpx:.0f} megapixels, above the {limit:.0f} Mpx limit): "
                "a wrong scanner setting or a damaged file; rescan the page at 300-600 dpi"
            ),
            page=page_no,
            w=image.width,
            h=image.height,
            mpx=image.width * image.height / 1e6,
            limit=MAX_PIXELS / 1e6,
        )


def _embedded_master(path: Path, page_no: int, scan: EmbeddedImage) -> RawPage | None:
    try:
        extracted = extract_images(path, page_no, timeout=TOOL_TIMEOUT)
    except (ToolFailed, ToolTimeout):
        return None
    if len(extracted) != 1:
        return None
    found = extracted[0]
    dpi = (scan.x_ppi, scan.y_ppi)
    try:
        if found.suffix == ".ccitt":
            data = ccitt_tiff(found.data, found.params, scan.width, scan.height, dpi)
            suffix = ".tif"
        elif found.suffix == ".png" and scan.bits == 1:  # JBIG2 and bilevel Flate: G4 keeps every pixel
            with Image.open(io.BytesIO(found.data)) as im:
                data, suffix = _lossless(im.convert("1") if im.mode != "1" else im)
        else:
            data, suffix = found.data, found.suffix
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            im.info["dpi"] = dpi
            image, used_dpi = pixels(im)
    except (OSError, ValueError, SyntaxError) as e:  # Pillow reads every kind pdfimages writes
        raise RejectedFile.of(
            "image_damaged",
            N_("PDF page {page}: its scanned image is damaged ({detail}); copy or scan the file again"),
            page=page_no,
            detail=str(e) or type(e).__name__,
        ) from None
    return RawPage(data, suffix, image, used_dpi)


def _upright_as_displayed(raw: RawPage, scan: EmbeddedImage, geometry: PageGeometry) -> RawPage:
    """Turn the pixels by the page's /Rotate when that is what makes them the shape the
    page is shown in (portrait or landscape). Orientation from the text does the rest."""
    if geometry.rotate % 180 == 0:
        return raw
    shown_portrait = geometry.width_pt > geometry.height_pt  # a landscape media box turned a quarter
    image_portrait = raw.image.shape[0] > raw.image.shape[1]
    if shown_portrait == image_portrait:
        return raw
    turned = cv2.rotate(raw.image, cv2.ROTATE_90_CLOCKWISE if geometry.rotate == 90 else cv2.ROTATE_90_COUNTERCLOCKWISE)
    return RawPage(raw.master, raw.master_suffix, np.ascontiguousarray(turned), raw.dpi)


def _render_dpi(geometry: PageGeometry | None) -> int:
    """RASTER_DPI, or less for a page so large that it would pass the pixel limit."""
    if geometry is None:
        return RASTER_DPI
    area_in2 = geometry.width_pt * geometry.height_pt / 72 / 72
    return max(10, min(RASTER_DPI, int((MAX_PIXELS * 0.95 / max(area_in2, 1e-6)) ** 0.5)))


def ccitt_tiff(data: bytes, params: str, width: int, height: int, dpi: tuple[float, float]) -> bytes:
    """CCITT fax data from a PDF, unchanged, in a single-strip TIFF (PARAMS as pdfimages
    writes them: -1/-2/-4 coding, -A/-P byte alignment, -W/-B which bit is black)."""
    flags = params.split()
    g4 = "-4" in flags
    t4 = (1 if "-2" in flags else 0) | (4 if "-A" in flags else 0)
    photometric = 0 if "-B" in flags else 1
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 1),
        (259, 3, 1, 4 if g4 else 3),
        (262, 3, 1, photometric),
        (266, 3, 1, 1),
        (273, 4, 1, 0),  # strip offset, filled in below
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, len(data)),
        (282, 5, 1, 0),  # x resolution: rational, filled in below
        (283, 5, 1, 0),
        (296, 3, 1, 2),
    ]
    if not g4:
        entries.append((292, 4, 1, t4))
    entries.sort()
    ifd_size = 2 + 12 * len(entries) + 4
    rationals = 8 + ifd_size
    strip = rationals + 16
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if tag == 273:
            value = strip
        elif tag in (282, 283):
            value = rationals + (0 if tag == 282 else 8)
        packed = struct.pack("<H", value) + b"\x00\x00" if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    out += struct.pack("<I", 0)
    out += struct.pack("<II", round(dpi[0] * 100), 100) + struct.pack("<II", round(dpi[1] * 100), 100)
    return bytes(out + data)


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
            raise RejectedFile.of(
                "image_undecodable",
                N_(
                    "PDF page {page} holds an image that cannot be decoded ({detail}): it would be archived "
                    "as a blank page; export the PDF again from the scanner, or scan the sheets again"
                ),
                page=page_no,
                detail=e.detail,
            ) from None
        raise RejectedFile.of(
            "pdf_damaged",
            N_("PDF page {page} cannot be rendered ({detail}); the file is damaged"),
            page=page_no,
            detail=e.detail,
        ) from None
    except ToolTimeout:
        raise RejectedFile.of(
            "pdf_timeout",
            N_("PDF page {page} could not be rendered within 2 minutes: the file is probably damaged"),
            page=page_no,
        ) from None


# --------------------------------------------------------------------------- OFD pages


def _ofd_page_count(path: Path) -> int:
    """Every page of an OFD is read now, so a damaged one is refused before anything is stored."""
    try:
        with OfdFile(path) as ofd:
            if ofd.page_count > MAX_PDF_PAGES:
                raise RejectedFile.of(
                    "too_many_pages",
                    N_("OFD has {pages} pages, more than the {limit} allowed in one file; split it"),
                    pages=ofd.page_count,
                    limit=MAX_PDF_PAGES,
                )
            for n in range(1, ofd.page_count + 1):
                ofd.page(n)
            ofd.signatures()
            return ofd.page_count
    except OfdInvalid as e:
        raise RejectedFile.of(
            "ofd_damaged", N_("OFD is damaged: {reason}; ask the sender for the file again"), reason=str(e)
        ) from None


@lru_cache(maxsize=4)
def _ofd_signatures(path: str, size: int, mtime_ns: int) -> tuple[dict, ...]:
    """The file's signatures, checked once per file and process (not once per page: checking
    reads every signed part)."""
    with OfdFile(path) as ofd:
        return tuple(s.as_dict() for s in ofd.signatures())


def _ofd_page(path: Path, page_no: int) -> RawPage:
    """An OFD page is born digital: the file is its master, its text is its own, the page is
    drawn for viewing; its signatures and seals go with the page they are on (a signature
    stamped on no page goes with page 1)."""
    try:
        with OfdFile(path) as ofd:
            page = ofd.page(page_no)
            area_in2 = page.box[2] * page.box[3] / 25.4 / 25.4
            dpi = max(10, min(RASTER_DPI, int((MAX_PIXELS * 0.95 / max(area_in2, 1e-6)) ** 0.5)))
            image = np.asarray(render(ofd, page, dpi))
            problems = tuple(drawable(ofd, page)) + (tuple(ofd.problems) if page_no == 1 else ())
            stat = path.stat()
            signatures = tuple(
                s
                for s in _ofd_signatures(str(path), stat.st_size, stat.st_mtime_ns)
                if s["page"] == page_no or (s["page"] is None and page_no == 1)
            )
    except OfdInvalid as e:
        raise RejectedFile.of(
            "ofd_damaged",
            N_("OFD page {page} is damaged: {reason}; ask the sender for the file again"),
            page=page_no,
            reason=str(e),
        ) from None
    chars = reading_order(page, dpi)
    common = {"signatures": signatures, "problems": problems}
    if sum(1 for c in chars if not c[0].isspace()) < MIN_CHARS:  # a scan kept as OFD: OCR reads it
        return RawPage(b"", SUFFIX[OFD], image, dpi, True, **common)
    layer = text_layer(chars)
    if layer.usable:
        k, (h, w), (x, y) = dpi / 25.4, image.shape[:2], page.box[:2]
        corners = (
            ((p.box[0] - x) * k, (p.box[1] - y) * k, (p.box[2] - x) * k, (p.box[3] - y) * k) for p in page.pictures
        )
        pictures = tuple(
            (max(0, round(x0)), max(0, round(y0)), min(w, round(x1)), min(h, round(y1))) for x0, y0, x1, y1 in corners
        )
        return RawPage(b"", SUFFIX[OFD], image, dpi, True, layer.text, layer.words, pictures=pictures, **common)
    return RawPage(b"", SUFFIX[OFD], image, dpi, True, note=layer.problem, **common)
