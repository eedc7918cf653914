"""The OFD/A export with born-digital pages as they are (vector) against the same export with
every page as its picture (the earlier way), on born-digital PDFs and OFD originals.

    python bench/ofd_export.py [FILE.pdf|FILE.ofd ...]
    (default: a 6-page PDF written with Chinese text, tests/data/real/rapidocrpdf-direct_extract.pdf
     and the OFD files in tests/data/real)

Each file is scanned into a fresh data home and its record exported twice. Per file: pages,
pages written as vector, seconds and bytes of each export (and their ratio), the mean grey-level
difference of each export's pages drawn back (scanning.ofd_render, 150 dpi) from the original
page drawn (poppler's pdftoppm for a PDF, scanning.ofd_render for an OFD), and whether ofdkit
reads the same text from the vector export as from the original OFD (for a PDF: as from the
image export, whose text is the PDF's text layer). For a PDF, "poppler" is how far poppler's own
two drawings of the page (pdftocairo against pdftoppm) are apart: the noise between renderers."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from dangan.app import lifecycle
from dangan.app.archive import Archive
from dangan.archive.audit.ofd_export import export_ofd
from dangan.scanning.ofd import OfdFile
from dangan.scanning.ofd_render import render

DPI = 150


def _grey(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a.convert("L"), dtype=np.int16)
    y = np.asarray(b.convert("L"), dtype=np.int16)
    h, w = min(x.shape[0], y.shape[0]), min(x.shape[1], y.shape[1])
    return float(np.abs(x[:h, :w] - y[:h, :w]).mean())


def _poppler(path: Path, n: int, tmp: Path, tool: str = "pdftoppm") -> Image.Image:
    out = tmp / f"{tool}-{n}"
    pages = ["-f", str(n), "-l", str(n), "-singlefile"]
    subprocess.run([tool, "-r", str(DPI), "-gray", "-png", *pages, str(path), str(out)], check=True)
    return Image.open(f"{out}.png")


def _original(path: Path, n: int, tmp: Path) -> Image.Image:
    if path.suffix.lower() == ".pdf":
        return _poppler(path, n, tmp)
    with OfdFile(path) as ofd:
        return render(ofd, ofd.page(n), DPI)


def _text(path: Path) -> list[str]:
    import ofdkit

    with ofdkit.open(path) as doc:
        return ["".join("".join(r.text for r in p.runs).split()) for p in doc.pages]


def one(path: Path, tmp: Path) -> dict:
    home = tmp / "home"
    cli = [sys.executable, "-m", "dangan", "--home", str(home), "--as", "bench"]
    env = {"PYTHONPATH": str(ROOT / "src"), "OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run([*cli, "init"], check=True, capture_output=True, env=env)
    scan = [*cli, "scan", "--jobs", "1", "--json", str(path)]
    scanned = subprocess.run(scan, check=False, capture_output=True, env=env)  # status 3 when a page is flagged
    (folder,) = json.loads(scanned.stdout)["folders"]
    archive = Archive.open(home, actor="bench")
    t = time.perf_counter()
    vector = lifecycle.export_ofd(archive, folder["number"], tmp / "vector.ofd")
    t_vector = time.perf_counter() - t
    t = time.perf_counter()
    with archive.session() as s:
        image = export_ofd(s, folder["number"], archive.store, tmp / "image.ofd", actor="bench")
    t_image = time.perf_counter() - t
    diffs: dict[str, list[float]] = {"vector": [], "image": [], "poppler": []}
    with OfdFile(tmp / "vector.ofd") as v, OfdFile(tmp / "image.ofd") as i:
        for n in range(1, min(v.page_count, 10) + 1):  # a long file: its first ten pages
            original = _original(path, n, tmp)
            diffs["vector"].append(_grey(render(v, v.page(n), DPI), original))
            diffs["image"].append(_grey(render(i, i.page(n), DPI), original))
            if path.suffix.lower() == ".pdf":  # how far poppler's two drawings of the page are apart
                diffs["poppler"].append(_grey(_poppler(path, n, tmp, "pdftocairo"), original))
    return {
        "file": path.name,
        "pages": vector.pages,
        "vector_pages": vector.vector_pages,
        "s_vector": t_vector,
        "s_image": t_image,
        "bytes_vector": vector.size,
        "bytes_image": image.size,
        "grey_vector": float(np.mean(diffs["vector"])),
        "grey_image": float(np.mean(diffs["image"])),
        "grey_poppler": float(np.mean(diffs["poppler"])) if diffs["poppler"] else float("nan"),
        # the text a reader gets: an OFD's as the original's; a PDF's as the image export's (its text layer)
        "same_text": _text(tmp / "vector.ofd") == _text(path if path.suffix.lower() == ".ofd" else tmp / "image.ofd"),
    }


def main(paths: list[Path]) -> None:
    print(f"{'file':34} {'pages':>5} {'vec':>3} {'s vec':>6} {'s img':>6} {'KB vec':>7} {'KB img':>7} "
          f"{'size':>5} {'grey vec':>8} {'grey img':>8} {'poppler':>7} text")  # fmt: skip
    rows = []
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="bench-ofd-") as tmp:
            try:
                r = one(path, Path(tmp))
            except Exception as e:  # noqa: BLE001 - say which file and go on
                print(f"{path.name:34} FAILED {type(e).__name__}: {e}")
                continue
        rows.append(r)
        kb_v, kb_i = r["bytes_vector"] / 1024, r["bytes_image"] / 1024
        print(
            f"{r['file'][:34]:34} {r['pages']:5} {r['vector_pages']:3} {r['s_vector']:6.2f} {r['s_image']:6.2f} "
            f"{kb_v:7.1f} {kb_i:7.1f} {kb_v / kb_i:5.2f} {r['grey_vector']:8.2f} {r['grey_image']:8.2f} "
            f"{r['grey_poppler']:7.2f} {'same' if r['same_text'] else 'DIFFERS'}"
        )
    if rows:
        kb_v, kb_i = sum(r["bytes_vector"] for r in rows), sum(r["bytes_image"] for r in rows)
        print(f"total: vector {kb_v / 1024:.0f} KB, image {kb_i / 1024:.0f} KB ({kb_v / kb_i:.2f}x)")


def _defaults(tmp: Path) -> list[Path]:
    from dangan.testing.born_digital import write_born_digital_pdf

    synthetic = tmp / "synthetic-6-pages.pdf"
    lines = ["供用电合同", "工单编号 2024031500001234", "用电人 欧阳修远 户号 3301082231", "合同容量 315 千伏安"]
    write_born_digital_pdf(synthetic, [[f"第{n}页", *lines] * 3 for n in range(1, 7)])
    real = ROOT / "tests" / "data" / "real"
    return [synthetic, real / "rapidocrpdf-direct_extract.pdf", *sorted(real.glob("*.ofd"))]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-ofd-in-") as inputs:
        main([Path(p) for p in sys.argv[1:]] or _defaults(Path(inputs)))
