"""What the JSON API answers, as typed models: they describe every response in the OpenAPI
document (/api/openapi.json) so clients know the shapes. The values come from dangan.app
unchanged; a key a model does not name yet is passed through, never dropped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Me(Model):
    name: str
    role: str
    csrf_token: str = Field(description="send it as X-CSRF-Token with every POST")
    may: list[str] = Field(description="what this user may do")
    language: str = Field("", description="zh_CN or en as the user chose; empty: as the browser asks, then zh_CN")


class Box(Model):
    """A rectangle in pixels on the derived page image around a matched string."""

    left: int
    top: int
    width: int
    height: int
    line: int
    text: str
    tolerant: bool = False


class Hit(Model):
    page_id: str
    record_number: str
    document_id: str
    page_no: int
    score: float
    date: dt.date | None
    tolerant: bool
    matched: list[str]
    snippet: str = Field(description="with 【】 around matches")
    snippet_html: str = Field(description="escaped HTML with <mark> around matches")
    image_size: list[int] | None = Field(None, description="[width, height] of the page image")
    boxes: list[Box]


class Group(Model):
    record_number: str
    title: str
    tolerant: bool = Field(description="true: pages that match with one character misread")
    hits: list[Hit]


class SearchResults(Model):
    query: str
    page: int
    per_page: int
    pages: int
    sort: str
    total_hits: int
    tolerant_hits: int
    total_groups: int
    exact_groups: int
    truncated: bool
    total_exact: bool = True  # false: more than total_hits pages match (PostgreSQL stops counting)
    groups: list[Group]


class Flag(Model):
    code: str | None
    severity: str | None
    message: str = Field(description="in the reader's language, rendered from code + params when shown")
    params: dict[str, Any] | None = Field(
        None, description="the numbers and values of the message (personal values masked); None on older flags"
    )


class PageSummary(Model):
    id: int
    seq: int
    source_page: int | None = None
    width: int | None = None
    height: int | None = None
    dpi: int | None = None
    rotation: int | None = None
    skew: float | None = None
    blank: bool | None = None
    seal: bool | None = None
    ocr_confidence: float | None = None
    ocr_engine: str | None = None
    qa_status: str
    flags: list[Flag] = []
    fields: dict[str, Any] = Field({}, description="OCR field proposals; personal values masked unless granted")
    text: str | None = None


class Document(Model):
    item_no: int
    doc_type: str | None
    doc_type_name: str = Field("", description="the document type's name in the classification scheme")
    doc_type_score: float | None = None
    title: str | None = None
    origin: str = Field("paper", description="paper (a scan of a sheet) | electronic (an electronic original)")
    pages: list[PageSummary]


class Customer(Model):
    account_number: str
    name: str | None = None
    address: str | None = None
    account_numbers: list[str] = []


class Case(Model):
    work_order: str | None = None
    business_type: str | None = None
    business_type_name: str = Field("", description="the business type's name in the classification scheme")
    status: str | None = None
    department: str | None = None
    accepted_on: str | None = None


class Classification(Model):
    business_type: str | None = None
    business_type_name: str = Field("", description="the business type's name in the classification scheme")
    voltage_class: str | None = None
    customer_class: str | None = None
    retention: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    reason: str | None = None
    actor: str | None = None


class EventRow(Model):
    seq: int
    at: str
    type: str = Field(description="the kind of event: access, search, export, log-in, registration …")
    actor: str
    object_type: str
    object_id: str
    detail: dict[str, Any]
    hash: str


class Completeness(Model):
    ok: bool
    scheme_version: int
    business_type: str
    variant: str
    problems: list[str]
    missing: list[str]
    invalid_fields: list[str]
    unmet_preconditions: list[str]
    warnings: list[str]
    assumptions: list[str]
    records: list[str]


class ReplacedPage(Model):
    id: int
    seq: int
    replaced_by: int
    qa_status: str
    dpi: int | None = None


class RecordView(Model):
    number: str
    status: str
    title: str | None
    accessioned_at: str
    customer: Customer | None
    case: Case | None
    classification: Classification | None
    documents: list[Document]
    classifications: list[Classification]
    events: list[EventRow]
    paper: dict[str, Any] | None = Field(description="where the paper folder is")
    loan: dict[str, Any] | None = Field(description="the open loan, or the last one")
    completeness: Completeness
    replaced_pages: list[ReplacedPage] = Field(description="only for those who may see history")


class PageView(Model):
    id: int
    record_number: str
    record_title: str | None
    seq: int
    width: int | None
    height: int | None
    dpi: int | None
    qa_status: str
    replaced_by: int | None = Field(description="set when a rescan replaced this page (history)")
    flags: list[Flag]
    ocr_confidence: float | None
    text: str
    fields: dict[str, Any]
    query: str
    boxes: list[Box]
    pages: list[int] = Field(description="ids of the record's current pages, in order")
    image_url: str


class Job(Model):
    id: str
    owner: str
    files: list[str]
    state: str = Field(description="queued | scanning | indexing | done | failed")
    state_name: str = Field("", description="the state in words, in the user's language")
    pages_done: int
    pages_total: int | None
    folders: list[dict[str, Any]]
    indexed: int | None
    error: str
    batch_id: int | None


class QuarantineItem(Model):
    file: str
    reason: str = Field(description="in the reader's language")
    reason_code: str | None = Field(None, description="stable code, e.g. pdf_damaged; None on files refused before")
    reason_params: dict[str, Any] | None = Field(None, description="the values in the reason")
    sha256: str


class EventLog(Model):
    total: int
    page: int
    per_page: int
    pages: int
    events: list[EventRow]
    types: list[str] = Field(description="every kind of event in the log")


class ChainProblem(Model):
    seq: int
    problem: str


class ChainCheck(Model):
    checked: int
    ok: bool
    problems: list[ChainProblem]


class QaItem(Model):
    page_id: int
    record: str
    seq: int
    dpi: int | None
    confidence: float | None
    flags: list[Flag]
    image_url: str
    thumb_url: str


class QaAccepted(Model):
    page_id: int
    record: str
    seq: int
    qa_status: str
    indexed: int | None
    index_problem: str


class QaRescanned(Model):
    page_id: int
    new_page_id: int
    record: str
    seq: int
    qa_status: str
    flags: list[Flag]
    indexed: int | None
    index_problem: str


class ReportSummary(Model):
    report: str
    title: str
    ok: bool
    problems: int
    json_url: str = Field(alias="json")
    csv: str
    html: str

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)


class ReportSection(Model):
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]


class Report(Model):
    report: str
    title: str
    ok: bool
    problems: int
    about: dict[str, Any]
    findings: dict[str, Any]
    notes: list[str]
    sections: list[ReportSection]
    charts: dict[str, Any]


class Problem(Model):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "not logged in"},
    403: {"model": Problem, "description": "not allowed (role, CSRF token, or a refused search)"},
    404: {"model": Problem, "description": "no such thing"},
}
