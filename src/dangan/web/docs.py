"""The API's documentation pages, Swagger UI at /api/docs and ReDoc at /api/redoc, with their
scripts and styles served by this app (from the fastapi-offline wheel, MIT): the archive
runs on networks without internet access, where a CDN is out of reach."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dangan.web.deps import page

router = APIRouter(include_in_schema=False)
DOCS_ASSETS = Path(str(files("fastapi_offline") / "static"))
_PAGES = ("/api/docs", "/api/redoc")


def docs_csp(path: str) -> str | None:
    """The documentation pages' Content-Security-Policy: their own scripts only, but Swagger UI
    and ReDoc set inline styles, and ReDoc runs its search in a worker made from a blob."""
    if path not in _PAGES:
        return None
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@router.get("/api/docs", response_class=HTMLResponse)
def swagger_ui(request: Request):
    return page(request, "docs_swagger.html", {"openapi_url": request.app.openapi_url})


@router.get("/api/redoc", response_class=HTMLResponse)
def redoc(request: Request):
    return page(request, "docs_redoc.html", {"openapi_url": request.app.openapi_url})
