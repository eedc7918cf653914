"""One page's journey, in one place: each step is a pure function (page, options) -> page.

    resolution → find text → orient → crop borders → colour and seals → deskew → blank?
           → cover sheet? → measure quality → OCR (a reading copy made for the engine)
           → fields (key fields read unsurely go to the QA queue) → title and document type
           → business type → quality flags

Only `find_text` and `ocr` call out to an engine; nothing here touches the database, the
index or any file but the page it is given. The image a step leaves on the page is the
derived image we store for viewing; what the engine reads is made inside `ocr` and thrown
away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2

from dangan.scanning.classify import business_step, classify_step
from dangan.scanning.cleanup import crop_borders, deskew, detect_blank, detect_colour_and_seal
from dangan.scanning.covers import detect_cover
from dangan.scanning.field_checks import check_field_confidence
from dangan.scanning.fields import extract_fields_step
from dangan.scanning.ocr import get_engine
from dangan.scanning.orientation import orient
from dangan.scanning.page import PageState, PipelineOptions
from dangan.scanning.quality import check_quality, measure_quality
from dangan.scanning.reading import reading_copy
from dangan.scanning.regions import find_text
from dangan.scanning.resolution import resolution

Step = Callable[[PageState, PipelineOptions], PageState]

cv2.setNumThreads(1)  # parallelism is across pages, one worker per core


def ocr(page: PageState, options: PipelineOptions) -> PageState:
    """Pipeline step: the page's text and words from the engine in use (a blank page or a
    cover sheet has none)."""
    if page.is_blank or page.fields.get("cover"):  # a cover sheet says all it has in its QR
        return page
    engine = get_engine(options.engine)
    reading = reading_copy(page, engine.name)
    # A sealed page is read from its red channel, where the seal's own lettering is gone:
    # its runs are found again there (the early ones include the seal's).
    boxes = page.text_boxes if engine.name == "rapidocr" and not page.has_seal else None
    result = engine.recognise(
        reading.image,
        options,
        boxes=boxes,
        char_px=page.metrics.get("char_px", 0.0),
    )
    metrics = {**reading.metrics, "ocr_fallback": float(engine.name != options.engine)}
    return replace(
        page,
        text=result.text,
        words=result.words,
        confidence=result.confidence,
        ocr_engine=result.engine,
        metrics=metrics,
    )


STEPS: tuple[Step, ...] = (
    resolution,
    find_text,
    orient,
    crop_borders,
    detect_colour_and_seal,  # before deskew: a page without colour is straightened as one grey channel
    deskew,
    detect_blank,
    detect_cover,
    measure_quality,
    ocr,
    extract_fields_step,
    check_field_confidence,
    classify_step,
    business_step,
    check_quality,
)


# A born-digital page's text is its own (no OCR) and it was never paper: nothing to turn,
# crop, straighten or judge as a scan; its seals, fields and type are found as on a scan.
BORN_DIGITAL_STEPS: tuple[Step, ...] = (
    detect_colour_and_seal,
    extract_fields_step,
    check_field_confidence,
    classify_step,
    business_step,
)


def run_pipeline(page: PageState, options: PipelineOptions, steps: tuple[Step, ...] = STEPS) -> PageState:
    for step in steps:
        page = step(page, options)
    return page


def options_from_scheme(scheme, **overrides) -> PipelineOptions:
    """Pipeline options whose document-type hints, business types and work-order format come
    from the classification scheme."""
    hints = tuple((code, tuple(t.ocr_hints) or (t.name,)) for code, t in scheme.document_types.items())
    names = tuple((t.name, t.code) for t in scheme.business_types.values() if t.code != "QT")
    pattern = getattr(scheme, "work_order_pattern", None)
    if pattern and "work_order_pattern" not in overrides:
        overrides["work_order_pattern"] = pattern
    return PipelineOptions(doc_type_hints=hints, business_type_names=names, **overrides)
