"""One page's journey, in one place: each step is a pure function (page, options) -> page.

    orient → deskew → crop borders → blank? → colour/seal → measure quality
           → OCR (+ retry upside down when confidence says so) → fields → document type
           → quality flags

Only `ocr` calls out to an engine; nothing here touches the database, the index or any
file but the page it is given.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from scanning.page import PageState, PipelineOptions

Step = Callable[[PageState, PipelineOptions], PageState]


def ocr(page: PageState, options: PipelineOptions) -> PageState:
    from scanning.ocr import get_engine

    if page.is_blank:
        return page
    result = get_engine(options.engine).recognise(page.image, options)
    return replace(page, text=result.text, words=result.words, confidence=result.confidence,
                   ocr_engine=result.engine)


STEPS: tuple[Step, ...] = (ocr,)


def run_pipeline(page: PageState, options: PipelineOptions, steps: tuple[Step, ...] = STEPS) -> PageState:
    for step in steps:
        page = step(page, options)
    return page


def options_from_scheme(scheme, **overrides) -> PipelineOptions:
    """Pipeline options whose document-type hints come from the classification scheme."""
    hints = tuple((code, tuple(t.ocr_hints) or (t.name,)) for code, t in scheme.document_types.items())
    return PipelineOptions(doc_type_hints=hints, **overrides)
