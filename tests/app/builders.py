"""Records made the way the scanner makes them (accession with real stored files: tiny PNG
masters and derived images, a PDF source), with the text and fields a test needs, through
the archive's own session, so the index follows as it does for any change."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from dangan.app.archive import Archive
from dangan.archive.records.accession import FolderIntake, IntakeDocument, IntakePage, accession_folder
from dangan.archive.records.page_fields import document_date


def png(label: str, size=(24, 32)) -> bytes:
    info = PngInfo()
    info.add_text("page", label)  # unique bytes per page
    buf = io.BytesIO()
    Image.new("L", size, 200).save(buf, format="PNG", dpi=(300, 300), pnginfo=info)
    return buf.getvalue()


def pdf(tag: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, format="PDF", title=tag)
    return buf.getvalue()


def field(value: str, valid: bool = True, label: str = "") -> dict:
    return {"value": value, "valid": valid, "confidence": 0.95, "label": label}


def add_record(
    archive: Archive,
    *,
    tag: str,
    doc_types: list[str | None],
    work_order: str | None = None,
    account: str | None = "3401405288",
    business_type: str = "",
    name: str = "王建国",
    texts: list[str] | None = None,
    fields: list[dict] | None = None,
    blank: tuple[int, ...] = (),
    cover: tuple[int, ...] = (),
    year: int = 2024,
) -> str:
    """One record, one page per document type (None: a page continuing the document before).
    Returns its archive number."""
    store = archive.store
    store.create()
    src = store.put_bytes("sources", pdf(tag), ".pdf")
    pages, docs = [], []
    for i, doc_type in enumerate(doc_types, start=1):
        master = store.put_bytes("masters", png(f"{tag}-{i}"), ".png")
        derived = store.put_bytes("derived", png(f"{tag}-{i}-derived", (12, 16)), ".png")
        page_fields = dict(fields[i - 1]) if fields else {}
        if i in cover:
            page_fields["cover"] = field(f"DANGAN:WO:{work_order}", label="QR")
        pages.append(
            IntakePage(
                source_page=i,
                master_path=master.relpath,
                master_sha256=master.sha256,
                master_size=master.size,
                master_format="png",
                derived_path=derived.relpath,
                derived_sha256=derived.sha256,
                width=24,
                height=32,
                dpi=300,
                is_blank=i in blank or i in cover,
                text="" if (i in blank or i in cover) else (texts[i - 1] if texts else f"户号 {account} {tag} 第{i}页"),
                fields=page_fields,
            )
        )
        if doc_type is None and docs:
            docs[-1][3].append(i)
        else:
            docs.append([doc_type, 0.9, f"document {doc_type}", [i]])
    documents = [
        IntakeDocument(t, s, title, nums, dated=document_date(pages[n - 1].fields for n in nums))
        for t, s, title, nums in docs
    ]
    intake = FolderIntake(
        source_name=f"{tag}.pdf",
        source_sha256=src.sha256,
        source_path=src.relpath,
        source_size=src.size,
        media_type="application/pdf",
        documents=documents,
        account_number=account,
        customer_name=name,
        address="中山路18号",
        work_order=work_order,
        business_type=business_type,
    )
    with archive.session() as s:
        return accession_folder(s, intake, pages, fonds="GD01", actor="scanner", year=year).number


def found(archive: Archive, query: str) -> list[str]:
    """The record numbers a search finds (exact hits only)."""
    from dangan.app.records import search

    data = search(archive, query, per_page=100, tolerant=False)
    return sorted(g["record_number"] for g in data["groups"])


def index_agrees(archive: Archive) -> bool:
    from dangan.app.index import check_index

    result = check_index(archive).result
    assert result.ok, f"index and database disagree: {result}"
    return True


TODAY = date(2025, 6, 16)  # a Monday
