"""What a person sees of the archive: a record in full, a page with its hit boxes, the page
image, search results, the QA queue, the quarantine list, an archive number checked.

VIEWER is the web user the result is for (公民身份号码 masked unless the user may see them,
no store paths); None is the CLI's operator on the archive's own machine, who sees all.
Every look at a record or page is an access event by the archive's actor.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.app.archive import Archive
from dangan.archive import events
from dangan.archive.audit.reports import check_case
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import ArchiveRecord, Event, Loan, Page
from dangan.archive.paper.handover import check_record
from dangan.archive.paper.loans import loan_view
from dangan.archive.paper.locations import where_is
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber, propose_corrections
from dangan.archive.records.qa import qa_queue as queued_pages
from dangan.archive.records.views import find_record, quarantine_list
from dangan.archive.records.views import record_view as base_view
from dangan.archive.store import StoreError
from dangan.archive.users import User, id_numbers_in, mask_ids, visible_fields, visible_text
from dangan.errors import NotFound
from dangan.indexing.highlight import WordBox, locate
from dangan.indexing.pages import with_boxes
from dangan.indexing.query import QUERY_SYNTAX, parse_query, positive_text_terms
from dangan.indexing.search import make_snippet, match_spans
from dangan.indexing.search import search as run_search


def _text(viewer: User | None, text: str) -> str:
    return text if viewer is None else visible_text(viewer, text)


__all__ = [
    "QUERY_SYNTAX",
    "check_number",
    "page_image",
    "page_view",
    "qa_queue",
    "quarantined",
    "record_view",
    "search",
    "visible_flags",
]


def _fields(viewer: User | None, fields: dict) -> dict:
    return fields if viewer is None else visible_fields(viewer, fields)


def _iso(t: date | datetime | None) -> str:
    return t.isoformat() if t is not None else ""


def event_row(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": _iso(e.at),
        "type": e.type,
        "actor": e.actor,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "detail": e.detail or {},
        "hash": e.hash,
    }


# --- records -------------------------------------------------------------------------------------


def record_view(archive: Archive, key: str, *, viewer: User | None = None, with_text: bool = True) -> dict[str, Any]:
    """A record by archive number or 户号: customer, case, classification and its history,
    documents and pages, events, where the paper is, its loan, and its case's completeness."""
    with archive.session() as s:
        view = base_view(s, key, store_root=str(archive.home.store_dir), with_text=with_text, actor=archive.actor)
        record = find_record(s, view["number"])
        view["classifications"] = [
            {
                "business_type": c.business_type,
                "voltage_class": c.voltage_class,
                "customer_class": c.customer_class,
                "retention": c.retention,
                "valid_from": _iso(c.valid_from) or None,
                "valid_to": _iso(c.valid_to) or None,
                "reason": c.reason,
                "actor": c.actor,
            }
            for c in record.classifications
        ]
        view["events"] = [
            event_row(e) for e in s.scalars(select(Event).where(Event.object_id == record.number).order_by(Event.seq))
        ]
        view["paper"] = _paper(s, record)
        view["loan"] = _loan(s, record)
        view["completeness"] = _completeness(s, record, archive.scheme)
    if viewer is not None:
        _for_viewer(view, viewer)
    return view


def _for_viewer(view: dict[str, Any], viewer: User) -> None:
    view.pop("store_root", None)
    c = view["completeness"]
    for key in ("problems", "missing", "invalid_fields", "unmet_preconditions", "warnings", "assumptions"):
        c[key] = [visible_text(viewer, x) for x in c[key]]
    for d in view["documents"]:
        for p in d["pages"]:
            p.pop("master", None), p.pop("derived", None)  # store paths stay on the server
            p["text"] = visible_text(viewer, p.get("text") or "")
            p["fields"] = visible_fields(viewer, p.get("fields") or {})
            p["flags"] = visible_flags(viewer, p.get("flags") or [])


def visible_flags(viewer: User | None, flags: list[dict]) -> list[dict]:
    return [
        {"code": f.get("code"), "severity": f.get("severity"), "message": _text(viewer, f.get("message") or "")}
        for f in flags
    ]


