"""Pages through the pipeline: one page from its file to an IntakePage (master stored, steps run,
derived image stored), and the runners that process a batch's pages — this machine's process
pool by default, or a task queue (scanning.distributed)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace

import cv2

from dangan.archive.records.accession import IntakePage
from dangan.archive.store import FileStore, StoreUnavailable
from dangan.i18n import N_, archive_language, use_language
from dangan.scanning.likeness import perceptual_hash
from dangan.scanning.page import PageState, PipelineOptions, QualityFlag
from dangan.scanning.picture_text import read_pictures
from dangan.scanning.pipeline import BORN_DIGITAL_STEPS, run_pipeline
from dangan.scanning.sources import RejectedFile, SourceInfo, read_page
from dangan.tools import ToolMissing

# What a page's text came from when it is the file's own text (a PDF's text layer, an OFD), not OCR
TEXT_LAYER = "text-layer"
PAPER, ELECTRONIC = "paper", "electronic"  # where a page came from (Document.origin)


@dataclass(frozen=True)
class PageTask:
    info: SourceInfo
    page_no: int
    store_root: str
    options: PipelineOptions
    source_sha256: str = ""  # which folder of the batch the page belongs to


def process_page(task: PageTask) -> IntakePage:
    """Worker: one page from file to IntakePage. Runs in a pool process. The page's QA flags
    are stored as written, so they are written in the archive's language."""
    with use_language(archive_language()):
        return _process_page(task)


def _process_page(task: PageTask) -> IntakePage:
    store = FileStore(task.store_root)
    raw = read_page(task.info, task.page_no)
    if raw.master_is_source:  # born digital: the file as it came, stored once for all its pages
        master = store.put_file("sources", task.info.path, raw.master_suffix, sha=task.source_sha256 or None)
    else:
        master = store.put_bytes("masters", raw.master, raw.master_suffix)
    page = PageState(
        source=task.info.path, page_no=task.page_no, image=raw.image, dpi=raw.dpi, master_sha256=master.sha256
    )
    if raw.words:
        page = replace(page, text=raw.text, words=raw.words, confidence=100.0, ocr_engine=TEXT_LAYER)
        page = read_pictures(page, raw.pictures, task.options)
        page = run_pipeline(page, task.options, BORN_DIGITAL_STEPS)
    else:
        if raw.note:
            page = replace(page, flags=(*page.flags, QualityFlag("text_layer_unusable", "warn", raw.note)))
        page = run_pipeline(page, task.options)
    for problem in raw.problems:
        page = replace(page, flags=(*page.flags, QualityFlag("not_shown", "warn", problem)))
    if raw.signatures:
        page = note_signatures(page, raw.signatures)
    derived = store.put_bytes("derived", encode_derived(page), ".jpg")
    h, w = page.image.shape[:2]
    return IntakePage(
        source_page=task.page_no,
        master_path=master.relpath,
        master_sha256=master.sha256,
        master_size=master.size,
        master_format=raw.master_suffix.lstrip("."),
        derived_path=derived.relpath,
        derived_sha256=derived.sha256,
        width=w,
        height=h,
        dpi=page.dpi,
        phash=perceptual_hash(page.image),
        rotation=page.rotation,
        skew=round(page.skew, 2),
        is_blank=page.is_blank,
        is_colour=page.is_colour,
        has_seal=page.has_seal,
        text=page.text,
        words=[[wd.text, wd.left, wd.top, wd.width, wd.height, round(wd.conf, 1), wd.line] for wd in page.words],
        ocr_confidence=page.confidence,
        ocr_engine=page.ocr_engine,
        metrics={k: round(float(v), 4) for k, v in page.metrics.items()},
        flags=[f.as_dict() for f in page.flags],
        fields={k: _jsonable(v) for k, v in page.fields.items()},
        doc_type=page.doc_type,
        doc_type_score=round(page.doc_type_score, 3),
        title=_title_line(page.text),
        origin=ELECTRONIC if raw.master_is_source else PAPER,
    )


def note_signatures(page: PageState, signatures: tuple[dict, ...]) -> PageState:
    """An OFD's signatures and seals on the page they are on, as a field proposal like the
    others (valid when every signed part is unchanged); a changed one is flagged."""
    intact = all(s["check"] == "intact" for s in signatures)
    summary = "; ".join(
        f"{s['kind']} {s.get('signer') or s['company'] or s['provider']} {s['signed_at']}: {s['check']}".strip()
        for s in signatures
    )
    page = replace(
        page,
        fields={
            **page.fields,
            "signatures": {"value": summary, "confidence": 100.0, "valid": intact, "signatures": list(signatures)},
        },
        has_seal=page.has_seal or any(s["kind"] == "Seal" for s in signatures),
    )
    for s in signatures:
        if s["check"].startswith("changed"):
            text = N_(
                "A {kind} on this electronic original covers parts that changed after signing ({parts}): "
                "ask the sender for the original file."
            )
            page = page.with_flag(
                "signature_changed", "warn", text, kind=s["kind"].lower(), parts=s["check"].removeprefix("changed: ")
            )
    return page


def encode_derived(page: PageState) -> bytes:
    """The viewing copy: upright, deskewed, cropped; colour only where the page has colour."""
    img = page.image if page.is_colour else cv2.cvtColor(page.image, cv2.COLOR_RGB2GRAY)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError("could not encode the derived page image")
    return buf.tobytes()


def _title_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:80]
    return ""


def _jsonable(value):
    """Field proposals are dataclasses or dicts; the database keeps plain JSON."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value):
        value = asdict(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Staged:
    """A page a runner has already put in the batch journal (a worker staged it)."""

    page_no: int


# A runner yields each page's IntakePage (or Staged: the page is journaled already), or the
# RejectedFile saying why it could not be processed: a failure is a value, so the batch goes
# on with the other files.
PageDone = IntakePage | Staged | RejectedFile
PageRunner = Callable[[Iterable["PageTask"], int], Iterator[tuple["PageTask", PageDone]]]


def run_pages_locally(tasks: Iterable[PageTask], jobs: int) -> Iterator[tuple[PageTask, IntakePage | RejectedFile]]:
    """This machine's pool: at most two pages in flight per worker, so memory stays flat
    however long the batch."""
    if jobs == 1:
        for task in tasks:
            try:
                yield task, process_page_guarded(task)
            except RejectedFile as e:
                yield task, e
        return
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)
    in_flight: dict[Future, PageTask] = {}
    try:
        for task in tasks:
            while len(in_flight) >= 2 * jobs:
                yield from _collect(in_flight)
            in_flight[pool.submit(process_page_guarded, task)] = task
        while in_flight:
            yield from _collect(in_flight)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(in_flight: dict[Future, PageTask]) -> Iterator[tuple[PageTask, IntakePage | RejectedFile]]:
    finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
    for fut in finished:
        task = in_flight.pop(fut)
        try:
            yield task, fut.result()
        except RejectedFile as e:
            yield task, e


def process_page_guarded(task: PageTask) -> IntakePage:
    """process_page, with any failure caused by the page itself as RejectedFile. A store that
    cannot be written and a missing OCR program are not the page's fault: they are raised as
    they are, so no good file is quarantined for them."""
    try:
        return process_page(task)
    except (RejectedFile, StoreUnavailable, ToolMissing):
        raise
    except Exception as e:  # a page that breaks the engine must not take the batch down
        raise RejectedFile.of(
            "page_failed",
            N_("page {page} could not be processed ({detail}); rescan this file"),
            page=task.page_no,
            detail=f"{type(e).__name__}: {e}",
        ) from e
