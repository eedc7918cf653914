"""What a person sees of the archive: a record in full, a page with its hit boxes, the page
image, search results, the QA queue, the quarantine list, an archive number checked.

VIEWER is the web user the result is for: personal values masked unless they may see them
(archive.personal; the classification scheme says what is personal), no store paths, no
replaced pages unless they may see history. None is the CLI's operator on the archive's own
machine, who sees all.

Every read is an event by the archive's actor: a record, a page, a page image (once per page
and log-in session), a search (its query masked where personal) and a search refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.app.archive import Archive
from dangan.archive import events, login
from dangan.archive.audit.reports import check_case
from dangan.archive.business.scheme import ClassificationScheme
from dangan.archive.models import ArchiveRecord, Event, Loan, Page
from dangan.archive.paper.handover import check_record
from dangan.archive.paper.loans import loan_view
from dangan.archive.paper.locations import where_is
from dangan.archive.personal import PersonalData
from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber, propose_corrections
from dangan.archive.records.qa import qa_queue as queued_pages
from dangan.archive.records.views import find_record, page_by_id, quarantine_list
from dangan.archive.records.views import record_view as base_view
from dangan.archive.store import StoreError
from dangan.archive.users import User
from dangan.errors import DanganError, NotFound, without_paths
from dangan.i18n import _, render
from dangan.indexing.backend import SORTS
from dangan.indexing.highlight import WordBox, locate
from dangan.indexing.pages import result_pages, with_boxes
from dangan.indexing.query import QUERY_SYNTAX, parse_query, positive_text_terms, typed_values
from dangan.indexing.search import make_snippet, match_spans
from dangan.indexing.search import search as run_search

SEARCH_SORTS = SORTS  # relevance; date, newest first; account (户号) or business type, ascending
Rect = tuple[int, int, int, int]

__all__ = [
    "QUERY_SYNTAX",
    "SEARCH_SORTS",
    "SearchRefused",
    "check_number",
    "masking",
    "may_see_history",
    "page_flags",
    "page_image",
    "page_view",
    "qa_queue",
    "quarantined",
    "record_view",
    "search",
    "visible_flags",
]


class SearchRefused(DanganError):
    """A search this user may not make (the reason says why and what to search instead)."""

    http_status = 403


def masking(archive: Archive, viewer: User | None) -> PersonalData | None:
    """How VIEWER sees personal values: None when they see them as they are."""
    return None if viewer is None or viewer.sees_ids else archive.scheme.personal


def may_see_history(viewer: User | None) -> bool:
    return viewer is None or viewer.can("history")


def _iso(t: date | datetime | None) -> str:
    return t.isoformat() if t is not None else ""


def event_row(e: Event, personal: PersonalData | None = None) -> dict[str, Any]:
    detail = e.detail or {}
    return {
        "seq": e.seq,
        "at": _iso(e.at),
        "type": e.type,
        "actor": e.actor,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "detail": personal.mask_data(detail) if personal else detail,
        "hash": e.hash,
    }


# --- records -------------------------------------------------------------------------------------


def record_view(archive: Archive, key: str, *, viewer: User | None = None, with_text: bool = True) -> dict[str, Any]:
    """A record by archive number or 户号: customer, case, classification and its history,
    documents and pages, events, where the paper is, its loan, and its case's completeness;
    for those who may see history, the pages replaced by rescans."""
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
        personal = masking(archive, viewer)
        view["events"] = [
            event_row(e, personal)
            for e in s.scalars(select(Event).where(Event.object_id == record.number).order_by(Event.seq))
        ]
        view["paper"] = _paper(s, record)
        view["loan"] = _loan(s, record)
        view["completeness"] = _completeness(s, record, archive.scheme)
        view["replaced_pages"] = _replaced(s, record) if may_see_history(viewer) else []
    with_names(view, archive.scheme)
    if viewer is not None:
        _for_viewer(view, personal)
    return view


def with_names(view: dict[str, Any], scheme: ClassificationScheme) -> None:
    """The scheme's names beside the codes people know them by (``business_type_name`` next to
    ``business_type``, ``doc_type_name`` next to ``doc_type``): keys and codes stay as they were."""

    def name(table: Mapping[str, Any], code: str | None) -> str:
        found = table.get(code or "")
        return found.name if found is not None else ""

    for part in (view.get("case"), view.get("classification"), *view.get("classifications", [])):
        if part and "business_type" in part:
            part["business_type_name"] = name(scheme.business_types, part["business_type"])
    for d in view.get("documents", []):
        d["doc_type_name"] = name(scheme.document_types, d.get("doc_type"))


def _replaced(session: Session, record: ArchiveRecord) -> list[dict[str, Any]]:
    pages = session.scalars(
        select(Page).where(Page.record_id == record.id, Page.superseded_by_id.is_not(None)).order_by(Page.id)
    )
    return [
        {"id": p.id, "seq": p.seq, "replaced_by": p.superseded_by_id, "qa_status": p.qa_status, "dpi": p.dpi}
        for p in pages
    ]


def _for_viewer(view: dict[str, Any], personal: PersonalData | None) -> None:
    view.pop("store_root", None)
    for d in view["documents"]:
        for p in d["pages"]:
            p.pop("master", None), p.pop("derived", None)  # store paths stay on the server
    if personal is None:
        return
    c = view["completeness"]
    for key in ("problems", "missing", "invalid_fields", "unmet_preconditions", "warnings", "assumptions"):
        c[key] = [personal.mask_text(x) for x in c[key]]
    for cls in view["classifications"]:
        cls["reason"] = personal.mask_text(cls["reason"] or "")
    for d in view["documents"]:
        for p in d["pages"]:
            known = personal.field_values(p.get("fields"))
            p["text"] = personal.mask_text(p.get("text") or "", known)
            p["fields"] = personal.mask_fields(p.get("fields"))
            p["flags"] = visible_flags(personal, p.get("flags") or [], known)


def visible_flags(personal: PersonalData | None, flags: list[dict], known: list[str] | None = None) -> list[dict]:
    """A page's QA flags as a viewer sees them: the message in the viewer's language (a flag kept
    as text + params is rendered now; an older one, kept as words only, shows its words), its
    params beside it, personal values masked in both."""

    def mask(value: Any) -> Any:
        if personal is None:
            return value
        if isinstance(value, str):
            return personal.mask_text(value, known or ())
        if isinstance(value, Mapping):
            return {k: mask(v) for k, v in value.items()}
        return value

    out = []
    for f in flags:
        written = f.get("message") or ""
        params = f.get("params") if isinstance(f.get("params"), Mapping) else None
        message = render(f, fallback=written)
        out.append(
            {
                "code": f.get("code"),
                "severity": f.get("severity"),
                "message": mask(message),
                "params": mask(dict(params)) if params is not None else None,
            }
        )
    return out


def page_flags(archive: Archive, page_id: int, *, viewer: User | None = None) -> list[dict]:
    """A page's QA flags as VIEWER sees them (no access event: the page itself is not shown)."""
    personal = masking(archive, viewer)
    with archive.session() as s:
        p = _page_for(s, page_id, viewer)
        return visible_flags(personal, p.flags or [], personal.field_values(p.fields) if personal else [])


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
        "scheme_sha256": scheme.sha256,
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