def _paper(session: Session, record: ArchiveRecord) -> dict[str, Any] | None:
    """Where the paper is; None when the record has no folder yet and is not born digital."""
    if record.folder is None and not record.born_digital:
        return None
    return where_is(session, record.number)


def _loan(session: Session, record: ArchiveRecord) -> dict[str, Any] | None:
    """The open loan of the record's paper folder, or the last return (None: never lent)."""
    if record.folder is None:
        return None
    loan = session.scalar(
        select(Loan)
        .where(Loan.folder_id == record.folder.id)
        .order_by(Loan.returned_at.is_(None).desc(), Loan.id.desc())
    )
    if loan is None:
        return None
    view = loan_view(loan) | {"open": loan.returned_at is None}
    return {k: (_iso(v) if hasattr(v, "isoformat") else v) for k, v in view.items()}


def _completeness(session: Session, record: ArchiveRecord, scheme: ClassificationScheme) -> dict[str, Any]:
    """The record's business case against the completeness rules in force: every active record
    of the case counts, as at handover; a record without a case says why it cannot be judged."""
    out: dict[str, Any] = {
        "ok": False,
        "scheme_version": scheme.version,
        "business_type": "",
        "variant": "",
        "problems": [],
        "missing": [],
        "invalid_fields": [],
        "unmet_preconditions": [],
        "warnings": [],
        "assumptions": [],
        "records": [record.number],
    }
    if record.case is None or record.status != "active":
        on_its_own = check_record(session, record, scheme)
        out["problems"], result = list(on_its_own.problems), on_its_own.result
    else:
        with_case = check_case(session, record.case, scheme)
        out["problems"], result = list(with_case.problems), with_case.result
        out["business_type"] = with_case.business_type
        out["records"] = [r.number for r in with_case.records]
    if result is not None:
        out.update(
            business_type=result.business_type,
            variant=result.variant,
            missing=[str(m) for m in result.missing],
            invalid_fields=[str(i) for i in result.invalid_fields if i.severity == "error"],
            unmet_preconditions=[str(u) for u in result.unmet_preconditions] + list(result.not_applicable),
            warnings=list(result.warnings),
            assumptions=list(result.assumptions),
        )
    out["ok"] = not (out["problems"] or out["missing"] or out["invalid_fields"] or out["unmet_preconditions"])
    return out


# --- pages ---------------------------------------------------------------------------------------


def _current_page(session: Session, page_id: int) -> Page:
    page = session.get(Page, page_id)
    if page is None or page.superseded_by_id is not None:
        raise NotFound(f"no page {page_id}")
    return page


def page_view(archive: Archive, page_id: int, *, viewer: User | None = None, query: str = "") -> dict[str, Any]:
    """One current page with the word boxes of QUERY's terms; logged as an access to its record.
    Raises QuerySyntaxError for a query that cannot be read."""
    terms = positive_text_terms(parse_query(query)) if query.strip() else []
    with archive.session() as s:
        p = _current_page(s, page_id)
        record = p.record
        events.record_event(s, events.ACCESS, archive.actor, "record", record.number, {"what": "page", "page_id": p.id})
        boxes = [asdict(b) for b in locate(_words(p), terms, tolerant=True)] if terms else []
        siblings = s.scalars(
            select(Page.id).where(Page.record_id == p.record_id, Page.superseded_by_id.is_(None)).order_by(Page.seq)
        ).all()
        data: dict[str, Any] = {
            "id": p.id,
            "record_number": record.number,
            "record_title": record.title,
            "seq": p.seq,
            "width": p.width,
            "height": p.height,
            "dpi": p.dpi,
            "qa_status": p.qa_status,
            "flags": visible_flags(viewer, p.flags or []),
            "ocr_confidence": p.ocr_confidence,
            "text": _text(viewer, p.text or ""),
            "fields": _fields(viewer, p.fields or {}),
            "query": query,
            "boxes": boxes,
            "pages": list(siblings),
        }
    if viewer is not None and not viewer.sees_ids:
        for b in data["boxes"]:
            b["text"] = mask_ids(b["text"])
    return data


def _words(page: Page) -> list[WordBox]:
    return [WordBox(*w) for w in (page.words or [])]


