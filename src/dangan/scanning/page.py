"""The page object every scanning step reads and returns.

A step is a plain function ``step(page: PageState, options: PipelineOptions) -> PageState``.
It never mutates its input: it returns ``dataclasses.replace(page, ...)``. Steps touch no
database, no index and no files except the inputs they are given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dangan.i18n import kept, render


@dataclass(frozen=True)
class Word:
    """One OCR word (for Chinese, usually one character or a short run) with its box on the
    derived image, in pixels, and Tesseract-style confidence 0-100."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float
    line: int = 0  # line number on the page, 0-based, in reading order
    alt: str = ""  # the engine's second choice for this character, when it had one


@dataclass(frozen=True)
class QualityFlag:
    """A finding a person may have to act on. severity: 'fail' sends the page to the QA
    queue as must-fix; 'warn' is shown but does not block."""

    code: str  # short machine code, e.g. 'low_dpi', 'skew', 'blur', 'low_confidence'
    severity: str  # 'fail' | 'warn'
    message: str  # says what to do, in the language it was written in
    text: str = ""  # the English message (msgid) with {placeholders}: rendered again in the reader's language
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, code: str, severity: str, text: str, /, **params: Any) -> QualityFlag:
        """A flag whose message is TEXT (marked with N_) filled with PARAMS: kept as both, so
        each reader sees it in their own language (``dangan.i18n.render``)."""
        return cls(code, severity, render(kept(text, **params)), text, params)

    def as_dict(self) -> dict[str, Any]:
        """As a page row keeps it (JSON): code, severity, the message as written, text and params."""
        out: dict[str, Any] = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.text:
            out |= {"text": self.text, "params": self.params}
        return out


ENGINES = ("rapidocr", "tesseract")  # OCR engines, the default first (see scanning.ocr)


@dataclass(frozen=True)
class PipelineOptions:
    """All tunables of the page pipeline in one validated place."""

    # PP-OCR reads names and addresses far better than Tesseract's chi_sim (bench/ocr_quality.py);
    # Tesseract stays selectable and is the fallback when the models cannot be loaded.
    engine: str = "rapidocr"
    language: str = "chi_sim"  # Tesseract's model; a page that reads as Latin is read again with eng
    psm: int = 6
    min_dpi_fail: int = 200
    min_dpi_warn: int = 300
    deskew_min_degrees: float = 0.3
    max_residual_skew: float = 3.0
    osd_min_confidence: float = 3.0
    low_confidence: float = 60.0
    # A key field (户号, name, ID number, work order) whose weakest character the engine was
    # less sure of than this (0-100) goes to the QA queue with the engine's other reading.
    field_min_confidence: float = 50.0
    # 工单编号 as the scheme defines it; OCR look-alike letters are read as digits only when it
    # says the number is digits only.
    work_order_pattern: str = r"\d{16}"
    # (code, (title hint, …)) per document type, from the classification scheme
    doc_type_hints: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (name, code) per business type, from the classification scheme
    business_type_names: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.psm not in range(14):
            raise ValueError(f"page segmentation mode must be 0-13, got {self.psm}")
        if not 0 < self.min_dpi_fail <= self.min_dpi_warn:
            raise ValueError("min_dpi_fail must be positive and not above min_dpi_warn")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown OCR engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        try:
            re.compile(self.work_order_pattern)
        except re.error as e:
            raise ValueError(
                f"work-order pattern {self.work_order_pattern!r} is not a regular expression: {e}"
            ) from None


@dataclass(frozen=True)
class PageState:
    """What is known about one page at one point of its journey through the pipeline."""

    source: str  # path of the input file the page came from
    page_no: int  # 1-based page number within that file
    image: np.ndarray  # the current *derived* image, RGB uint8 (H, W, 3) — grey (H, W) only for OCR's reading copy
    dpi: int  # resolution of the scan as recorded in the file; 0 when it records none (see `resolution`)
    master_sha256: str = ""  # checksum of the stored master image bytes
    rotation: int = 0  # clockwise degrees applied to reach upright: 0, 90, 180 or 270
    skew: float = 0.0  # degrees of skew corrected
    crop: tuple[int, int, int, int] | None = None  # (left, top, right, bottom) kept, in the rotated image
    is_blank: bool = False
    is_colour: bool = False  # page has meaningful colour (e.g. a red seal): keep colour derivatives
    has_seal: bool = False
    metrics: dict[str, float] = field(default_factory=dict)  # e.g. blur, brightness, noise
    flags: tuple[QualityFlag, ...] = ()
    text: str = ""
    words: tuple[Word, ...] = ()
    confidence: float | None = None  # mean word confidence, 0-100
    ocr_engine: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # extracted field proposals
    doc_type: str | None = None  # document type code from the classification scheme
    doc_type_score: float = 0.0
    title: str = ""  # the document title printed on the page ('' when it has none)
    title_confidence: float = 0.0  # 0-1
    # Text runs found on the current image: quadrilaterals (N, 4, 2) in its pixel coordinates,
    # kept in step by every step that turns, crops or straightens the image.
    text_boxes: np.ndarray | None = field(default=None, compare=False)

    def with_flag(self, code: str, severity: str, text: str, /, **params: Any) -> PageState:
        """The page with one more flag: TEXT (an English message marked with N_) filled with PARAMS."""
        return replace(self, flags=self.flags + (QualityFlag.of(code, severity, text, **params),))

    @property
    def gray(self) -> np.ndarray:
        import cv2

        return self.image if self.image.ndim == 2 else cv2.cvtColor(self.image, cv2.COLOR_RGB2GRAY)
