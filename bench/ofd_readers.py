"""OFD readers compared on real files: dangan's own (scanning.ofd) against the PyPI libraries
that are installed (ofdkit; easyofd, which needs PyMuPDF: `pip install easyofd` to include it).

    python bench/ofd_readers.py [FOLDER_OF_OFD_FILES ...]   (default: tests/data/real)

Per file and reader: read or FAIL, characters of text found, milliseconds; then each
library's total time as a ratio to ours, measured in the same run. What each gives beyond
text is printed once at the end (a box per character, pictures, signatures)."""

from __future__ import annotations

import contextlib
import io
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from dangan.scanning.ofd import OfdFile


def ours(path: Path) -> int:
    with OfdFile(path) as ofd:
        return sum(len(ofd.page(n).glyphs) for n in range(1, ofd.page_count + 1))


def ofdkit_reader(path: Path) -> int:
    import ofdkit

    with ofdkit.open(path) as doc:
        return sum(len("".join(r.text.split())) for page in doc.pages for r in page.runs)


def easyofd_reader(path: Path) -> int:
    from easyofd import OFD
    from loguru import logger

    logger.remove()
    with contextlib.redirect_stdout(io.StringIO()):
        ofd = OFD()
        ofd.read(str(path), fmt="path")
    return sum(
        len("".join(t.get("text", "").split()))
        for doc in ofd.data
        for page in doc.get("page_info", {}).values()
        for t in page.get("text_list", [])
    )


def main() -> None:
    warnings.filterwarnings("ignore")
    folders = [Path(a) for a in sys.argv[1:]] or [ROOT / "tests" / "data" / "real"]
    files = sorted(f for d in folders for f in d.rglob("*.ofd"))
    readers = {"dangan": ours}
    for name, fn, module in (("ofdkit", ofdkit_reader, "ofdkit"), ("easyofd", easyofd_reader, "easyofd")):
        try:
            __import__(module)
            readers[name] = fn
        except ImportError:
            print(f"{name} not installed: left out")
    totals = dict.fromkeys(readers, 0.0)
    read = dict.fromkeys(readers, 0)
    print(f"{'file':34s}" + "".join(f"{n:>24s}" for n in readers))
    for f in files:
        cells = []
        for name, fn in readers.items():
            start = time.perf_counter()
            try:
                chars = fn(f)
                cell = f"{chars} ch"
                read[name] += 1
            except Exception as e:  # noqa: BLE001 - a reader failing is what we measure
                cell = f"FAIL {type(e).__name__}"
            ms = (time.perf_counter() - start) * 1000
            totals[name] += ms
            cells.append(f"{cell} {ms:7.1f}ms")
        print(f"{f.name[:34]:34s}" + "".join(f"{c:>24s}" for c in cells))
    for name in readers:
        print(
            f"{name:8s} read {read[name]}/{len(files)} files, total {totals[name]:.0f} ms, "
            f"{totals[name] / max(totals['dangan'], 1e-9):.2f}x dangan's time"
        )
    print(
        "beyond text: dangan: a box per character, pictures, lines, signatures with their signed parts checked; "
        "ofdkit: text runs (start, size, width); easyofd: text, images, PDF conversion"
    )


if __name__ == "__main__":
    main()
