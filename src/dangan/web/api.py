"""The JSON API: the same dangan.app calls as the pages, described by FastAPI's OpenAPI with
the typed models of web.models.

Log in through the form at /login (the session cookie then works here); POST requests need
the header X-CSRF-Token with the token from GET /api/me."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from pydantic import BaseModel, Field

from dangan.app import audit, ingest, records
from dangan.app.records import SEARCH_SORTS
from dangan.app.reports import REPORT_KINDS, make_all, make_report
from dangan.app.users import User
from dangan.web import models as m
from dangan.web.deps import (
    CanIngest,
    CanQa,
    CanReadEvents,
    CanReport,
    CanSearch,
    CanSeeQuarantine,
    CanView,
    LoginRequired,
    archive_for,
    as_of_date,
    csrf_ok,
    may,
)
from dangan.web.forms import FormError, SearchForm
from dangan.web.pages import qa_items
from dangan.web.uploads import rescan_upload

router = APIRouter(responses=m.ERRORS)
ACTIONS = (
    "search",
    "view",
    "ingest",
    "quarantine",
    "qa",
    "labels",
    "reports",
    "events",
    "see_ids",
    "history",
    "manage_users",
)


@router.get("/me", response_model=m.Me, summary="Who is logged in, the role, and the CSRF token for POST requests")
def me(request: Request) -> dict[str, Any]:
    user: User | None = request.state.user
    if user is None:
        raise LoginRequired()
    return {
        "name": user.name,
        "role": user.role,
        "csrf_token": request.state.csrf,
        "may": [a for a in ACTIONS if may(user, a)],
        "language": user.language or "",
    }


@router.get(
    "/search",
    response_model=m.SearchResults,
    summary="Search pages; results grouped by archive record, exact hits first",
    description="Every search is logged with its query (personal numbers masked). Without the grant to see "
    "personal numbers, a search by one (or by its beginning) is refused with 403 and logged.",
)
def search(
    request: Request,
    user: CanSearch,
    q: str = Query("", description="query in the syntax of /help/search"),
    account: str = Query("", description="户号 filter (digits, optional trailing *)"),
    business: str = Query("", description="业务类型 code, e.g. ZT"),
    doctype: str = Query("", description="文件类型 code, e.g. HT"),
    date_from: str = Query("", description="YYYY-MM-DD"),
    date_to: str = Query("", description="YYYY-MM-DD"),
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(10, ge=1, le=100),
    sort: str = Query("relevance", pattern=f"^({'|'.join(SEARCH_SORTS)})$"),
) -> dict[str, Any]:
    query = SearchForm(q, account, business, doctype, date_from, date_to).query(request.app.state.archive.scheme)
    if not query:
        raise FormError("give a query or a filter")
    return records.search(archive_for(request, user), query, page=page, per_page=per_page, sort=sort, viewer=user)


@router.get(
    "/records/{number}",
    response_model=m.RecordView,
    summary="A record: customer, case, documents, pages, history, paper location",
)
def record(request: Request, number: str, user: CanView) -> dict[str, Any]:
    return records.record_view(archive_for(request, user), number, viewer=user)


@router.get(
    "/pages/{page_id}", response_model=m.PageView, summary="A page's text, fields and the word boxes of q's terms"
)
def page(request: Request, page_id: int, user: CanView, q: str = "") -> dict[str, Any]:
    data = records.page_view(archive_for(request, user), page_id, viewer=user, query=q)
    return data | {"image_url": f"/pages/{page_id}/image"}


@router.post(
    "/uploads",
    status_code=202,
    response_model=m.Job,
    dependencies=[Depends(csrf_ok)],
    summary="Upload scanned files as one batch; scanning runs in the background",
)
async def upload(request: Request, user: CanIngest, files: list[UploadFile] = File(...)) -> dict[str, Any]:
    job = await request.app.state.jobs.upload(user.name, files)
    return job.public()


@router.get("/jobs/{job_id}", response_model=m.Job, summary="Progress of an upload batch")
def job(request: Request, job_id: str, user: CanIngest) -> dict[str, Any]:
    j = request.app.state.jobs.get(job_id)
    if j is None:
        raise HTTPException(404, "no such upload batch")
    return j.public()


@router.get("/quarantine", response_model=list[m.QuarantineItem], summary="Files the pipeline refused, with the reason")
def quarantine(request: Request, user: CanSeeQuarantine) -> list[dict[str, Any]]:
    return records.quarantined(archive_for(request, user), viewer=user)


@router.get("/events", response_model=m.EventLog, summary="The event log, newest first")
def events(
    request: Request,
    user: CanReadEvents,
    type: str = Query("", description="kind of event: access, search, search refused, export, log-in …"),
    actor: str = "",
    object: str = Query("", description="the object's id, as in object_id"),
    record: str = Query("", description="an archive number: events about the record and its pages"),
    page: int = Query(1, ge=1),
    per_page: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    return audit.event_log(
        archive_for(request, user),
        page=page,
        per_page=per_page,
        type_=type,
        actor=actor,
        object_id=object,
        record=record.strip(),
        viewer=user,
    )


@router.get("/events/verify", response_model=m.ChainCheck, summary="Recompute the hash chain of the event log")
def verify(request: Request, user: CanReadEvents) -> dict[str, Any]:
    return audit.verify_chain(archive_for(request, user))


# --- the QA queue (operators) -------------------------------------------------------------------


class AcceptBody(BaseModel):
    note: str = Field(..., max_length=2000, description="Why the page is acceptable as it is (required)")


@router.get(
    "/qa",
    response_model=list[m.QaItem],
    summary="The QA queue: flagged pages with what is wrong with each, OCR confidence",
)
def qa_queue(request: Request, user: CanQa) -> list[dict[str, Any]]:
    return qa_items(request, user)


@router.post(
    "/qa/{page_id}/accept",
    response_model=m.QaAccepted,
    dependencies=[Depends(csrf_ok)],
    summary="Accept a flagged page as it is, with a note; it leaves the queue",
)
def qa_accept(request: Request, page_id: int, body: AcceptBody, user: CanQa) -> dict[str, Any]:
    return ingest.qa_accept(archive_for(request, user), page_id, body.note, only_queued=True)


@router.post(
    "/qa/{page_id}/rescan",
    response_model=m.QaRescanned,
    dependencies=[Depends(csrf_ok)],
    summary="Replace a flagged page with a new scan (one image, or page page_no of a PDF/TIFF)",
)
async def qa_rescan(
    request: Request, page_id: int, user: CanQa, file: UploadFile = File(...), page_no: int = Form(1, ge=1, le=10_000)
) -> dict[str, Any]:
    archive = archive_for(request, user)
    done = await rescan_upload(archive, page_id, file, page_no)
    return done | {"flags": records.page_flags(archive, done["new_page_id"], viewer=user)}


# --- auditor reports ------------------------------------------------------------------------------


@router.get(
    "/reports", response_model=list[m.ReportSummary], summary="The auditor reports, each with its problem count"
)
def reports(request: Request, user: CanReport, as_of: str = "") -> list[dict[str, Any]]:
    made = make_all(archive_for(request, user), as_of=as_of_date(as_of))
    return [
        {
            "report": kind,
            "title": r.title,
            "ok": r.ok,
            "problems": r.problems,
            "json": f"/api/reports/{kind}",
            "csv": f"/reports/{kind}.csv",
            "html": f"/reports/{kind}.html",
        }
        for kind, r in zip(REPORT_KINDS, made, strict=True)
    ]


@router.get(
    "/reports/{kind}",
    response_model=m.Report,
    summary="One report: about, sections, findings, problems (as `dangan report --json`)",
)
def report(request: Request, kind: str, user: CanReport, as_of: str = "") -> dict[str, Any]:
    r = make_report(archive_for(request, user), kind, as_of=as_of_date(as_of))
    return r.as_dict() | {"charts": r.charts}
