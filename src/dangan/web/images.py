"""Page images for the browser: the derived (viewing) image found by page id, optionally
scaled down for thumbnails, with ID numbers blacked out for users who may not see them."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path

from PIL import Image, ImageDraw

THUMB_WIDTH = 240
Image.MAX_IMAGE_PIXELS = 200_000_000


class _Cache:
    def __init__(self, size: int = 128):
        self.size, self._d, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        return None

    def put(self, key, value):
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


_cache = _Cache()


def render(path: Path, *, width: int | None, redact: list[tuple[int, int, int, int]]) -> bytes | None:
    """JPEG bytes of the image scaled to `width` with `redact` rectangles filled black;
    None when the stored file can be sent as it is."""
    if width is None and not redact:
        return None
    key = (str(path), width, tuple(redact))
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with Image.open(path) as im:
        im = im.convert("RGB") if im.mode not in ("L", "RGB") else im.copy()
    if redact:
        draw = ImageDraw.Draw(im)
        pad = 6
        for left, top, w, h in redact:
            draw.rectangle([left - pad, top - pad, left + w + pad, top + h + pad], fill="black")
    if width and im.width > width:
        im = im.resize((width, max(1, round(im.height * width / im.width))), Image.LANCZOS)
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=82)
    data = out.getvalue()
    _cache.put(key, data)
    return data
