"""The whole flow on one machine in a few minutes: generated scans in, searches and an
auditor's report out."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from rich.table import Table

from dangan.app import Archive, ingest, records
from dangan.app.archive import init_archive
from dangan.app.reports import as_html, make_all
from dangan.cli.audit import status_markup
from dangan.cli.base import console, default_jobs, pass_ctx, progress
from dangan.cli.records import print_record
from dangan.cli.scan import print_batch
from dangan.cli.search import print_results
from dangan.i18n import _, count
from dangan.testing.synthetic import generate_demo_batch


@click.command()
@click.option(
    "--home",
    "demo_home",
    default="demo-data",
    show_default=True,
    type=click.Path(),
    help="Where to build the demo archive (it is replaced).",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=default_jobs(), show_default=True)
@click.option("--seed", default=7, show_default=True, help="Seed for the generated customers and pages.")
@pass_ctx
def demo(ctx, demo_home, jobs, seed) -> None:
    """Generate a realistic batch of scanned customer folders, ingest it into a fresh demo
    home and run a few searches: the whole flow on one machine in a few minutes."""
    root = Path(demo_home).resolve()
    if root.exists():
        shutil.rmtree(root)
    scans = root / "scans"
    console.rule("[bold]" + _("1. An operator's batch: scanned customer folders"))
    truth = generate_demo_batch(scans, seed=seed)
    files = sorted(scans.glob("*.pdf"))
    pages = sum(len(f.pages) for f in truth.files)
    console.print(
        _("{folders}, {pages} at 300 dpi in {path}").format(
            folders=count(len(files), "file"), pages=count(pages, "page"), path=scans
        )
    )
    for f in truth.files:
        case = f.case
        console.print(
            f"  {Path(f.file).name}: {case.business_name} {case.customer_name} "
            + _("account number {account} ({pages})").format(account=case.account_no, pages=count(len(f.pages), "page"))
        )
    archive = Archive.open(root / "archive", None, actor=ctx.actor, backend=ctx.archive.backend)

    console.rule("[bold]2. dangan init")
    created = init_archive(archive)
    table = Table(title=_("dangan data home ready"), show_header=False)
    for k, v in created.items():
        table.add_row(k, str(v))
    console.print(table)

    console.rule("[bold]3. dangan scan")
    with progress(_("Scanning"), _("Indexing")) as (scanned, indexed):
        result = ingest.ingest(
            archive,
            files,
            ingest.scan_options(archive, jobs=jobs, label="demo"),
            progress=scanned,
            index_progress=indexed,
        )
    print_batch(result)

    first = truth.files[0].case
    queries = [
        first.account_no,
        f'"{first.customer_name}"',
        "减容",
        "业务:暂停",
        '"供用电合同"',
        first.account_no[:6] + "*",
    ]
    for q in queries:
        console.rule(f"[bold]4. dangan search {q}")
        print_results(records.search(archive, q, per_page=5))

    number = next(f.number for f in result.report.folders if f.status == "accessioned")
    console.rule(f"[bold]5. dangan show {number}")
    print_record(records.record_view(archive, number, with_text=False), with_text=False)

    console.rule("[bold]" + _("6. dangan report all --html (for the auditor)"))
    report_html = root / "audit-report.html"
    reports = make_all(archive)  # the demo's cases lack billing fields and shelving: the report says so
    report_html.write_text(as_html(reports), encoding="utf-8")
    for r in reports:
        console.print(f"{r.title}: " + status_markup(r))
    console.print(_("written: {path}").format(path=report_html))

    console.rule("[bold]" + _("Try it yourself"))
    console.print(
        f"export DANGAN_HOME={root / 'archive'}\n"
        f"dangan search '户号:{first.account_no}'\n"
        f"dangan show {number}\n"
        f"open {report_html}   # " + _("completeness, overdue, digitisation, reconciliation, numbering, duplicates")
    )
    archive.close()


COMMANDS = (demo,)
