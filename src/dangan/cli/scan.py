"""Scanning: init, scan, the hot folder, shared-mode workers, quarantine and the QA queue."""

from __future__ import annotations

import shlex
import sys
import threading
import time
from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from dangan.app import ingest, records
from dangan.app.archive import init_archive
from dangan.app.names import display_name
from dangan.cli.base import (
    console,
    default_jobs,
    err,
    finish,
    json_option,
    output,
    pass_ctx,
    progress,
)
from dangan.errors import ExitStatus
from dangan.i18n import _, count

STATUS_STYLE = {"accessioned": "green", "skipped": "yellow", "quarantined": "red"}
ENGINE_HELP = "OCR engine: rapidocr (PP-OCR, models inside the package) or tesseract [default: rapidocr]."


@click.command()
@json_option
@pass_ctx
def init(ctx, as_json: bool) -> None:
    """Create the data home: database (migrated to the newest schema), search index and file store.

    Safe to run again: it upgrades the database schema and leaves data alone."""
    created = init_archive(ctx.archive)

    def show(created: dict) -> None:
        table = Table(title=_("dangan data home ready"), show_header=False)
        for k, v in created.items():
            table.add_row(k, str(v))
        console.print(table)

    output(created, as_json, show)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=default_jobs(),
    show_default=True,
    help="Pages OCR'd in parallel (one process each).",
)
@click.option("--fonds", default=None, help="Fonds code (全宗号) for new archive numbers [default: from the scheme].")
@click.option("--label", default="", help="A name for this batch, shown in reports.")
@click.option("--engine", type=click.Choice(ingest.OCR_ENGINES), default=None, help=ENGINE_HELP)
@click.option(
    "--distributed",
    is_flag=True,
    help="Send the pages to `dangan worker` processes through the queue (Redis) instead of "
    "OCR'ing them here. Needs a shared database (--db) and file store (--home).",
)
@click.option(
    "--broker",
    envvar="DANGAN_BROKER",
    metavar="URL",
    help="Queue for --distributed, e.g. redis://queue-host:6379/0 [env DANGAN_BROKER; "
    "default redis://localhost:6379/0].",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="CSV or JSON saying which pages of which file form one customer folder (file, first_page, "
    "last_page and work_order, account_number or archive_number; see "
    "schemas/batch-manifest.schema.json). For stacks scanned without cover sheets.",
)
@click.option(
    "--outage-limit",
    type=click.FloatRange(0),
    envvar="DANGAN_OUTAGE_LIMIT",
    default=900,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the database or the queue when it stops answering, before stopping "
    "(exit status 75; run the same command again to resume) [env DANGAN_OUTAGE_LIMIT].",
)
@json_option
@pass_ctx
def scan(ctx, paths, jobs, fonds, label, engine, distributed, broker, manifest_path, outage_limit, as_json) -> None:
    """Ingest scanned files: PDFs, multi-page TIFFs, PNG and JPEG files, or folders of them.

    Each file is one customer folder: its pages are cleaned, OCR'd (Simplified Chinese),
    split into documents, given one archive number, stored with SHA-256 checksums and
    indexed. Files that cannot be read are quarantined with the reason; the rest go on.
    Running the same command again skips what is already in the archive. Exit status 3
    when any file was quarantined.

    A file holding several folders is split at cover sheets (`dangan labels cover`), each
    folder linked to the case, customer or record its cover names; or by --manifest.

    With --distributed, workers on any machine that sees the database and the file store do
    the OCR (start them with `dangan worker`); this station accessions each folder as its
    last page comes back. Several stations may scan into one archive at once.

    When the database or the queue stops answering, the scan waits, says what for, and goes
    on when it is back; past --outage-limit it stops with exit status 75 and the command to
    run again (nothing finished is lost)."""
    manifest = ingest.load_manifest(manifest_path) if manifest_path else None  # refused before anything is written
    archive = ctx.archive
    options = ingest.scan_options(archive, engine=engine, jobs=jobs, fonds=fonds, label=label)
    patience = ingest.station_patience(archive, limit=outage_limit, notify=notice, resume=resume_command())
    runner, on_folder = None, None
    if distributed:
        station = ingest.connect_station(archive, broker, patience)
        for warning in station.warnings:
            notice(warning)
        if station.workers:
            workers = ", ".join(station.workers)
            err.print(_("{n} worker(s) listening: {workers}").format(n=len(station.workers), workers=workers))
        runner = station.runner
        on_folder = lambda f: err.print(f"  {Path(f.source).name}: {status_name(f.status)} {f.number}")
    scanning = _("Scanning (workers)") if distributed else _("Scanning")
    with progress(scanning, _("Indexing")) as (scanned, indexed):
        result = ingest.ingest(
            archive,
            paths,
            options,
            manifest=manifest,
            runner=runner,
            progress=scanned,
            on_folder=on_folder,
            index_progress=indexed,
            patience=patience,
        )
    output(result.as_dict(), as_json, lambda _r: print_batch(result))
    finish(result.exit_status)