def _page_for(session: Session, page_id: int, viewer: User | None) -> Page:
    """A page VIEWER may look at: a current one, or a replaced one if they may see history."""
    page = page_by_id(session, page_id)
    if page is None or (page.superseded_by_id is not None and not may_see_history(viewer)):
        raise NotFound(_("no page {id}").format(id=page_id))
    return page


def _redactions(personal: PersonalData | None, page: Page) -> list[Rect]:
    """Rectangles of the page image holding personal values, for a viewer who may not see them."""
    if personal is None:
        return []
    values = tuple(personal.found_in(page.text or "", personal.field_values(page.fields)))
    if not values:
        return []
    return list(_located(page.id, values, page.words or []))


_REDACTIONS: dict[tuple[int, tuple[str, ...]], tuple[Rect, ...]] = {}


def _located(page_id: int, values: tuple[str, ...], words: list) -> tuple[Rect, ...]:
    """Where VALUES are among a page's OCR words. A stored page's words never change (a rescan
    makes a new page), so each page and set of values is located once per process."""
    key = (page_id, values)
    found = _REDACTIONS.get(key)
    if found is None:
        if len(_REDACTIONS) > 4096:
            _REDACTIONS.clear()
        boxes = locate([WordBox(*w) for w in words], values)
        found = _REDACTIONS[key] = tuple((b.left, b.top, b.width, b.height) for b in boxes)
    return found


