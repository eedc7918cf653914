"""The web app."""

from __future__ import annotations

import os
import secrets

import click

from dangan.app.users import has_users
from dangan.cli.base import console, pass_ctx
from dangan.errors import DanganError
from dangan.i18n import _


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
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    envvar="DANGAN_TRUSTED_PROXIES",
    metavar="ADDRESS",
    help="Address or network of the TLS proxy in front (repeat for several) [env DANGAN_TRUSTED_PROXIES, "
    "space-separated]. Only its X-Forwarded-For and X-Forwarded-Proto are believed: log-in throttling and "
    "the event log then see the real client address.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Server processes answering requests (searches are CPU work: one per core).",
)
@click.option(
    "--scan-jobs", type=click.IntRange(1, 64), default=2, show_default=True, help="OCR processes for uploaded batches."
)
@pass_ctx
def serve(ctx, host, port, secure_cookies, secret_key, trusted_proxies, workers, scan_jobs) -> None:
    """Run the web app: search, records, page viewer with hit boxes, uploads, QA queue, reports,
    event log, user management.

    It serves plain HTTP: for anything but a trial on this machine put a TLS proxy in front
    (nginx, Caddy) and pass its address with --trusted-proxy. Create the first admin first:
    dangan user add NAME --role admin"""
    import uvicorn

    if not has_users(ctx.archive):
        raise DanganError(_("no users yet: create the first admin with `dangan user add NAME --role admin`"))
    proxies = [p for value in trusted_proxies for p in value.replace(",", " ").split()]
    settings = {
        "DANGAN_HOME": str(ctx.home.root),
        "DANGAN_DB": ctx.home.db_url,
        # the backend asked for this run; none: each worker uses the archive's own
        "DANGAN_INDEX_BACKEND": ctx.archive.backend or "",
        # every worker must sign and check log-in forms with the same key
        "DANGAN_SECRET_KEY": secret_key or secrets.token_urlsafe(32),
        "DANGAN_SECURE_COOKIES": "1" if secure_cookies else "",
        "DANGAN_TRUSTED_PROXIES": " ".join(proxies),
        "DANGAN_SCAN_JOBS": str(scan_jobs),
    }
    os.environ.update(settings)
    shown_host = f"[{host}]" if ":" in host else host
    console.print(
        _("dangan web serving plain HTTP on http://{host}:{port}/ ({workers} workers, data home {home})").format(
            host=shown_host, port=port, workers=workers, home=ctx.home.root
        )
    )
    if proxies:
        console.print(
            _("behind the TLS proxy at {proxies}: people use its https:// address").format(proxies=", ".join(proxies))
        )
    elif not secure_cookies and host not in ("127.0.0.1", "localhost", "::1"):
        console.print(
            "[yellow]" + _("cookies are not Secure: use HTTPS (a TLS proxy) for anything but a trial") + "[/]"
        )
    elif secure_cookies:
        console.print(
            _("cookies are Secure: browsers send them over HTTPS only, so open the app through your TLS proxy")
        )
    uvicorn.run(
        "dangan.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,  # the app believes only the proxies named above (create_app)
        server_header=False,
        log_level="info",
        access_log=False,  # who read what is in the event log
    )


COMMANDS = (serve,)