def notice(message: str) -> None:
    """Something the operator should know while the command goes on (an outage, a late page)."""
    err.print(Text(f"{time.strftime('%H:%M:%S')} {message}", style="yellow"), soft_wrap=True)


def resume_command() -> str:
    """This command line, as the operator runs it again to resume."""
    return shlex.join(["dangan", *sys.argv[1:]])


def status_name(status: str) -> str:
    """What happened to a file, in words (accessioned, skipped, quarantined)."""
    return display_name("folder_status", status)


def batch_summary(report) -> str:
    return _("Batch {batch}: {pages} pages in {seconds:.0f} s ({rate:.1f} pages/min)").format(
        batch=report.batch_id, pages=report.pages, seconds=report.seconds, rate=report.pages_per_minute
    )


def indexed_words(update) -> str:
    """How the index followed: a count, or, with the index in the database, that each page was
    indexed as it was accessioned (nothing waited for the station to index)."""
    if update.at_commit and not update.indexed:
        return _("pages indexed at their accession")
    return _("{indexed} pages indexed").format(indexed=update.indexed or 0)


def print_batch(result: ingest.IngestResult) -> None:
    report = result.report
    table = Table(title=batch_summary(report))
    for col in (_("file"), _("result"), _("archive number"), _("docs"), _("pages"), _("to check"), _("reason")):
        table.add_column(col, overflow="fold")
    split = {f.source for f in report.folders if f.link or f.first_page > 1}
    for f in report.folders:
        pages = _(" p.{first}-{last}").format(first=f.first_page, last=f.last_page)
        name = Path(f.source).name + (pages if f.source in split else "")
        reason = "; ".join(x for x in (f"→ {f.link}" if f.link else "", f.reason) if x)
        table.add_row(
            name,
            Text(status_name(f.status), style=STATUS_STYLE[f.status]),
            Text(f.number, no_wrap=True),
            str(f.documents or ""),
            str(f.pages or ""),
            str(f.flagged or ""),
            reason,
        )
    console.print(table)
    console.print(
        _("{accessioned} accessioned, {skipped} skipped, {quarantined} quarantined; {indexed}.").format(
            accessioned=report.count("accessioned"),
            skipped=report.count("skipped"),
            quarantined=report.count("quarantined"),
            indexed=indexed_words(result.index),
        )
    )


@click.command()
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=default_jobs(),
    show_default=True,
    help="Pages worked on at once (one process and one OCR engine each): the core count.",
)
@click.option(
    "--broker",
    envvar="DANGAN_BROKER",
    metavar="URL",
    help="Queue to take pages from [env DANGAN_BROKER; default redis://localhost:6379/0].",
)
@click.option("--name", default=None, help="Worker name shown to stations [default: dangan@HOSTNAME].")
@click.option("--loglevel", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="INFO", show_default=True)
@pass_ctx
def worker(ctx, concurrency, broker, name, loglevel) -> None:
    """OCR pages that scanning stations send (`dangan scan --distributed`), until stopped.

    Run it on any machine that sees the archive's file store (--home, a shared path) and its
    database (--db, PostgreSQL). Each finished page is saved in the database before the queue
    forgets it: Ctrl-C finishes the pages in hand; a worker that dies (even kill -9) has its
    page done again by another worker. Through an outage of the database or the store it keeps
    the page in hand and retries; a worker that cannot see the store, or lacks an OCR program,
    stops taking pages and says why. Its log names pages by id, time and outcome only."""
    ingest.run_worker(ctx.archive, broker=broker, concurrency=concurrency, loglevel=loglevel, name=name, notify=notice)


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=2.0,
    show_default=True,
    help="Seconds between looks at the folder.",
)
@click.option(
    "--settle",
    type=click.FloatRange(0, 3600),
    default=5.0,
    show_default=True,
    help="A file is scanned once its size and time stamp stayed the same this many seconds.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=default_jobs(),
    show_default=True,
    help="Pages OCR'd in parallel (one process each).",
)
@click.option("--fonds", default=None, help="Fonds code (全宗号) for new archive numbers [default: from the scheme].")
@click.option("--engine", type=click.Choice(ingest.OCR_ENGINES), default=None, help=ENGINE_HELP)
@click.option("--label", default="hot folder", show_default=True, help="Name of the batches, shown in reports.")
@pass_ctx
def watch(ctx, folder, interval, settle, jobs, fonds, engine, label) -> None:
    """Scan files dropped into FOLDER (a scanner's hot folder), each once it stops growing.

    Files are left where they are: the archive skips bytes it already holds, and a state file
    in the data home (watch-state.json) records what was handed over, so a restart neither
    scans a file twice nor misses one. Dot-files and names still being written (*.part,
    *.tmp, ~$*) are ignored; anything that is not a readable scan is quarantined as by
    `dangan scan`. Each batch is indexed as soon as it is accessioned.

    Ctrl-C stops after the batch under way; a second Ctrl-C stops at once (the unfinished
    files are scanned again at the next start)."""
    archive = ctx.archive
    options = ingest.scan_options(archive, engine=engine, jobs=jobs, fonds=fonds, label=label)
    archive.check()

    def on_batch(report, update) -> None:
        for f in report.folders:
            console.print(
                Text.assemble(
                    f"{Path(f.source).name}: ",
                    (status_name(f.status), STATUS_STYLE[f.status]),
                    f" {f.number or f.reason}",
                )
            )
        console.print(_("{batch}; {indexed}").format(batch=batch_summary(report), indexed=indexed_words(update)))
        if update.problem:
            err.print(f"[red]{update.problem}[/]")

    def on_error(paths, e) -> None:
        files = ", ".join(p.name for p in paths)
        err.print(Text(_("scanning {files} failed: {error}; trying again shortly").format(files=files, error=e), "red"))

    stop = threading.Event()
    err.print(
        _("watching {folder} (every {interval:g} s, settled after {settle:g} s); Ctrl-C to stop").format(
            folder=Path(folder).resolve(), interval=interval, settle=settle
        )
    )
    try:
        with ingest.stop_on_interrupt(
            stop,
            on_first=lambda: err.print(
                Text(_("stopping after the batch under way (Ctrl-C again to stop at once)…"), "yellow")
            ),
        ):
            summary = ingest.watch_folder(
                archive,
                folder,
                options,
                settle=settle,
                interval=interval,
                stop_event=stop,
                on_batch=on_batch,
                on_error=on_error,
            )
    except KeyboardInterrupt:
        err.print(Text(_("stopped; files of the unfinished batch are scanned again at the next start"), "yellow"))
        finish(ExitStatus.INTERRUPTED)
    err.print(
        _("stopped: {batches} batches, {accessioned} accessioned, {skipped} skipped, {quarantined} quarantined").format(
            batches=summary.batches,
            accessioned=summary.count("accessioned"),
            skipped=summary.count("skipped"),
            quarantined=summary.count("quarantined"),
        )
    )


