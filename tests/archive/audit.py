"""A small archive with REAL stored files (tiny PNG masters and derived images, a PDF
source), built with accession_folder, shelving, loans and voids as an operator would,
and planted faults for the auditor reports to find."""

from __future__ import annotations

import io
import os
from datetime import date, timedelta

from PIL import Image
from sqlalchemy import select, text

from dangan.archive.models import BusinessCase, Folder, Page
from dangan.archive.paper.loans import lend, return_loan
from dangan.archive.paper.locations import mark_born_digital, shelve_folder
from dangan.archive.records.accession import FolderIntake, IntakeDocument, IntakePage, accession_folder
from dangan.archive.records.lifecycle import void_number
from tests.archive.paper import build_room

TODAY = date(2024, 6, 3)  # a Monday


def _png(label: str, size=(24, 32)) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("page", label)  # unique bytes per page, so no two pages share a stored file
    buf = io.BytesIO()
    Image.new("L", size, 200).save(buf, format="PNG", dpi=(300, 300), pnginfo=info)
    return buf.getvalue()


def _pdf(tag: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buf, format="PDF", title=tag)
    return buf.getvalue()


def add_record(
    session,
    store,
    *,
    tag: str,
    doc_types: list[str],
    work_order: str | None,
    business_type: str = "YB",
    account: str = "3401405288",
    flagged_page: int | None = None,
):
    src = store.put_bytes("sources", _pdf(tag), ".pdf")
    pages = []
    for i in range(1, len(doc_types) + 1):
        master = store.put_bytes("masters", _png(f"{tag}-{i}"), ".png")
        derived = store.put_bytes("derived", _png(f"{tag}-{i}-derived", (12, 16)), ".png")
        flags = [{"code": "blur", "severity": "fail", "message": "too blurred"}] if i == flagged_page else []
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
                text=f"户号 {account} 移表申请 {tag} 第{i}页",
                flags=flags,
            )
        )
    docs = [IntakeDocument(t, 0.9, f"document {t}", [i]) for i, t in enumerate(doc_types, start=1)]
    intake = FolderIntake(
        source_name=f"{tag}.pdf",
        source_sha256=src.sha256,
        source_path=src.relpath,
        source_size=src.size,
        media_type="application/pdf",
        documents=docs,
        account_number=account,
        customer_name="王建国",
        address="中山路18号",
        work_order=work_order,
        business_type=business_type,
    )
    return accession_folder(session, intake, pages, fonds="GD01", actor="scanner", year=2024)


def set_case(session, work_order: str, **values):
    case = session.scalar(select(BusinessCase).filter_by(work_order=work_order))
    for k, v in values.items():
        setattr(case, k, v)
    session.flush()


def build_clean(session, store) -> dict[str, str]:
    """Records that every report accepts: complete cases, shelved, scanned, verified."""
    build_room(session)
    n = {}
    n["ok"] = add_record(session, store, tag="ok", doc_types=["SQ", "SF", "ZB"], work_order="WO-OK").number
    set_case(
        session,
        "WO-OK",
        facts={"bills_settled": True},
        department="营业厅",
        stage_dates={"受理": "2024-01-02", "装表接电": "2024-01-10"},
    )
    n["ok2"] = add_record(
        session, store, tag="ok2", doc_types=["SQ", "ZG", "ZB"], work_order="WO-OK2", account="3401405289"
    ).number
    set_case(session, "WO-OK2", facts={"bills_settled": True}, department="客服")
    n["digital"] = add_record(session, store, tag="digital", doc_types=["SQ", "SF", "ZB"], work_order="WO-DIG").number
    set_case(session, "WO-DIG", facts={"bills_settled": True})
    mark_born_digital(session, n["digital"], actor="keeper", reason="received as e-file")
    for key in ("ok", "ok2"):
        shelve_folder(session, n[key], "B001", actor="keeper")
    return n


