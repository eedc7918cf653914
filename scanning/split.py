"""Splitting a folder's pages into documents.

A page whose title names a document type starts a new document; a page without one
(a contract's second page, a blank back) continues the document before it.
"""
from __future__ import annotations

from typing import Protocol, Sequence, TypeVar


class Classified(Protocol):
    doc_type: str | None
    is_blank: bool


P = TypeVar("P", bound=Classified)


def split_documents(pages: Sequence[P]) -> list[list[P]]:
    documents: list[list[P]] = []
    for page in pages:
        starts_new = page.doc_type is not None and not page.is_blank
        if starts_new or not documents:
            documents.append([page])
        else:
            documents[-1].append(page)
    return documents
