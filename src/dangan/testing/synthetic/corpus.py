"""Batches with their truth: the demo batch of customer folders, the OCR corpus of single pages,
long PDFs for the memory benchmark."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from dangan.testing.synthetic.forms import CONTENT
from dangan.testing.synthetic.people import BUSINESS_TYPES, CaseProfile, make_case, make_customer, pick
from dangan.testing.synthetic.render import BODY_FACES, RenderedPage, render_blank_back, render_document
from dangan.testing.synthetic.scanner import degrade, encode_jpeg, write_pdf, write_pdf_jpegs

# --------------------------------------------------------------------------------------------
# Truth records


@dataclass
class PageTruth:
    """What is on one stored page, for scoring the pipeline."""

    file: str
    page_no: int  # 1-based within the file
    doc_type: str | None  # None for a blank back page
    title: str
    text: str
    rotation: int
    skew: float
    is_blank: bool = False
    has_seal: bool = False
    seal_text: str = ""
    dpi: int = 300
    font: str = ""
    doc_index: int = 0  # which document of the file (1-based); a blank back belongs to the one before
    doc_page: int = 1
    account_no: str = ""
    id_number: str = ""
    uscc: str = ""
    work_order_no: str = ""
    customer_name: str = ""
    image_format: str = "PDF"

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n") if self.text else []


@dataclass
class CaseTruth:
    business_type: str
    business_name: str
    account_no: str
    work_order_no: str
    customer_name: str
    customer_kind: str
    address: str
    id_number: str
    uscc: str
    business_date: str
    doc_types: list[str]


@dataclass
class FileTruth:
    file: str
    case: CaseTruth
    pages: list[PageTruth] = field(default_factory=list)


@dataclass
class BatchTruth:
    seed: int
    dpi: int
    files: list[FileTruth]

    @property
    def pages(self) -> list[PageTruth]:
        return [p for f in self.files for p in f.pages]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> BatchTruth:
        data = json.loads(text)
        files = [
            FileTruth(f["file"], CaseTruth(**f["case"]), [PageTruth(**p) for p in f["pages"]]) for f in data["files"]
        ]
        return cls(data["seed"], data["dpi"], files)


def case_truth(case: CaseProfile) -> CaseTruth:
    c = case.customer
    return CaseTruth(
        case.business_type,
        case.business_name,
        c.account_no,
        case.work_order_no,
        c.name,
        c.kind,
        c.address,
        c.id_number,
        c.uscc,
        case.business_date.isoformat(),
        list(case.doc_types),
    )


def _page_truth(page: RenderedPage, case: CaseProfile, **kw) -> PageTruth:
    c = case.customer
    return PageTruth(
        doc_type=page.doc_type,
        title=page.title,
        text=page.text,
        has_seal=page.has_seal,
        seal_text=page.seal_text,
        dpi=page.dpi,
        font=page.face,
        doc_page=page.doc_page,
        account_no=c.account_no,
        id_number=c.id_number,
        uscc=c.uscc,
        work_order_no=case.work_order_no,
        customer_name=c.name,
        **kw,
    )


# --------------------------------------------------------------------------------------------
# The demo batch: one PDF per customer folder

DEMO_CASES = (
    ("XZ", "person"),
    ("ZT", "company"),
    ("GH", "person"),
    ("XZ", "person"),
    ("XH", "person"),
    ("JR", "company"),
)


def demo_cases(seed: int = 0) -> list[CaseProfile]:
    """Six cases over six customers: every demo business type, persons and companies."""
    rng = np.random.default_rng([seed, 1])
    cases, seen = [], set()
    for business_type, kind in DEMO_CASES:
        customer = make_customer(rng, kind)
        while customer.account_no in seen:
            customer = make_customer(rng, kind)
        seen.add(customer.account_no)
        cases.append(make_case(rng, business_type, customer))
    return cases


def generate_demo_batch(out_dir: str | Path, seed: int = 0, *, dpi: int = 300, jpeg_quality: int = 80) -> BatchTruth:
    """Write ``folder-NN.pdf`` (one scanned customer folder per case) and ``truth.json``.

    Pages are 300 dpi JPEG-in-PDF; some are skewed 0.5-2 degrees, all carry light dust and paper
    tone; exactly one blank back page (with show-through) and exactly one upside-down page.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 2])
    cases = demo_cases(seed)
    # the blank back follows the ID-card copy of one case; another case has the upside-down sheet
    with_sf = [i for i, c in enumerate(cases) if "SF" in c.doc_types]
    blank_case = with_sf[int(rng.integers(len(with_sf)))]
    flip_case = (blank_case + 1 + int(rng.integers(len(cases) - 1))) % len(cases)
    files = []
    for n, case in enumerate(cases, start=1):
        name = f"folder-{n:02d}.pdf"
        truth = FileTruth(name, case_truth(case))
        # every document has at least one page, so pages 2..len(doc_types) always exist
        flip_at = int(rng.integers(2, len(case.doc_types) + 1)) if n == flip_case + 1 else -1
        pages = _demo_pages(case, seed, dpi, rng, truth, blank=(n == blank_case + 1), flip_at=flip_at)
        write_pdf(out / name, pages, dpi, jpeg_quality=jpeg_quality)
        files.append(truth)
    batch = BatchTruth(seed, dpi, files)
    (out / "truth.json").write_text(batch.to_json(), encoding="utf-8")
    return batch


