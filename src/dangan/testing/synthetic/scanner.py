"""What an ADF scanner does to paper (skew, upside-down sheets, dust, paper tone, blur, JPEG loss),
and scanner-style PDFs: one JPEG per page, written as a stream."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# --------------------------------------------------------------------------------------------
# Scanner degradation


def degrade(
    image: Image.Image | np.ndarray,
    rng: np.random.Generator,
    *,
    skew_deg: float = 0.0,
    rotate: int = 0,
    speckle: float = 0.0,
    jpeg_quality: int | None = None,
    blur: float = 0.0,
    dpi: int = 300,
    paper_tone: bool = True,
) -> Image.Image:
    """Make a clean page look like an ADF scan.

    skew_deg: content turned counter-clockwise by this many degrees, corners filled white.
    rotate: 0/90/180/270 — the sheet is fed so that turning the result *clockwise* by
        ``rotate`` degrees makes it upright (the truth ``rotation``).
    speckle: fraction of the page area hit by dust specks and pepper noise (0.0005 is light).
    blur: Gaussian sigma in pixels at 300 dpi (scaled to ``dpi``).
    jpeg_quality: round-trip through JPEG at this quality.
    """
    if rotate not in (0, 90, 180, 270):
        raise ValueError(f"rotate must be 0, 90, 180 or 270, got {rotate}")
    if not 0.0 <= speckle < 0.2:
        raise ValueError("speckle is a fraction of the page area, expected 0 <= speckle < 0.2")
    arr = np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else image, dtype=np.uint8)
    if arr.ndim == 2:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    scale = dpi / 300.0
    if skew_deg:
        arr = _skew(arr, skew_deg)
    if paper_tone:
        arr = _paper_and_light(arr, rng)
    if speckle:
        arr = _speckle(arr, rng, speckle, scale)
    if blur:
        arr = cv2.GaussianBlur(arr, (0, 0), blur * scale)
    if rotate:
        # rotating counter-clockwise by `rotate` means clockwise `rotate` restores it
        arr = np.ascontiguousarray(np.rot90(arr, k=rotate // 90))
    out = Image.fromarray(arr)
    if jpeg_quality:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=int(jpeg_quality))
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return out


def _skew(arr: np.ndarray, degrees: float) -> np.ndarray:
    h, w = arr.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(
        arr, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255)
    )


def _paper_and_light(arr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Slightly warm grey paper and a smooth illumination fall-off across the sheet."""
    h, w = arr.shape[:2]
    small = rng.uniform(0.95, 1.0, (4, 3))
    tone = (rng.uniform(0.97, 0.99), rng.uniform(0.96, 0.985), rng.uniform(0.93, 0.97))
    channels = []
    for ch, t in enumerate(tone):
        # gain as uint8 (255 = 1.0) keeps a 300 dpi page free of float temporaries
        gain = cv2.resize(np.round(small * t * 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
        channels.append(cv2.multiply(np.ascontiguousarray(arr[..., ch]), gain, scale=1 / 255))
    return cv2.merge(channels)


def _speckle(arr: np.ndarray, rng: np.random.Generator, amount: float, scale: float) -> np.ndarray:
    """Dust specks (small dark blobs), isolated pepper pixels and a few white drop-outs."""
    h, w = arr.shape[:2]
    out = arr.copy()
    n_pixels = int(amount * h * w)
    ys, xs = rng.integers(0, h, n_pixels), rng.integers(0, w, n_pixels)
    out[ys, xs] = rng.integers(0, 90, (n_pixels, 1)).astype(np.uint8)
    n_salt = n_pixels // 4
    ys, xs = rng.integers(0, h, n_salt), rng.integers(0, w, n_salt)
    out[ys, xs] = 250
    for _ in range(int(amount * 20000) + 2):
        r = max(1, int(rng.integers(1, 4) * scale))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        grey = int(rng.integers(20, 110))
        cv2.circle(out, centre, r, (grey, grey, grey), -1)
    return out


# --------------------------------------------------------------------------------------------
# Streaming PDF writer (one page in memory at a time)


def encode_jpeg(image: Image.Image, quality: int = 85, dpi: int = 300) -> tuple[bytes, int, int, str]:
    """JPEG bytes plus width, height and PDF colour space of a page image."""
    mode = "L" if image.mode in ("1", "L", "LA") else "RGB"
    buf = io.BytesIO()
    image.convert(mode).save(buf, "JPEG", quality=quality, dpi=(dpi, dpi), optimize=False)
    return buf.getvalue(), image.width, image.height, "/DeviceGray" if mode == "L" else "/DeviceRGB"


class PdfStream:
    """Minimal PDF 1.4 writer: objects go to disk as they come; only offsets stay in memory."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.offsets: dict[int, int] = {}
        self.next_id = 3  # 1 = catalog, 2 = page tree, written at the end
        self.page_ids: list[int] = []
        self.fh.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def obj(self, oid: int, body: bytes, stream: bytes | None = None) -> None:
        self.offsets[oid] = self.fh.tell()
        self.fh.write(b"%d 0 obj\n" % oid + body)
        if stream is not None:
            self.fh.write(b"\nstream\n")
            self.fh.write(stream)
            self.fh.write(b"\nendstream")
        self.fh.write(b"\nendobj\n")

    def add_page(self, jpeg: bytes, width: int, height: int, colour: str, dpi: float) -> None:
        img_id, content_id, page_id = self.next_id, self.next_id + 1, self.next_id + 2
        self.next_id += 3
        w_pt, h_pt = width * 72.0 / dpi, height * 72.0 / dpi
        self.obj(
            img_id,
            (
                f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                f"/ColorSpace {colour} /BitsPerComponent 8 /Filter /DCTDecode "
                f"/Length {len(jpeg)} >>"
            ).encode(),
            jpeg,
        )
        content = f"q {w_pt:.4f} 0 0 {h_pt:.4f} 0 0 cm /Im0 Do Q".encode()
        self.obj(content_id, f"<< /Length {len(content)} >>".encode(), content)
        self.obj(
            page_id,
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.4f} {h_pt:.4f}] "
                f"/Resources << /XObject << /Im0 {img_id} 0 R >> >> /Contents {content_id} 0 R >>"
            ).encode(),
        )
        self.page_ids.append(page_id)

    def close(self) -> None:
        kids = " ".join(f"{p} 0 R" for p in self.page_ids)
        self.obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.page_ids)} >>".encode())
        self.obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref_at = self.fh.tell()
        size = self.next_id
        self.fh.write(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
        for oid in range(1, size):
            self.fh.write(f"{self.offsets[oid]:010d} 00000 n \n".encode())
        self.fh.write(f"trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode())


def write_pdf(path: str | Path, pages: Iterable[Image.Image], dpi: int = 300, *, jpeg_quality: int = 85) -> int:
    """Write page images as a scanner-style PDF (one JPEG per page), streaming; returns pages written.

    Each page is encoded and written before the next is pulled from ``pages``, so a generator
    keeps memory flat however long the file is. Page size = pixels / dpi, so ``pdftoppm -r dpi``
    gives the original pixels back.
    """
    return write_pdf_jpegs(path, (encode_jpeg(p, jpeg_quality, dpi) for p in pages), dpi)


def write_pdf_jpegs(path: str | Path, jpegs: Iterable[tuple[bytes, int, int, str]], dpi: int = 300) -> int:
    """Like :func:`write_pdf` for pages already JPEG-encoded (see :func:`encode_jpeg`)."""
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        pdf = PdfStream(fh)
        for jpeg, width, height, colour in jpegs:
            pdf.add_page(jpeg, width, height, colour, dpi)
        if not pdf.page_ids:
            raise ValueError("a PDF needs at least one page")
        pdf.close()
    tmp.replace(path)  # never leave a half-written PDF under the real name
    return len(pdf.page_ids)