def _outside(boxes: list[dict[str, Any]], redact: list[Rect], personal: PersonalData | None) -> list[dict[str, Any]]:
    """Hit boxes that do not touch a blacked-out value (a box there would say what it holds)."""

    def touches(b: dict[str, Any], r: Rect) -> bool:
        return not (
            b["left"] + b["width"] <= r[0]
            or r[0] + r[2] <= b["left"]
            or b["top"] + b["height"] <= r[1]
            or r[1] + r[3] <= b["top"]
        )

    kept = [b for b in boxes if not any(touches(b, r) for r in redact)]
    if personal is not None:
        for b in kept:
            b["text"] = personal.mask_text(b["text"])
    return kept


def page_view(archive: Archive, page_id: int, *, viewer: User | None = None, query: str = "") -> dict[str, Any]:
    """One page with the word boxes of QUERY's terms; logged as an access to its record. A page
    replaced by a rescan is shown only to those who may see history (`replaced_by` says by
    which). Raises QuerySyntaxError for a query that cannot be read."""
    terms = positive_text_terms(parse_query(query)) if query.strip() else []
    personal = masking(archive, viewer)
    with archive.session() as s:
        p = _page_for(s, page_id, viewer)
        record = p.record
        events.record_event(s, events.ACCESS, archive.actor, "record", record.number, {"what": "page", "page_id": p.id})
        boxes = [asdict(b) for b in locate(_words(p), terms, tolerant=True)] if terms else []
        siblings = s.scalars(
            select(Page.id).where(Page.record_id == p.record_id, Page.superseded_by_id.is_(None)).order_by(Page.seq)
        ).all()
        known = personal.field_values(p.fields) if personal else []
        data = {
            "id": p.id,
            "record_number": record.number,
            "record_title": record.title,
            "seq": p.seq,
            "width": p.width,
            "height": p.height,
            "dpi": p.dpi,
            "qa_status": p.qa_status,
            "replaced_by": p.superseded_by_id,
            "flags": visible_flags(personal, p.flags or [], known),
            "ocr_confidence": p.ocr_confidence,
            "text": personal.mask_text(p.text or "", known) if personal else p.text or "",
            "fields": personal.mask_fields(p.fields) if personal else p.fields or {},
            "query": query,
            "boxes": _outside(boxes, _redactions(personal, p), personal),
            "pages": list(siblings),
        }
    return data


def _words(page: Page) -> list[WordBox]:
    return [WordBox(*w) for w in (page.words or [])]