def _demo_pages(
    case: CaseProfile, seed: int, dpi: int, rng: np.random.Generator, truth: FileTruth, *, blank: bool, flip_at: int
) -> Iterator[Image.Image]:
    """Yield degraded pages of one folder one at a time, appending their truth as they go."""
    page_no = 0
    for doc_index, doc_type in enumerate(case.doc_types, start=1):
        for page in render_document(doc_type, case, dpi=dpi, seed=seed):
            page_no += 1
            skew = round(float(rng.uniform(0.5, 2.0) * rng.choice((-1, 1))), 2) if rng.random() < 0.5 else 0.0
            rotation = 180 if page_no == flip_at else 0
            # image noise has its own stream so the truth does not depend on the dpi
            noise = np.random.default_rng([seed, 5, int(case.work_order_no), page_no])
            yield degrade(page.image, noise, skew_deg=skew, rotate=rotation, speckle=0.0003, dpi=dpi)
            truth.pages.append(
                _page_truth(
                    page, case, file=truth.file, page_no=page_no, rotation=rotation, skew=skew, doc_index=doc_index
                )
            )
            if blank and doc_type == "SF":
                page_no += 1
                noise = np.random.default_rng([seed, 5, int(case.work_order_no), page_no])
                yield degrade(render_blank_back(page.image, noise), noise, speckle=0.0002, dpi=dpi)
                truth.pages.append(
                    PageTruth(
                        file=truth.file,
                        page_no=page_no,
                        doc_type=None,
                        title="",
                        text="",
                        rotation=0,
                        skew=0.0,
                        is_blank=True,
                        dpi=dpi,
                        doc_index=doc_index,
                        doc_page=page.doc_page + 1,
                        account_no=case.customer.account_no,
                        work_order_no=case.work_order_no,
                        customer_name=case.customer.name,
                    )
                )


# --------------------------------------------------------------------------------------------
# OCR benchmark corpus: single-page images


def generate_ocr_corpus(out_dir: str | Path, n_pages: int = 60, seed: int = 0) -> list[PageTruth]:
    """``n_pages`` single-page PNG/JPEG scans covering every document type, fonts, dpi and damage.

    Writes ``truth.json`` (list of page truths) beside the images and returns the same list.
    """
    if n_pages < 1:
        raise ValueError("the corpus needs at least one page")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 3])
    doc_types = list(CONTENT)
    business_for = {d: [b for b, (_, docs) in BUSINESS_TYPES.items() if d in docs] or ["XZ"] for d in doc_types}
    upside_down = set(rng.choice(n_pages, size=max(1, round(n_pages / 10)), replace=False).tolist())
    truths = []
    for i in range(n_pages):
        doc_type = doc_types[i % len(doc_types)]
        business = pick(rng, business_for[doc_type])
        kind = "company" if doc_type == "ZG" or business in ("ZT", "JR") else "person"
        case = make_case(rng, business, make_customer(rng, kind))
        face = BODY_FACES[(i // len(doc_types) + i) % len(BODY_FACES)]
        dpi = 300 if i % 2 == 0 else 200
        pages = render_document(
            doc_type, case, dpi=dpi, face=face, title_face=pick(rng, ("hei_bold", "song_bold", face)), seed=seed + i
        )
        # contracts alternate between the titled first page and the sealed signature page
        page = pages[-1] if doc_type == "HT" and (i // len(doc_types)) % 2 == 0 else pages[0]
        skew = round(float(rng.uniform(-4, 4)), 2)
        rotation = 180 if i in upside_down else 0
        jpeg = rng.random() < 0.5
        image = degrade(
            page.image,
            rng,
            skew_deg=skew,
            rotate=rotation,
            speckle=float(rng.uniform(0, 0.001)),
            blur=float(rng.choice((0.0, 0.0, 0.6, 1.0))),
            dpi=dpi,
            jpeg_quality=None if jpeg else int(rng.integers(40, 80)),
        )
        name = f"page-{i + 1:03d}.{'jpg' if jpeg else 'png'}"
        if jpeg:
            image.save(out / name, "JPEG", quality=int(rng.integers(60, 90)), dpi=(dpi, dpi))
        else:
            image.save(out / name, "PNG", dpi=(dpi, dpi))
        truths.append(
            _page_truth(
                page,
                case,
                file=name,
                page_no=1,
                rotation=rotation,
                skew=skew,
                doc_index=1,
                image_format="JPEG" if jpeg else "PNG",
            )
        )
    (out / "truth.json").write_text(
        json.dumps([asdict(t) for t in truths], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return truths


def load_corpus_truth(path: str | Path) -> list[PageTruth]:
    """Read the ``truth.json`` written by :func:`generate_ocr_corpus`."""
    return [PageTruth(**p) for p in json.loads(Path(path).read_text(encoding="utf-8"))]


# --------------------------------------------------------------------------------------------
# Long PDFs for memory benchmarks


def write_long_pdf(path: str | Path, n_pages: int = 200, seed: int = 0, *, dpi: int = 300) -> int:
    """A long scanner-style PDF made quickly by cycling a handful of pre-encoded degraded pages."""
    if n_pages < 1:
        raise ValueError("n_pages must be at least 1")
    rng = np.random.default_rng([seed, 4])
    case = demo_cases(seed)[0]
    pool = []
    for doc_type in case.doc_types[:4]:
        page = render_document(doc_type, case, dpi=dpi, seed=seed)[0]
        image = degrade(page.image, rng, skew_deg=float(rng.uniform(-1.5, 1.5)), speckle=0.0003, dpi=dpi)
        pool.append(encode_jpeg(image, 80, dpi))
    return write_pdf_jpegs(path, (pool[i % len(pool)] for i in range(n_pages)), dpi)