@click.command("quarantine")
@json_option
@pass_ctx
def quarantine_cmd(ctx, as_json) -> None:
    """List files the pipeline refused, with the reason and where the original bytes are kept."""

    def show(rows: list[dict]) -> None:
        table = Table(title=_("Quarantined: {files}").format(files=count(len(rows), "file")))
        for col in (_("file"), _("reason"), _("kept as")):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(r["file"], r["reason"], r["kept_as"])
        console.print(table)

    output(records.quarantined(ctx.archive), as_json, show)


@click.group()
def qa() -> None:
    """The QA queue: pages the pipeline flagged (low resolution, skew, blur, low OCR
    confidence, unknown document type …) for a person to accept or rescan."""


@qa.command("list")
@click.option("--status", type=click.Choice(["flagged", "accepted", "rescanned"]), default="flagged", show_default=True)
@json_option
@pass_ctx
def qa_list(ctx, status, as_json) -> None:
    """List pages waiting for a decision, with what is wrong with each."""

    def show(items: list[dict]) -> None:
        titles = {"flagged": _("To check: {pages}"), "accepted": _("Accepted: {pages}")}
        title = titles.get(status) or _("Rescanned: {pages}")
        table = Table(title=title.format(pages=count(len(items), "page")))
        for col in (_("page"), _("record/page"), _("conf"), _("what to check")):
            table.add_column(col, overflow="fold")
        for i in items:
            table.add_row(
                str(i["page_id"]),
                f"{i['record']}/{i['seq']}",
                f"{i['confidence']:.0f}" if i["confidence"] is not None else "–",
                "\n".join(f"[{'red' if f['severity'] == 'fail' else 'yellow'}]{f['message']}[/]" for f in i["flags"]),
            )
        console.print(table)

    output(records.qa_queue(ctx.archive, status), as_json, show)


@qa.command("accept")
@click.argument("page")
@click.option("--note", required=True, help="Why the page is acceptable as it is.")
@pass_ctx
def qa_accept(ctx, page, note) -> None:
    """Accept PAGE (an id, or ARCHIVE-NUMBER/PAGE) as it is."""
    ingest.qa_accept(ctx.archive, page, note)
    console.print(_("page {page} accepted").format(page=page))


@qa.command("rescan")
@click.argument("page")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--page-no", type=click.IntRange(1), default=1, show_default=True, help="Which page of FILE.")
@pass_ctx
def qa_rescan(ctx, page, file, page_no) -> None:
    """Replace PAGE with a new scan from FILE. The old page and its master are kept,
    marked superseded; the new page takes its place in the document."""
    done = ingest.rescan(ctx.archive, page, file, page_no=page_no)
    flags = ", ".join(f["code"] for f in done["flags"])
    still = _("; still to check: {flags}").format(flags=flags) if flags else ""
    console.print(_("page {old} replaced by page {new}").format(old=done["page_id"], new=done["new_page_id"]) + still)


COMMANDS = (init, scan, worker, watch, quarantine_cmd, qa)