def build_faulty(session, store) -> dict[str, str]:
    """The clean archive plus one of each planted fault (see the tests for which report finds which)."""
    n = build_clean(session, store)
    # a case missing a mandatory document (装表接电工作单 ZB), no stage dates: not overdue
    n["missing"] = add_record(session, store, tag="missing", doc_types=["SQ", "SF"], work_order="WO-MISS").number
    set_case(session, "WO-MISS", facts={"bills_settled": True})
    # a conditional document required by its predicate: ownership unclear → 产权证明 CQ
    n["cond"] = add_record(session, store, tag="cond", doc_types=["SQ", "SF", "ZB"], work_order="WO-COND").number
    set_case(session, "WO-COND", facts={"bills_settled": True, "ownership_unclear": True})
    # an overdue collection: meter fitted (装表接电) in January, its work order never arrived
    n["late"] = add_record(session, store, tag="late", doc_types=["SQ", "SF"], work_order="WO-LATE").number
    set_case(
        session, "WO-LATE", facts={"bills_settled": True}, stage_dates={"受理": "2024-01-02", "装表接电": "2024-01-10"}
    )
    for key in ("missing", "cond", "late"):
        shelve_folder(session, n[key], "B001", actor="keeper")
    # a folder never scanned: paper registered in a box, no pages behind it
    session.add(Folder(code="F-PAPER-ONLY", box_id=_box_id(session, "B002"), state="in_place"))
    # a scan with no folder (and not born digital)
    n["noshelf"] = add_record(
        session, store, tag="noshelf", doc_types=["SQ", "SF", "ZB"], work_order="WO-NOSHELF"
    ).number
    set_case(session, "WO-NOSHELF", facts={"bills_settled": True})
    # a page-count mismatch: the folder came back from loan with 2 sheets, 3 were scanned
    lend(session, n["ok2"], borrower="李四", actor="keeper", today=TODAY)
    return_loan(session, n["ok2"], pages_counted=2, actor="keeper")
    # a folder on overdue loan
    lend(
        session,
        n["cond"],
        borrower="张三",
        actor="keeper",
        due_on=TODAY - timedelta(days=3),
        today=TODAY - timedelta(days=20),
    )
    # a voided number (with its reason): listed, not a gap
    n["void"] = add_record(session, store, tag="void", doc_types=["SQ"], work_order=None).number
    void_number(session, n["void"], reason="label misprinted", actor="keeper")
    # a page waiting for QA
    n["qa"] = add_record(
        session, store, tag="qa", doc_types=["SQ", "SF", "ZB"], work_order="WO-QA", flagged_page=2
    ).number
    set_case(session, "WO-QA", facts={"bills_settled": True})
    shelve_folder(session, n["qa"], "B002", actor="keeper")
    return n


def _box_id(session, code):
    from dangan.archive.models import Box

    return session.scalar(select(Box.id).filter_by(code=code))


def damage_store(session, store, numbers: dict[str, str]) -> dict[str, str]:
    """After the transaction above: a flipped bit in one master, a deleted derived file,
    an unexpected file, an edited event row. Returns the damaged paths."""
    from dangan.archive.models import ArchiveRecord

    rid = session.scalar(select(ArchiveRecord.id).filter_by(number=numbers["ok"]))
    pages = session.scalars(select(Page).filter_by(record_id=rid).order_by(Page.seq)).all()
    flipped, deleted = pages[0].master_path, pages[1].derived_path
    p = store.root / flipped
    os.chmod(p, 0o644)
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x01
    p.write_bytes(bytes(data))
    (store.root / deleted).unlink()
    stray = store.root / "masters" / "zz" / "holiday-photo.exe"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"MZ not archival")
    session.execute(text("UPDATE event SET actor = 'mallory' WHERE seq = 5"))
    return {"flipped": flipped, "deleted": deleted, "unexpected": "masters/zz/holiday-photo.exe", "event": "5"}