def page_image(archive: Archive, page_id: int, *, viewer: User | None = None) -> tuple[Path, list[tuple[int, ...]]]:
    """(the derived viewing image of a page, rectangles to black out for VIEWER). The path comes
    from the database by page id, never from the request."""
    with archive.session() as s:
        p = s.get(Page, page_id)
        if p is None or not p.derived_path:
            raise NotFound(f"no page {page_id}")
        redact: list[tuple[int, ...]] = []
        if viewer is not None and not viewer.sees_ids:
            ids = id_numbers_in(p.text or "")
            if ids:
                redact = [(b.left, b.top, b.width, b.height) for b in locate(_words(p), ids)]
        relpath = p.derived_path
    try:
        path = archive.store.path(relpath)
    except StoreError as e:
        raise NotFound(str(e)) from None
    if not path.is_file():
        raise NotFound("the page image is missing from the file store: run `dangan verify`")
    return path, redact


# --- search --------------------------------------------------------------------------------------


def search(
    archive: Archive,
    query: str,
    *,
    page: int = 1,
    per_page: int = 10,
    sort: str = "relevance",
    tolerant: bool = True,
    viewer: User | None = None,
) -> dict[str, Any]:
    """Pages matching QUERY grouped by record, exact hits first, each with its boxes on the page.
    Raises QuerySyntaxError for a query the user must fix."""
    with archive.index() as backend:
        results = run_search(backend, query, page=page, per_page=per_page, sort=sort, tolerant=tolerant)
    data = with_boxes(archive.db, results)
    if viewer is not None:
        for g in data["groups"]:
            for h in g["hits"]:
                h.pop("image", None)  # a store path: the browser gets images by page id only
        if not viewer.sees_ids:
            _mask_results(archive, data)
    return data


def _mask_results(archive: Archive, data: dict[str, Any]) -> None:
    ids = [int(h["page_id"]) for g in data["groups"] for h in g["hits"]]
    with archive.session() as s:
        texts = dict(s.execute(select(Page.id, Page.text).where(Page.id.in_(ids))).all())
    for g in data["groups"]:
        g["title"] = mask_ids(g.get("title") or "")
        for h in g["hits"]:
            masked = mask_ids(texts.get(int(h["page_id"]), ""))
            h["matched"] = [mask_ids(m) for m in h["matched"]]
            h["snippet"], h["snippet_html"] = make_snippet(masked, match_spans(masked, h["matched"]))
            for b in h["boxes"]:
                b["text"] = mask_ids(b["text"])


# --- the QA queue, quarantine, numbers ----------------------------------------------------------------


def qa_queue(archive: Archive, status: str = "flagged", *, viewer: User | None = None, limit: int = 200) -> list[dict]:
    """Pages flagged for a person (or accepted, or rescanned): what is wrong with each."""
    with archive.session() as s:
        items = queued_pages(s, status, limit=limit)
        dpi = dict(s.execute(select(Page.id, Page.dpi).where(Page.id.in_([i.page_id for i in items]))).all())
    return [
        {
            "page_id": i.page_id,
            "record": i.record,
            "seq": i.seq,
            "dpi": dpi.get(i.page_id),
            "confidence": i.confidence,
            "flags": visible_flags(viewer, i.flags or []),
        }
        for i in items
    ]


def quarantined(archive: Archive, *, viewer: User | None = None) -> list[dict[str, Any]]:
    """Files the pipeline refused, with the reason (and, for the CLI, where the bytes are kept)."""
    with archive.session() as s:
        rows = quarantine_list(s)
    if viewer is not None:
        for r in rows:
            r.pop("kept_as", None)
    return rows


def check_number(archive: Archive | None, text: str) -> dict[str, Any]:
    """Is TEXT a valid archive number? For a single typo, the numbers it was probably meant to
    be, those in the archive first (when there is an archive to look in)."""
    try:
        return {"valid": True, "number": str(ArchiveNumber.parse(text))}
    except InvalidArchiveNumber as e:
        candidates = [str(c) for c in propose_corrections(text)]
        known: list[str] = []
        if archive is not None and candidates:
            with archive.session() as s:
                known = list(s.scalars(select(ArchiveRecord.number).where(ArchiveRecord.number.in_(candidates))))
        return {"valid": False, "reason": str(e), "did_you_mean": known + [c for c in candidates if c not in known]}
