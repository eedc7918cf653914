"""The web app."""

from __future__ import annotations

import click

from dangan.app.users import has_users
from dangan.cli.base import console, pass_ctx
from dangan.errors import DanganError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=True,
    show_default=True,
    help="Mark cookies Secure (needs HTTPS, e.g. behind a TLS proxy). Turn off only to try "
    "the app over plain http on this machine.",
)
@click.option(
    "--secret-key",
    envvar="DANGAN_SECRET_KEY",
    metavar="KEY",
    help="Key that signs log-in form tokens [env DANGAN_SECRET_KEY; default: random per start].",
)
@click.option(
    "--scan-jobs", type=click.IntRange(1, 64), default=2, show_default=True, help="OCR processes for uploaded batches."
)
@pass_ctx
def serve(ctx, host, port, secure_cookies, secret_key, scan_jobs) -> None:
    """Run the web app: search, records, page viewer with hit boxes, uploads, event log.

    Create users first: dangan user add NAME --role operator|staff|auditor|admin"""
    import uvicorn

    from dangan.web import create_app  # FastAPI loads only to serve

    if not has_users(ctx.archive):
        raise DanganError("no users yet: create one with `dangan user add NAME --role admin`")
    app = create_app(
        ctx.home, secret_key=secret_key, secure_cookies=secure_cookies, backend=ctx.archive.backend, scan_jobs=scan_jobs
    )
    scheme = "https" if secure_cookies else "http"
    console.print(
        f"dangan web on {scheme}://{host}:{port}/ (data home {ctx.home.root})"
        + (
            ""
            if secure_cookies or host in ("127.0.0.1", "localhost", "::1")
            else " [yellow]— cookies are not Secure: use HTTPS for anything but a trial[/]"
        )
    )
    uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False, log_level="info")


COMMANDS = (serve,)
