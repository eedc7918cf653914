"""Search results joined with what only the database knows: each hit's word boxes on
its page image (for the viewer to draw) and the record's title."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.models import ArchiveRecord, Page
from dangan.indexing.highlight import WordBox, locate
from dangan.indexing.search import SearchResults


def result_pages(session: Session, results: SearchResults) -> tuple[dict[int, Page], dict[str, str]]:
    """(the pages of the hits shown by id, record titles by number), in one read."""
    page_ids = [int(h.page_id) for g in results.groups for h in g.hits]
    numbers = [g.record_number for g in results.groups]
    pages = {p.id: p for p in session.scalars(select(Page).where(Page.id.in_(page_ids)))}
    titles = dict(
        session.execute(
            select(ArchiveRecord.number, ArchiveRecord.title).where(ArchiveRecord.number.in_(numbers))
        ).all()
    )
    return pages, titles


def with_boxes(results: SearchResults, pages: Mapping[int, Page], titles: Mapping[str, str]) -> dict[str, Any]:
    """The results as plain data, every hit carrying `boxes` (pixels on the derived image)
    and `image` (the derived image's store path), every group its record's title."""
    data = asdict(results)
    data["pages"] = results.pages
    for g_data, group in zip(data["groups"], results.groups):
        g_data["title"] = titles.get(group.record_number, "")
        for h_data, hit in zip(g_data["hits"], group.hits):
            page = pages.get(int(hit.page_id))
            words = [WordBox(*w) for w in page.words] if page else []
            h_data["image"] = page.derived_path if page else ""
            h_data["image_size"] = [page.width, page.height] if page else None
            h_data["boxes"] = [asdict(b) for b in locate(words, hit.matched, tolerant=hit.tolerant)]
    return data
