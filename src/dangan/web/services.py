"""What the pages and the API show, assembled from library calls (archive/, indexing/) and
filtered for the user's role. Parsing and rendering live in the routes; no domain rules here
beyond calling archive.users for what a role may see."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from sqlalchemy import select

from dangan.archive import events as ev
from dangan.archive.db import Database
from dangan.archive.home import DataHome
from dangan.archive.models import ArchiveRecord, Event, Page
from dangan.archive.records.views import find_record, quarantine_list, record_view
from dangan.archive.users import User, id_numbers_in, mask_ids, visible_fields, visible_text
from dangan.errors import Conflict
from dangan.indexing.backend import open_backend
from dangan.indexing.highlight import locate
from dangan.indexing.pages import with_boxes
from dangan.indexing.query import parse_query, positive_text_terms
from dangan.indexing.search import make_snippet, match_spans, search
from dangan.scanning.page import Word


class NotQueued(Conflict):
    """The page is not (or no longer) waiting in the QA queue: someone else dealt with it."""


class Services:
    def __init__(self, home: DataHome, backend_name: str = "whoosh"):
        self.home = home
        self.backend_name = backend_name
        self.db = Database(home.db_url)

    # --- search ---------------------------------------------------------------------------
    def search(
        self, user: User, query: str, *, page: int = 1, per_page: int = 10, sort: str = "relevance"
    ) -> dict[str, Any]:
        """Raises indexing.query.QuerySyntaxError for a query the user must fix."""
        self.home.index_dir.mkdir(parents=True, exist_ok=True)
        backend = open_backend(self.home.index_dir, self.backend_name)
        try:
            results = search(backend, query, page=page, per_page=per_page, sort=sort)
        finally:
            backend.close()
        data = with_boxes(self.db, results)
        for g in data["groups"]:
            for h in g["hits"]:
                h.pop("image", None)  # a store path: the browser gets images by page id only
        if not user.sees_ids:
            self._mask_results(data)
        return data

    def _mask_results(self, data: dict[str, Any]) -> None:
        ids = [int(h["page_id"]) for g in data["groups"] for h in g["hits"]]
        with self.db.session() as s:
            texts = dict(s.execute(select(Page.id, Page.text).where(Page.id.in_(ids))).all())
        for g in data["groups"]:
            g["title"] = mask_ids(g.get("title") or "")
            for h in g["hits"]:
                masked = mask_ids(texts.get(int(h["page_id"]), ""))
                h["matched"] = [mask_ids(m) for m in h["matched"]]
                h["snippet"], h["snippet_html"] = make_snippet(masked, match_spans(masked, h["matched"]))
                for b in h["boxes"]:
                    b["text"] = mask_ids(b["text"])

    # --- records ---------------------------------------------------------------------------
    def record(self, user: User, key: str) -> dict[str, Any]:
        """The record as `user` may see it; the look is logged as an access event."""
        with self.db.session() as s:
            view = record_view(s, key, store_root="", with_text=True, actor=user.name)
            record = find_record(s, view["number"])
            view.pop("store_root", None)
            view["events"] = [
                _event_row(e)
                for e in s.scalars(select(Event).where(Event.object_id == record.number).order_by(Event.seq))
            ]
            view["classifications"] = [
                {
                    "business_type": c.business_type,
                    "voltage_class": c.voltage_class,
                    "customer_class": c.customer_class,
                    "retention": c.retention,
                    "valid_from": c.valid_from and c.valid_from.isoformat(),
                    "valid_to": c.valid_to and c.valid_to.isoformat(),
                    "reason": c.reason,
                    "actor": c.actor,
                }
                for c in record.classifications
            ]
            view["paper"] = _paper_location(s, record)
            view["loan"] = _loan_state(s, record)
            view["completeness"] = _completeness(s, record)
        if view["completeness"]:
            c = view["completeness"]
            for key in ("problems", "missing", "invalid_fields", "unmet_preconditions", "warnings", "assumptions"):
                c[key] = [visible_text(user, x) for x in c[key]]
        for d in view["documents"]:
            for p in d["pages"]:
                p.pop("master", None), p.pop("derived", None)  # store paths stay on the server
                p["text"] = visible_text(user, p.get("text") or "")
                p["fields"] = visible_fields(user, p.get("fields") or {})
        return view

    def page(self, user: User, page_id: int, query: str = "") -> dict[str, Any]:
        """One page with the word boxes of `query`'s terms; logged as an access to its record."""
        with self.db.session() as s:
            p = s.get(Page, page_id)
            if p is None or p.superseded_by_id is not None:
                raise LookupError(f"no page {page_id}")
            record = s.get(ArchiveRecord, p.record_id)
            ev.record_event(s, ev.ACCESS, user.name, "record", record.number, {"what": "page", "page_id": p.id})
            words = [Word(*w) for w in (p.words or [])]
            terms: list[str] = []
            if query.strip():
                terms = positive_text_terms(parse_query(query))
            boxes = [asdict(b) for b in locate(words, terms, tolerant=True)] if terms else []
            siblings = s.scalars(
                select(Page.id).where(Page.record_id == p.record_id, Page.superseded_by_id.is_(None)).order_by(Page.seq)
            ).all()
            data = {
                "id": p.id,
                "record_number": record.number,
                "record_title": record.title,
                "seq": p.seq,
                "width": p.width,
                "height": p.height,
                "dpi": p.dpi,
                "qa_status": p.qa_status,
                "flags": p.flags,
                "ocr_confidence": p.ocr_confidence,
                "text": visible_text(user, p.text or ""),
                "fields": visible_fields(user, p.fields or {}),
                "query": query,
                "boxes": boxes,
                "pages": list(siblings),
            }
        if not user.sees_ids:
            for b in data["boxes"]:
                b["text"] = mask_ids(b["text"])
        return data

    def page_image_source(self, user: User, page_id: int) -> tuple[str, list[tuple[int, int, int, int]]]:
        """(store-relative path of the derived image, rectangles to black out for this user).
        The path comes from the database by page id, never from the request."""
        with self.db.session() as s:
            p = s.get(Page, page_id)
            if p is None or not p.derived_path:
                raise LookupError(f"no page {page_id}")
            redact: list[tuple[int, int, int, int]] = []
            if not user.sees_ids:
                ids = id_numbers_in(p.text or "")
                if ids:
                    words = [Word(*w) for w in (p.words or [])]
                    redact = [(b.left, b.top, b.width, b.height) for b in locate(words, ids)]
            return p.derived_path, redact

    # --- the QA queue (operators) ---------------------------------------------------------------
    def qa_queue(self, user: User, limit: int = 200) -> list[dict[str, Any]]:
        """Pages waiting for a person: what is wrong with each, in the pipeline's own words."""
        from dangan.archive.records.qa import qa_queue

        with self.db.session() as s:
            items = qa_queue(s, "flagged", limit=limit)
            dpi = dict(s.execute(select(Page.id, Page.dpi).where(Page.id.in_([i.page_id for i in items]))).all())
        return [
            {
                "page_id": i.page_id,
                "record": i.record,
                "seq": i.seq,
                "dpi": dpi.get(i.page_id),
                "confidence": i.confidence,
                "flags": [
                    {
                        "code": f.get("code"),
                        "severity": f.get("severity"),
                        "message": visible_text(user, f.get("message") or ""),
                    }
                    for f in i.flags or []
                ],
                "image_url": f"/pages/{i.page_id}/image",
                "thumb_url": f"/pages/{i.page_id}/image?size=thumb",
            }
            for i in items
        ]

    def _queued_page(self, s, page_id: int) -> Page:
        """The page, if it is waiting in the queue; LookupError (no such page) or NotQueued otherwise."""
        page = s.get(Page, page_id)
        if page is None:
            raise LookupError(f"no page {page_id}")
        if page.superseded_by_id is not None:
            raise NotQueued(
                f"page {page_id} was already replaced by a rescan (page {page.superseded_by_id}); "
                "reload the queue. 该页已重扫。"
            )
        if page.qa_status != "flagged":
            raise NotQueued(
                f"page {page_id} is not waiting in the QA queue (it is {page.qa_status}); "
                "reload the queue. 该页不在待检队列中。"
            )
        return page

    def qa_accept(self, user: User, page_id: int, note: str) -> dict[str, Any]:
        """Accept a queued page as it is (archive.qa.accept_page), then update the index.
        Raises LookupError (no page), NotQueued, QaError (no note)."""
        from dangan.archive.records.qa import QaError, accept_page

        if not (note or "").strip():
            raise QaError("say why the page is acceptable as it is (a note is required). 请填写接受理由。")
        with self.db.session() as s:
            page = self._queued_page(s, page_id)
            record = s.get(ArchiveRecord, page.record_id).number
            accept_page(s, page, actor=user.name, note=note.strip())
            seq = page.seq
        return {"page_id": page_id, "record": record, "seq": seq, "qa_status": "accepted", "indexed": self.sync_index()}

    def qa_rescan(self, user: User, page_id: int, path, page_no: int = 1) -> dict[str, Any]:
        """Replace a queued page with page PAGE_NO of the file at PATH (scanning.batch.rescan_page),
        then update the index as an upload does. Raises LookupError, NotQueued, QaError, RejectedFile."""
        from dangan.archive.business.scheme import load_scheme
        from dangan.archive.store import FileStore
        from dangan.scanning.batch import ScanOptions, rescan_page
        from dangan.scanning.pipeline import options_from_scheme

        with self.db.session() as s:
            page = self._queued_page(s, page_id)
            record, seq = s.get(ArchiveRecord, page.record_id).number, page.seq
        scheme = load_scheme()
        options = ScanOptions(fonds=scheme.fonds.code, actor=user.name, jobs=1, pipeline=options_from_scheme(scheme))
        old, new, flags = rescan_page(str(page_id), path, self.db, FileStore(self.home.store_dir), options, page_no)
        with self.db.session() as s:
            status = s.get(Page, new).qa_status
        return {
            "page_id": old,
            "new_page_id": new,
            "record": record,
            "seq": seq,
            "qa_status": status,
            "flags": [
                {
                    "code": f.get("code"),
                    "severity": f.get("severity"),
                    "message": visible_text(user, f.get("message") or ""),
                }
                for f in flags or []
            ],
            "indexed": self.sync_index(),
        }

    def sync_index(self) -> int | None:
        """Drain the index outbox (as the upload job does). None when the index could not be
        written now: the change is in the database and its outbox, the next sync catches up."""
        from dangan.indexing import feed

        try:
            self.home.index_dir.mkdir(parents=True, exist_ok=True)
            backend = open_backend(self.home.index_dir, self.backend_name)
            try:
                return feed.sync(self.db, backend)
            finally:
                backend.close()
        except Exception:  # noqa: BLE001 - the QA decision is saved; the index catches up later
            import traceback

            traceback.print_exc()
            return None

    # --- reports (auditors) ---------------------------------------------------------------------
    def report(self, user: User, kind: str, *, as_of=None):
        """One auditor report (archive.reports) made now, by USER. Raises KeyError for an unknown kind."""
        from dangan.archive.audit import reports as rp
        from dangan.archive.business.scheme import load_scheme

        if kind not in REPORT_KINDS:
            raise KeyError(kind)
        scheme = load_scheme()
        kw = {"db_url": self.home.db_url, "actor": user.name}
        with self.db.session() as s:
            if kind == "completeness":
                return rp.completeness_report(s, scheme, **kw)
            if kind == "overdue":
                return rp.overdue_report(s, scheme, today=as_of, **kw)
            if kind == "digitisation":
                return rp.digitisation_report(s, today=as_of, scheme=scheme, **kw)
            if kind == "reconciliation":
                return rp.reconciliation_report(s, today=as_of, scheme=scheme, **kw)
            return rp.numbering_report(s, scheme=scheme, **kw)

    # --- labels (operators) ----------------------------------------------------------------------
    def label_kinds(self) -> tuple[str, ...]:
        """Label kinds archive.labels can print here ("cover" only once archive.labels has it)."""
        from dangan.archive.paper import labels

        kinds = ["folder", "box"]
        if "cover" in getattr(labels, "SIZES", {}):
            kinds.append("cover")
        return tuple(kinds)

    def labels_pdf(self, user: User, number: str, kind: str) -> tuple[bytes, str]:
        """(PDF bytes, file name) of KIND label(s) for the record NUMBER: its folder label, the
        label of the box it is in, or its cover sheet. LookupError when there is nothing to print."""
        import tempfile
        from pathlib import Path

        from dangan.archive.business.scheme import load_scheme
        from dangan.archive.paper import labels

        if kind not in self.label_kinds():
            raise LookupError(f"no {kind!r} labels in this installation; kinds: {', '.join(self.label_kinds())}")
        names = {bt.code: bt.name for bt in load_scheme().business_types.values()}
        with self.db.session() as s:
            record = find_record(s, number)
            code = record.number
            if kind == "box":
                folder = getattr(record, "folder", None)
                if folder is None or folder.box is None:
                    raise LookupError(
                        f"{record.number} is not shelved in a box: shelve its folder first "
                        "(dangan shelve NUMBER BOX). 未入盒。"
                    )
                code = folder.box.code
            with tempfile.TemporaryDirectory(prefix="dangan-labels-") as tmp:
                out = Path(tmp) / "labels.pdf"
                try:
                    labels.write_labels(s, kind, [code], out, business_names=names)
                except labels.LabelError as e:
                    raise LookupError(str(e)) from None
                data = out.read_bytes()
        safe = code.replace("·", "-").replace("/", "-")
        return data, f"{kind}-{safe}.pdf"

    # --- operators and auditors ---------------------------------------------------------------
    def quarantine(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = quarantine_list(s)
        for r in rows:
            r.pop("kept_as", None)
        return rows

    def events(
        self, *, page: int = 1, per_page: int = 100, type_: str = "", actor: str = "", object_id: str = ""
    ) -> dict[str, Any]:
        from sqlalchemy import func

        q = select(Event)
        if type_:
            q = q.where(Event.type == type_)
        if actor:
            q = q.where(Event.actor == actor)
        if object_id:
            q = q.where(Event.object_id == object_id)
        with self.db.session() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = [
                _event_row(e)
                for e in s.scalars(q.order_by(Event.seq.desc()).offset((page - 1) * per_page).limit(per_page))
            ]
            types = sorted(s.scalars(select(Event.type).distinct()))
        return {
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, -(-total // per_page)),
            "events": rows,
            "types": types,
        }

    def verify(self) -> dict[str, Any]:
        with self.db.session() as s:
            checked, problems = ev.verify_chain(s)
        return {
            "checked": checked,
            "ok": not problems,
            "problems": [{"seq": p.seq, "problem": p.problem} for p in problems],
        }

    def events_csv(self) -> Iterator[str]:
        """The whole log as CSV (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
        yield "\ufeff"
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["seq", "at", "type", "actor", "object_type", "object_id", "detail", "prev_hash", "hash"])
        last = 0
        while True:
            with self.db.session() as s:
                rows = s.scalars(select(Event).where(Event.seq > last).order_by(Event.seq).limit(2000)).all()
                for e in rows:
                    w.writerow(
                        [
                            e.seq,
                            _iso(e.at),
                            e.type,
                            e.actor,
                            e.object_type,
                            e.object_id,
                            json.dumps(e.detail or {}, ensure_ascii=False, sort_keys=True),
                            e.prev_hash,
                            e.hash,
                        ]
                    )
            if not rows:
                break
            last = rows[-1].seq
            yield buf.getvalue()
            buf.seek(0), buf.truncate()
        yield buf.getvalue()


REPORT_KINDS = ("completeness", "overdue", "digitisation", "reconciliation", "numbering")


def _iso(t) -> str:
    return t.isoformat() if t is not None else ""


def _event_row(e: Event) -> dict[str, Any]:
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


def _loan_state(session, record: ArchiveRecord) -> dict[str, Any] | None:
    """The open loan of the record's paper folder, or the last return (None: never lent)."""
    folder = getattr(record, "folder", None)
    if folder is None:
        return None
    from dangan.archive.models import Loan
    from dangan.archive.paper.loans import loan_view

    loan = session.scalar(select(Loan).where(Loan.folder_id == folder.id, Loan.returned_at.is_(None)))
    if loan is None:
        loan = session.scalar(select(Loan).where(Loan.folder_id == folder.id).order_by(Loan.id.desc()).limit(1))
    if loan is None:
        return None
    view = loan_view(loan)
    view["open"] = loan.returned_at is None
    return {k: (_iso(v) if hasattr(v, "isoformat") else v) for k, v in view.items()}


def _completeness(session, record: ArchiveRecord) -> dict[str, Any]:
    """The record's business case against the completeness rules of the scheme in force:
    archive.reports.check_case when the record has a case (every active record of the case
    counts, as at handover), else archive.handover.check_record's reason."""
    from dangan.archive.audit.reports import check_case
    from dangan.archive.business.scheme import load_scheme
    from dangan.archive.paper.handover import check_record

    scheme = load_scheme()
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
        check = check_record(session, record, scheme)
        out["problems"] = list(check.problems)
        result = check.result
    else:
        check = check_case(session, record.case, scheme)
        out["problems"], result = list(check.problems), check.result
        out["business_type"] = check.business_type
        out["records"] = [r.number for r in check.records]
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


def _paper_location(session, record: ArchiveRecord) -> dict[str, Any] | None:
    """Where the paper is, when the locations part of the archive is present."""
    if getattr(record, "folder", None) is None and not getattr(record, "born_digital", False):
        return None
    try:
        from dangan.archive.paper.locations import where_is
    except ImportError:  # pragma: no cover - the locations part is optional
        return None
    try:
        return where_is(session, record.number)
    except Exception:  # noqa: BLE001 - a location problem must not hide the record
        return None
