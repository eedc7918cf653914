"""The JSON API: the same library calls as the pages, described by FastAPI's OpenAPI.

Log in through the form at /login (the session cookie then works here); POST requests need
the header X-CSRF-Token with the token from GET /api/me."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from pydantic import BaseModel, Field

from dangan.archive.users import User
from dangan.errors import NotFound
from dangan.indexing.query import QuerySyntaxError
from dangan.web.app import LoginRequired, csrf_ok, need
from dangan.web.forms import FormError, SearchForm

router = APIRouter()


@router.get("/me", summary="Who is logged in, the role, and the CSRF token for POST requests")
def me(request: Request) -> dict[str, Any]:
    user: User | None = request.state.user
    if user is None:
        raise LoginRequired()
    from dangan.web.app import may

    actions = ["search", "view", "ingest", "quarantine", "qa", "labels", "reports", "events", "see_ids", "manage_users"]
    return {
        "name": user.name,
        "role": user.role,
        "csrf_token": request.state.csrf,
        "may": [a for a in actions if may(user, a)],
    }


@router.get("/search", summary="Search pages; results grouped by archive record, exact hits first")
def search(
    request: Request,
    user: User = Depends(need("search")),
    q: str = Query("", description="query in the syntax of /help/search"),
    account: str = Query("", description="户号 filter (digits, optional trailing *)"),
    business: str = Query("", description="业务类型 code, e.g. ZT"),
    doctype: str = Query("", description="文件类型 code, e.g. HT"),
    date_from: str = Query("", description="YYYY-MM-DD"),
    date_to: str = Query("", description="YYYY-MM-DD"),
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(10, ge=1, le=100),
    sort: str = Query("relevance", pattern="^(relevance|date)$"),
) -> dict[str, Any]:
    try:
        query = SearchForm(q, account, business, doctype, date_from, date_to).query()
        if not query:
            raise FormError("give a query or a filter")
        return request.app.state.services.search(user, query, page=page, per_page=per_page, sort=sort)
    except (FormError, QuerySyntaxError) as e:
        raise HTTPException(400, f"cannot read the query: {e}")


@router.get("/records/{number}", summary="A record: customer, case, documents, pages, history, paper location")
def record(request: Request, number: str, user: User = Depends(need("view"))) -> dict[str, Any]:
    try:
        return request.app.state.services.record(user, number)
    except NotFound as e:
        raise HTTPException(404, str(e))


@router.get("/pages/{page_id}", summary="A page's text, fields and the word boxes of q's terms")
def page(request: Request, page_id: int, user: User = Depends(need("view")), q: str = "") -> dict[str, Any]:
    try:
        data = request.app.state.services.page(user, page_id, q)
    except LookupError as e:
        raise HTTPException(404, str(e))
    except QuerySyntaxError as e:
        raise HTTPException(400, f"cannot read the query: {e}")
    data["image_url"] = f"/pages/{page_id}/image"
    return data


@router.post(
    "/uploads",
    status_code=202,
    dependencies=[Depends(csrf_ok)],
    summary="Upload scanned files as one batch; scanning runs in the background",
)
async def upload(
    request: Request, user: User = Depends(need("ingest")), files: list[UploadFile] = File(...)
) -> dict[str, Any]:
    from dangan.web.pages import save_upload

    job = await save_upload(request, user, files)
    return job.public()


@router.get("/jobs/{job_id}", summary="Progress of an upload batch")
def job(request: Request, job_id: str, user: User = Depends(need("ingest"))) -> dict[str, Any]:
    j = request.app.state.jobs.get(job_id)
    if j is None:
        raise HTTPException(404, "no such upload batch")
    return j.public()


@router.get("/quarantine", summary="Files the pipeline refused, with the reason")
def quarantine(request: Request, user: User = Depends(need("quarantine"))) -> list[dict[str, Any]]:
    return request.app.state.services.quarantine()


@router.get("/events", summary="The event log, newest first")
def events(
    request: Request,
    user: User = Depends(need("events")),
    type: str = "",
    actor: str = "",
    object: str = "",
    page: int = Query(1, ge=1),
    per_page: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    return request.app.state.services.events(page=page, per_page=per_page, type_=type, actor=actor, object_id=object)


@router.get("/events/verify", summary="Recompute the hash chain of the event log")
def verify(request: Request, user: User = Depends(need("events"))) -> dict[str, Any]:
    return request.app.state.services.verify()


# --- the QA queue (operators) -------------------------------------------------------------------


class AcceptBody(BaseModel):
    note: str = Field(..., max_length=2000, description="Why the page is acceptable as it is (required)")


@router.get("/qa", summary="The QA queue: flagged pages with what is wrong with each, OCR confidence")
def qa_queue(request: Request, user: User = Depends(need("qa"))) -> list[dict[str, Any]]:
    return request.app.state.services.qa_queue(user)


@router.post(
    "/qa/{page_id}/accept",
    dependencies=[Depends(csrf_ok)],
    summary="Accept a flagged page as it is, with a note; it leaves the queue",
)
def qa_accept(request: Request, page_id: int, body: AcceptBody, user: User = Depends(need("qa"))) -> dict[str, Any]:
    from dangan.archive.records.qa import QaError
    from dangan.web.pages import qa_error
    from dangan.web.services import NotQueued

    try:
        return request.app.state.services.qa_accept(user, page_id, body.note)
    except (LookupError, NotQueued, QaError) as e:
        raise qa_error(e)


@router.post(
    "/qa/{page_id}/rescan",
    dependencies=[Depends(csrf_ok)],
    summary="Replace a flagged page with a new scan (one image, or page page_no of a PDF/TIFF)",
)
async def qa_rescan(
    request: Request,
    page_id: int,
    user: User = Depends(need("qa")),
    file: UploadFile = File(...),
    page_no: int = Form(1, ge=1, le=10_000),
) -> dict[str, Any]:
    from dangan.web.pages import rescan_upload

    return await rescan_upload(request, user, page_id, file, page_no)


# --- auditor reports ------------------------------------------------------------------------------


@router.get("/reports", summary="The auditor reports, each with its problem count")
def reports(request: Request, user: User = Depends(need("reports")), as_of: str = "") -> list[dict[str, Any]]:
    from dangan.web.pages import as_of_date
    from dangan.web.services import REPORT_KINDS

    day = as_of_date(as_of)
    out = []
    for kind in REPORT_KINDS:
        r = request.app.state.services.report(user, kind, as_of=day)
        out.append(
            {
                "report": kind,
                "title": r.title,
                "ok": r.ok,
                "problems": r.problems,
                "json": f"/api/reports/{kind}",
                "csv": f"/reports/{kind}.csv",
                "html": f"/reports/{kind}.html",
            }
        )
    return out


@router.get("/reports/{kind}", summary="One report: about, sections, findings, problems (as `dangan report --json`)")
def report(request: Request, kind: str, user: User = Depends(need("reports")), as_of: str = "") -> dict[str, Any]:
    from dangan.web.pages import _report_kind, as_of_date

    r = request.app.state.services.report(user, _report_kind(kind), as_of=as_of_date(as_of))
    return r.as_dict() | {"charts": r.charts}
