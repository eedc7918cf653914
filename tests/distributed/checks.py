"""What every shared-mode test ends with: the archive as an auditor would check it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from dangan.app import Archive, audit, records
from dangan.app.index import check_index
from dangan.archive.models import ArchiveRecord, Page, SourceFile, StagedPage
from dangan.archive.store import sha256_file
from tests.conftest import render_page

NAME = "张建国"  # on every page: must never reach a worker's log


def folder_pdf(path: Path, account: str, pages: int, *, lines: int = 3, dpi: int = 200) -> Path:
    """A scanner-style folder PDF of a customer's application; every page says whose it is."""
    images = [
        render_page(
            [
                f"低压居民用电申请表 第{n}页",
                f"户号：{account}",
                f"客户名称：{NAME}",
                *[f"用电地址：合肥市蜀山区长江西路{n * 100 + i}号" for i in range(lines)],
            ],
            dpi=dpi,
        )
        for n in range(1, pages + 1)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path


def assert_archive_clean(home, folders: dict[Path, int]) -> list[ArchiveRecord]:
    """Every folder one record and every page of it exactly once, serials 1..N with no gap,
    nothing left staged, nothing quarantined; `verify --full`, `events verify` and
    `index check` clean."""
    archive = Archive.open(home.root, home.db_url)
    try:
        with archive.session() as s:
            for path, n_pages in folders.items():
                src = s.scalars(select(SourceFile).filter_by(sha256=sha256_file(path))).all()
                assert len(src) == 1, f"{path.name}: {len(src)} source rows"
                pages = s.scalars(select(Page.source_page).filter_by(source_id=src[0].id)).all()
                assert sorted(pages) == list(range(1, n_pages + 1)), f"{path.name}: pages {sorted(pages)}"
            found = s.scalars(select(ArchiveRecord).order_by(ArchiveRecord.serial)).all()
            assert [r.serial for r in found] == list(range(1, len(folders) + 1))
            assert len({r.number for r in found}) == len(folders)
            assert s.scalar(select(func.count()).select_from(Page)) == sum(folders.values())
            assert s.scalar(select(func.count()).select_from(StagedPage)) == 0
        assert records.quarantined(archive) == []
        fixity = audit.verify(archive, full=True)
        assert fixity.ok, fixity.as_dict()
        assert fixity.in_progress == []
        chain = audit.verify_chain(archive)
        assert chain["ok"] and chain["checked"] > 0, chain
        index = check_index(archive).result
        assert index.ok and index.pages == sum(folders.values()), index
        return found
    finally:
        archive.close()


def assert_no_page_text(*logs: str, account: str) -> None:
    """Worker logs carry ids, timings and outcomes: never a name or 户号 read on a page."""
    for text in logs:
        assert NAME not in text and account not in text, text[-2000:]
