"""Build archive records the way the scanner does: accession_folder with small intakes.
One page per document; paths and checksums are made up but unique per folder."""

from __future__ import annotations

import hashlib

from dangan.archive.records.accession import FolderIntake, IntakeDocument, IntakePage, accession_folder


def make_record(
    session,
    *,
    tag: str,
    doc_types: list[str],
    account: str | None = "3401405288",
    work_order: str | None = "WO2024000001",
    business_type: str = "XH",
    name: str = "王建国",
    fonds: str = "GD01",
    actor: str = "scanner",
    year: int = 2024,
):
    sha = hashlib.sha256(tag.encode()).hexdigest()
    docs = [IntakeDocument(t, 0.9, f"document {t}", [i]) for i, t in enumerate(doc_types, start=1)]
    intake = FolderIntake(
        source_name=f"{tag}.pdf",
        source_sha256=sha,
        source_path=f"sources/{sha}.pdf",
        source_size=1000,
        media_type="application/pdf",
        documents=docs,
        account_number=account,
        customer_name=name,
        address="中山路18号",
        work_order=work_order,
        business_type=business_type,
    )
    pages = [
        IntakePage(
            source_page=i,
            master_path=f"masters/{tag}-{i}.tif",
            master_sha256=hashlib.sha256(f"{tag}-{i}".encode()).hexdigest(),
            master_size=100,
            master_format="tiff",
            derived_path=f"derived/{tag}-{i}.png",
            derived_sha256=hashlib.sha256(f"{tag}-{i}d".encode()).hexdigest(),
            width=2480,
            height=3508,
            dpi=300,
            text=f"户号 {account} 第{i}页",
        )
        for i in range(1, len(doc_types) + 1)
    ]
    return accession_folder(session, intake, pages, fonds=fonds, actor=actor, year=year)
