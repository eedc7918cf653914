"""Synthetic scanned customer files with exact ground truth.

Builds believable customers and business cases (``people``), fills in the utility's paper
forms (``forms``), renders them as A4 page images with form grids, signatures and red seals
(``render``), degrades them like an ADF scanner would — skew, upside-down sheets, dust, paper
tone, blur, JPEG loss — and writes scanner-style PDFs (``scanner``), always together with the
truth: which document each page belongs to and the exact text printed on it (``corpus``).

Conventions of the truth:
- ``rotation``: clockwise degrees that must be applied to the stored page to make it upright
  (same meaning as ``PageState.rotation``). 180 = the sheet went through upside down.
- ``skew``: degrees the page content was turned counter-clockwise (PIL/OpenCV sign);
  undoing it means rotating by ``-skew``.
- ``lines``: printed text in reading order; cells of one form row are joined by one space.
  Seal text is not part of ``lines`` (it is reported in ``seal_text``).

Everything is deterministic for a given seed.
"""

from dangan.testing.synthetic.corpus import (
    BatchTruth,
    PageTruth,
    demo_cases,
    generate_demo_batch,
    generate_ocr_corpus,
    load_corpus_truth,
    write_long_pdf,
)
from dangan.testing.synthetic.forms import CONTENT
from dangan.testing.synthetic.people import PRINTED_TITLES, make_customers
from dangan.testing.synthetic.render import BODY_FACES, a4_pixels, render_document
from dangan.testing.synthetic.scanner import PdfStream, degrade, encode_jpeg, write_pdf

__all__ = [
    "BODY_FACES",
    "CONTENT",
    "PRINTED_TITLES",
    "BatchTruth",
    "PageTruth",
    "PdfStream",
    "a4_pixels",
    "degrade",
    "demo_cases",
    "encode_jpeg",
    "generate_demo_batch",
    "generate_ocr_corpus",
    "load_corpus_truth",
    "make_customers",
    "render_document",
    "write_long_pdf",
    "write_pdf",
]