def page_image(
    archive: Archive, page_id: int, *, viewer: User | None = None, session_digest: str | None = None
) -> tuple[Path, list[Rect]]:
    """(the derived viewing image of a page, rectangles to black out for VIEWER). The path comes
    from the database by page id, never from the request. A web viewer's first look at the page
    in a log-in session (SESSION_DIGEST) is an access event; thumbnails and repeats are not."""
    with archive.reading() as s:
        p = _page_for(s, page_id, viewer)
        if not p.derived_path:
            raise NotFound(_("no page {id}").format(id=page_id))
        redact = _redactions(masking(archive, viewer), p)
        relpath, record_id = p.derived_path, p.record_id
        seen = session_digest is not None and login.has_read(s, session_digest, p.id)
    if viewer is not None and not seen:
        with archive.session() as s:
            if session_digest is None or login.first_read(s, session_digest, page_id):
                number = s.scalar(select(ArchiveRecord.number).where(ArchiveRecord.id == record_id))
                events.record_event(
                    s, events.ACCESS, archive.actor, "record", number, {"what": "image", "page_id": page_id}
                )
    try:
        path = archive.store.path(relpath)
    except StoreError:
        raise NotFound(_("no page {id}").format(id=page_id)) from None
    if not path.is_file():
        raise NotFound(_("the page image is missing from the file store: ask an operator to run `dangan verify`"))
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
    Every search is an event (the query masked where personal). A viewer who may not see
    personal numbers cannot search by one or its beginning: SearchRefused, logged too.
    Raises QuerySyntaxError for a query the user must fix."""
    personal = masking(archive, viewer)
    if personal is not None:
        reason = personal.refusal(typed_values(parse_query(query)))
        if reason:
            _log_search(archive, events.SEARCH_REFUSED, query, {"reason": reason})
            raise SearchRefused(reason)
    with archive.searcher() as backend:
        results = run_search(
            backend, query, page=page, per_page=per_page, sort=sort, tolerant=tolerant, personal=personal is None
        )
    with archive.reading() as s:
        pages, titles = result_pages(s, results)
    data = with_boxes(results, pages, titles)
    _log_search(archive, events.SEARCH, query, {"hits": data["total_hits"], "page": page})
    if viewer is not None:
        for g in data["groups"]:
            for h in g["hits"]:
                h.pop("image", None)  # a store path: the browser gets images by page id only
        if personal is not None:
            _mask_results(personal, data, pages)
    return data


def _log_search(archive: Archive, kind: str, query: str, detail: dict[str, Any]) -> None:
    with archive.session() as s:
        events.record_event(
            s, kind, archive.actor, "search", "", {"query": archive.scheme.personal.mask_query(query)} | detail
        )


def _mask_results(personal: PersonalData, data: dict[str, Any], pages: dict[int, Page]) -> None:
    for g in data["groups"]:
        g["title"] = personal.mask_text(g.get("title") or "")
        for h in g["hits"]:
            p = pages.get(int(h["page_id"]))
            known = personal.field_values(p.fields) if p else []
            masked = personal.mask_text(p.text or "", known) if p else ""
            h["matched"] = [m for m in h["matched"] if match_spans(masked, [m])]
            h["snippet"], h["snippet_html"] = make_snippet(masked, match_spans(masked, h["matched"]))
            h["boxes"] = _outside(h["boxes"], _redactions(personal, p) if p else [], personal)


# --- the QA queue, quarantine, numbers ----------------------------------------------------------------


def qa_queue(archive: Archive, status: str = "flagged", *, viewer: User | None = None, limit: int = 200) -> list[dict]:
    """Pages flagged for a person (or accepted, or rescanned): what is wrong with each."""
    personal = masking(archive, viewer)
    with archive.session() as s:
        items = queued_pages(s, status, limit=limit)
        rows = s.execute(select(Page.id, Page.dpi, Page.fields).where(Page.id.in_([i.page_id for i in items]))).all()
    dpi = {r.id: r.dpi for r in rows}
    known = {r.id: personal.field_values(r.fields) if personal else [] for r in rows}
    return [
        {
            "page_id": i.page_id,
            "record": i.record,
            "seq": i.seq,
            "dpi": dpi.get(i.page_id),
            "confidence": i.confidence,
            "flags": visible_flags(personal, i.flags or [], known.get(i.page_id)),
            "replaced_by": i.replaced_by,
        }
        for i in items
    ]


def quarantined(archive: Archive, *, viewer: User | None = None) -> list[dict[str, Any]]:
    """Files the pipeline refused, with the reason in the reader's language, its code and params
    (None for files refused before reasons were kept so), and, for the CLI, where the bytes are kept."""
    with archive.session() as s:
        rows = quarantine_list(s)
    if viewer is not None:
        for r in rows:
            r.pop("kept_as", None)
            r["reason"] = without_paths(r["reason"])
            if r.get("reason_params"):
                r["reason_params"] = {
                    k: without_paths(v) if isinstance(v, str) else v for k, v in r["reason_params"].items()
                }
    return rows


def check_number(archive: Archive | None, text: str) -> dict[str, Any]:
    """Is TEXT a valid archive number? For a single typo, the numbers it was probably meant to
    be, those in the archive first (when there is an archive to look in). A well-formed number
    that was voided (or whose record was disposed of) is not valid for use: it says so, with
    the reason; `status` is the record's (None: no record has this number, or no archive)."""
    try:
        number = str(ArchiveNumber.parse(text))
    except InvalidArchiveNumber as e:
        candidates = [str(c) for c in propose_corrections(text)]
        known: list[str] = []
        if archive is not None and candidates:
            with archive.session() as s:
                known = list(s.scalars(select(ArchiveRecord.number).where(ArchiveRecord.number.in_(candidates))))
        return {"valid": False, "reason": str(e), "did_you_mean": known + [c for c in candidates if c not in known]}
    status, void_reason = None, ""
    if archive is not None:
        with archive.session() as s:
            row = s.execute(
                select(ArchiveRecord.status, ArchiveRecord.void_reason).filter_by(number=number)
            ).one_or_none()
        if row is not None:
            status, void_reason = row.status, row.void_reason or ""
    if status == "void":
        why = _("voided ({reason}); a voided number is never used again").format(reason=void_reason or _("no reason"))
    elif status == "disposed":
        why = _("its record was disposed of; the number is never used again")
    else:
        return {"valid": True, "number": number, "status": status}
    return {"valid": False, "number": number, "status": status, "reason": why, "did_you_mean": []}
