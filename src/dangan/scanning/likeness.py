"""A page image's perceptual hash: what it looks like in 64 bits, the same after the page is
re-encoded, rescaled or lightly damaged (archive.records.likeness compares them).

The DCT hash (pHash): the page in grey shrunk to 32×32, its lowest 8×8 frequencies, each bit
whether a coefficient lies above their median. A whole A4 form is mostly its printed layout,
so two customers' copies of one form hash alike too; the hash only says "looks the same",
the page's text decides whether it says the same.
"""

from __future__ import annotations

import cv2
import numpy as np

HASH_SIZE = 32
KEEP = 8


def perceptual_hash(image: np.ndarray) -> str:
    """64-bit pHash of an RGB or grey page image, as 16 hex digits."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray.astype(np.float32), (HASH_SIZE, HASH_SIZE), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:KEEP, :KEEP].flatten()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) does not set the threshold
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"
