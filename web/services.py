"""What the pages and the API show, assembled from library calls (archive/, indexing/) and
filtered for the user's role. Parsing and rendering live in the routes; no domain rules here
beyond calling archive.users for what a role may see."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any, Iterator

from sqlalchemy import select

from archive import events as ev
from archive.db import Database
from archive.home import DataHome
from archive.models import ArchiveRecord, Event, Page
from archive.users import User, id_numbers_in, mask_ids, visible_fields, visible_text
from archive.views import find_record, quarantine_list, record_view
from indexing.backend import open_backend
from indexing.highlight import locate
from indexing.pages import with_boxes
from indexing.query import parse_query, positive_text_terms
from indexing.search import make_snippet, match_spans, search
from scanning.page import Word


class Services:
    def __init__(self, home: DataHome, backend_name: str = "whoosh"):
        self.home = home
        self.backend_name = backend_name
        self.db = Database(home.db_url)

    # --- search ---------------------------------------------------------------------------
    def search(self, user: User, query: str, *, page: int = 1, per_page: int = 10,
               sort: str = "relevance") -> dict[str, Any]:
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
            view["events"] = [_event_row(e) for e in s.scalars(
                select(Event).where(Event.object_id == record.number).order_by(Event.seq))]
            view["classifications"] = [
                {"business_type": c.business_type, "voltage_class": c.voltage_class,
                 "customer_class": c.customer_class, "retention": c.retention,
                 "valid_from": c.valid_from and c.valid_from.isoformat(),
                 "valid_to": c.valid_to and c.valid_to.isoformat(), "reason": c.reason, "actor": c.actor}
                for c in record.classifications]
            view["paper"] = _paper_location(s, record)
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
            ev.record_event(s, ev.ACCESS, user.name, "record", record.number,
                            {"what": "page", "page_id": p.id})
            words = [Word(*w) for w in (p.words or [])]
            terms: list[str] = []
            if query.strip():
                terms = positive_text_terms(parse_query(query))
            boxes = [asdict(b) for b in locate(words, terms, tolerant=True)] if terms else []
            siblings = s.scalars(select(Page.id).where(Page.record_id == p.record_id,
                                                       Page.superseded_by_id.is_(None)).order_by(Page.seq)).all()
            data = {"id": p.id, "record_number": record.number, "record_title": record.title,
                    "seq": p.seq, "width": p.width, "height": p.height, "dpi": p.dpi,
                    "qa_status": p.qa_status, "flags": p.flags, "ocr_confidence": p.ocr_confidence,
                    "text": visible_text(user, p.text or ""), "fields": visible_fields(user, p.fields or {}),
                    "query": query, "boxes": boxes, "pages": list(siblings)}
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

    # --- operators and auditors ---------------------------------------------------------------
    def quarantine(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            rows = quarantine_list(s)
        for r in rows:
            r.pop("kept_as", None)
        return rows

    def events(self, *, page: int = 1, per_page: int = 100, type_: str = "", actor: str = "",
               object_id: str = "") -> dict[str, Any]:
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
            rows = [_event_row(e) for e in s.scalars(q.order_by(Event.seq.desc())
                                                      .offset((page - 1) * per_page).limit(per_page))]
            types = sorted(s.scalars(select(Event.type).distinct()))
        return {"total": total, "page": page, "per_page": per_page,
                "pages": max(1, -(-total // per_page)), "events": rows, "types": types}

    def verify(self) -> dict[str, Any]:
        with self.db.session() as s:
            checked, problems = ev.verify_chain(s)
        return {"checked": checked, "ok": not problems,
                "problems": [{"seq": p.seq, "problem": p.problem} for p in problems]}

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
                    w.writerow([e.seq, _iso(e.at), e.type, e.actor, e.object_type, e.object_id,
                                json.dumps(e.detail or {}, ensure_ascii=False, sort_keys=True),
                                e.prev_hash, e.hash])
            if not rows:
                break
            last = rows[-1].seq
            yield buf.getvalue()
            buf.seek(0), buf.truncate()
        yield buf.getvalue()


def _iso(t) -> str:
    return t.isoformat() if t is not None else ""


def _event_row(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "at": _iso(e.at), "type": e.type, "actor": e.actor,
            "object_type": e.object_type, "object_id": e.object_id, "detail": e.detail or {},
            "hash": e.hash}


def _paper_location(session, record: ArchiveRecord) -> dict[str, Any] | None:
    """Where the paper is, when the locations part of the archive is present."""
    if getattr(record, "folder", None) is None and not getattr(record, "born_digital", False):
        return None
    try:
        from archive.locations import where_is
    except ImportError:  # pragma: no cover - the locations part is optional
        return None
    try:
        return where_is(session, record.number)
    except Exception:  # noqa: BLE001 - a location problem must not hide the record
        return None
