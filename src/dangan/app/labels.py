"""Printed labels: folder and box labels (QR with the code only, the code in large type) and
A4 cover sheets that split a scanned stack into customer folders."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from dangan.app.archive import Archive
from dangan.archive import events
from dangan.archive.paper import labels
from dangan.archive.records.views import find_record
from dangan.errors import NotFound

LABEL_KINDS = ("folder", "box", "cover")


def _business_names(archive: Archive) -> dict[str, str]:
    return {bt.code: bt.name for bt in archive.scheme.business_types.values()}


def print_labels(archive: Archive, kind: str, codes: Iterable[str], output: str | Path) -> list:
    """Write KIND labels for CODES (archive numbers or box codes; for covers: work orders,
    户号 or archive numbers) to the PDF OUTPUT; returns what was printed."""
    if kind not in LABEL_KINDS:
        raise NotFound(f"no {kind!r} labels; kinds: {', '.join(LABEL_KINDS)}")
    names = _business_names(archive)
    codes = list(codes)
    with archive.session() as s:
        events.record_event(s, events.LABEL_PRINT, archive.actor, kind, ",".join(codes)[:64], {"codes": codes})
        if kind == "cover":
            return labels.write_covers(s, codes, output, business_names=names)
        return labels.write_labels(s, kind, codes, output, business_names=names)


def record_label_kinds(paper: dict | None) -> tuple[str, ...]:
    """The labels a record can have printed now: no box label before its folder is in a box."""
    return LABEL_KINDS if (paper or {}).get("box") else tuple(k for k in LABEL_KINDS if k != "box")


def record_labels_pdf(archive: Archive, number: str, kind: str) -> tuple[bytes, str]:
    """(PDF bytes, file name) of the KIND label of record NUMBER: its folder label, the label of
    the box its folder is in, or a cover sheet for scanning supplements to it."""
    with archive.session() as s:
        record = find_record(s, number)
        code = record.number
        if kind == "box":
            if record.folder is None or record.folder.box is None:
                raise NotFound(
                    f"{record.number} is not shelved in a box: shelve its folder first (dangan shelve NUMBER BOX)"
                )
            code = record.folder.box.code
    with tempfile.TemporaryDirectory(prefix="dangan-labels-") as tmp:
        out = Path(tmp) / "labels.pdf"
        print_labels(archive, kind, [code], out)
        data = out.read_bytes()
    safe = code.replace("·", "-").replace("/", "-")
    return data, f"{kind}-{safe}.pdf"
