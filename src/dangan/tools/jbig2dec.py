"""jbig2dec (Artifex): a JBIG2 picture decoded to pixels. OFD e-invoices carry their QR code
as JBIG2, which Pillow does not read.

A JBIG2 *file* starts with its ID string (0x97 'JB2' \\r\\n 0x1A \\n); a stream embedded
without that header (as PDF embeds it) is decoded with ``--embedded``."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from PIL import Image

from dangan.tools import ToolFailed, first_line, run

FILE_HEADER = b"\x97JB2\r\n\x1a\n"
MEMORY_LIMIT = 256 << 20  # bytes jbig2dec may allocate: a page of 20 000 x 20 000 bits fits


def is_jbig2_file(data: bytes) -> bool:
    return data.startswith(FILE_HEADER)


def decode(data: bytes, *, timeout: float = 30) -> Image.Image:
    """DATA (a JBIG2 file, or an embedded stream without its header) as a 1-bit image, black
    ink on white. Raises ToolMissing, ToolTimeout, or ToolFailed when it is not JBIG2."""
    with tempfile.TemporaryDirectory(prefix="dangan-jbig2-") as tmp:
        source, target = Path(tmp) / "in.jb2", Path(tmp) / "out.png"
        source.write_bytes(data)
        embedded = [] if is_jbig2_file(data) else ["--embedded"]
        out = run(
            ["jbig2dec", "-q", *embedded, "-M", str(MEMORY_LIMIT), "-t", "png", "-o", str(target), str(source)],
            timeout=timeout,
        )
        if out.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            raise ToolFailed("jbig2dec", first_line(out.stderr, "the data is not a JBIG2 picture"))
        try:
            with Image.open(io.BytesIO(target.read_bytes())) as im:
                im.load()
                return im.copy()
        except OSError as e:
            raise ToolFailed("jbig2dec", f"wrote no readable picture ({e})") from None
