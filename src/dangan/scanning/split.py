"""Splitting a file's pages into customer folders, and a folder's pages into documents.

A cover sheet (see scanning/covers.py) starts a new customer folder; pages before the first
cover form a folder of their own, as a file without covers does.

A page whose title names a document type starts a new document; a page without one
(a contract's second page, a blank back) continues the document before it. A cover sheet
is a document of its own (no document type), and the page after it starts a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from dangan.scanning.covers import cover_of


class Classified(Protocol):
    doc_type: str | None
    is_blank: bool
    fields: dict


P = TypeVar("P", bound=Classified)


def is_cover(page: Classified) -> bool:
    return cover_of(getattr(page, "fields", None)) is not None


def split_at_covers(pages: Sequence[P]) -> list[list[P]]:
    """Runs of pages, one per customer folder: each cover starts a run."""
    runs: list[list[P]] = []
    for page in pages:
        if is_cover(page) or not runs:
            runs.append([page])
        else:
            runs[-1].append(page)
    return runs


def _origin(page) -> str:
    return getattr(page, "origin", "paper")


def split_documents(pages: Sequence[P]) -> list[list[P]]:
    documents: list[list[P]] = []
    after_cover = False
    for page in pages:
        cover = is_cover(page)
        starts_new = cover or after_cover or (page.doc_type is not None and not page.is_blank)
        # an electronic original and a scan in one file are two documents
        starts_new = starts_new or bool(documents and _origin(page) != _origin(documents[-1][-1]))
        if starts_new or not documents:
            documents.append([page])
        else:
            documents[-1].append(page)
        after_cover = cover
    return documents
