"""One page's journey, in one place: each step is a pure function (page, options) -> page.

    orient → crop borders → deskew → blank? → cover sheet? → colour and seals → measure quality
           → OCR (the cleaned reading copy; a second try turned 180° when unsure)
           → fields → document type → business type → quality flags

Only `ocr` calls out to an engine; nothing here touches the database, the index or any
file but the page it is given. The image a step leaves on the page is the derived image
we store for viewing; what Tesseract reads (denoised, binarised, seal ink dropped) is
made inside `ocr` and thrown away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2

from dangan.scanning.classify import business_step, classify_step
from dangan.scanning.cleanup import (
    clean_for_ocr,
    crop_borders,
    deskew,
    detect_blank,
    detect_colour_and_seal,
    orient,
    turned_half,
)
from dangan.scanning.covers import detect_cover
from dangan.scanning.fields import extract_fields_step
from dangan.scanning.ocr import OcrResult, get_engine
from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.quality import check_quality, measure_quality

Step = Callable[[PageState, PipelineOptions], PageState]

cv2.setNumThreads(1)  # parallelism is across pages, one worker per core

# Below this orientation margin the layout cues disagreed; a low OCR confidence then
# is worth a second reading turned upside down.
UNSURE_ORIENTATION = 0.3


def _read(page: PageState, options: PipelineOptions) -> tuple[PageState, OcrResult]:
    reading = clean_for_ocr(page, options)
    return reading, get_engine(options.engine).recognise(reading.image, options)


def ocr(page: PageState, options: PipelineOptions) -> PageState:
    if page.is_blank or page.fields.get("cover"):  # a cover sheet says all it has in its QR
        return page
    reading, result = _read(page, options)
    unsure = page.metrics.get("orientation_margin", 1.0) < UNSURE_ORIENTATION
    if unsure and (result.confidence or 0) < options.low_confidence:
        turned = turned_half(page)
        turned_reading, turned_result = _read(turned, options)
        if (turned_result.confidence or 0) > (result.confidence or 0):
            page, reading, result = turned, turned_reading, turned_result
    return replace(
        page,
        text=result.text,
        words=result.words,
        confidence=result.confidence,
        ocr_engine=result.engine,
        metrics=reading.metrics,
    )


STEPS: tuple[Step, ...] = (
    orient,
    crop_borders,
    deskew,
    detect_blank,
    detect_cover,
    detect_colour_and_seal,
    measure_quality,
    ocr,
    extract_fields_step,
    classify_step,
    business_step,
    check_quality,
)


def run_pipeline(page: PageState, options: PipelineOptions, steps: tuple[Step, ...] = STEPS) -> PageState:
    for step in steps:
        page = step(page, options)
    return page


def options_from_scheme(scheme, **overrides) -> PipelineOptions:
    """Pipeline options whose document-type hints come from the classification scheme."""
    hints = tuple((code, tuple(t.ocr_hints) or (t.name,)) for code, t in scheme.document_types.items())
    names = tuple((t.name, t.code) for t in scheme.business_types.values() if t.code != "QT")
    return PipelineOptions(doc_type_hints=hints, business_type_names=names, **overrides)
