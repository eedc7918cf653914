"""The `dangan` command: parses, calls the library, prints. No logic lives here."""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

console = Console()
err = Console(stderr=True)


class Context:
    """What every command needs: where the data is and who is acting."""

    def __init__(self, home: str | None, db: str | None, actor: str | None, backend: str | None):
        from dangan.archive.home import DataHome

        self.home = DataHome.resolve(home, db)
        self.actor = actor or os.environ.get("DANGAN_USER") or os.environ.get("USER") or "operator"
        self.backend_name = backend or os.environ.get("DANGAN_INDEX_BACKEND") or "whoosh"
        self._db = None

    @property
    def db(self):
        from dangan.archive.db import Database, schema_is_current

        if self._db is None:
            if self.home.is_sqlite and not Path(self.home.sqlite_path).exists():
                raise click.ClickException(
                    f"no archive at {self.home.root}: run `dangan init` first (or pass --home / set DANGAN_HOME)"
                )
            self._db = Database(self.home.db_url)
            if not schema_is_current(self._db.engine):
                raise click.ClickException(
                    "the database schema is older than this dangan: run `dangan init` to upgrade it"
                )
        return self._db

    @property
    def store(self):
        from dangan.archive.store import FileStore

        return FileStore(self.home.store_dir)

    def backend(self):
        from dangan.indexing.backend import open_backend

        self.home.index_dir.mkdir(parents=True, exist_ok=True)
        return open_backend(
            self.home.index_dir,
            self.backend_name,
            on_wait=lambda pid: err.print(f"[yellow]waiting for the index writer (held by process {pid})…[/]"),
        )


pass_ctx = click.make_pass_decorator(Context)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_plain))


def _plain(o: Any) -> Any:
    if is_dataclass(o):
        return asdict(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")


class RateColumn(ProgressColumn):
    """Pages per minute: what an operator compares with the scanner's speed."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed * 60:5.1f} pages/min" if speed else "  –  pages/min", style="cyan")


def page_progress(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages"),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--home",
    envvar="DANGAN_HOME",
    metavar="DIR",
    help="Data home holding the database, index and file store [default: ./dangan-data; env DANGAN_HOME].",
)
@click.option(
    "--db",
    envvar="DANGAN_DB",
    metavar="URL",
    help="Database URL, e.g. postgresql+psycopg://user:pw@host/dangan [default: SQLite in the home; env DANGAN_DB].",
)
@click.option(
    "--as", "actor", metavar="NAME", help="Who is acting, for the audit trail [default: $DANGAN_USER or $USER]."
)
@click.option(
    "--backend",
    type=click.Choice(["whoosh", "tantivy"]),
    envvar="DANGAN_INDEX_BACKEND",
    help="Search index backend [default: whoosh].",
)
@click.pass_context
def main(ctx: click.Context, home, db, actor, backend) -> None:
    """dangan 档案 — digitise, number, index and keep in step the paper and electronic
    customer files of an electricity supply company.

    \b
    Start with:  dangan init
    then:        dangan scan FOLDER_OF_SCANS
                 dangan search '户号:3401405288'
                 dangan show GD01-KH·2026-0000011
    Or try everything on generated scans:  dangan demo
    """
    ctx.obj = Context(home, db, actor, backend)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print what was created as JSON.")
@pass_ctx
def init(ctx: Context, as_json: bool) -> None:
    """Create the data home: database (migrated to the newest schema), search index and file store.

    Safe to run again: it upgrades the database schema and leaves data alone."""
    from dangan.archive.home import init_home

    created = init_home(ctx.home)
    backend = ctx.backend()
    created["index"] = f"{ctx.home.index_dir} ({backend.name}, {backend.count()} pages)"
    backend.close()
    if as_json:
        return emit_json(created)
    table = Table(title="dangan data home ready", show_header=False)
    for k, v in created.items():
        table.add_row(k, str(v))
    console.print(table)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Pages OCR'd in parallel (one Tesseract process each).",
)
@click.option("--fonds", default=None, help="Fonds code (全宗号) for new archive numbers [default: from the scheme].")
@click.option("--label", default="", help="A name for this batch, shown in reports.")
@click.option(
    "--engine",
    type=click.Choice(["tesseract", "rapidocr"]),
    default="tesseract",
    show_default=True,
    help="OCR engine. rapidocr (PP-OCR, models inside the package) reads names, addresses and "
    "ID numbers far better (CER 0.9% vs 7% on our noisy test pages) and takes about 3x as long.",
)
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
@click.option("--json", "as_json", is_flag=True, help="Print the batch result as JSON (see README).")
@pass_ctx
def scan(ctx: Context, paths, jobs, fonds, label, engine, distributed, broker, manifest_path, as_json) -> None:
    """Ingest scanned files: PDFs, multi-page TIFFs, PNG and JPEG files, or folders of them.

    Each file is one customer folder: its pages are cleaned, OCR'd (Simplified Chinese),
    split into documents, given one archive number, stored with SHA-256 checksums and
    indexed. Files that cannot be read are quarantined with the reason; the rest go on.
    Running the same command again skips what is already in the archive.

    A file holding several folders is split at cover sheets (`dangan labels cover`), each
    folder linked to the case, customer or record its cover names; or by --manifest.

    With --distributed, workers on any machine that sees the database and the file store do
    the OCR (start them with `dangan worker`); this station accessions each folder as its
    last page comes back. Several stations may scan into one archive at once."""
    from dangan.archive.business.scheme import load_scheme
    from dangan.indexing import feed
    from dangan.scanning.batch import ScanOptions
    from dangan.scanning.batch import scan as run_scan
    from dangan.scanning.covers import ManifestError, load_manifest
    from dangan.scanning.pipeline import options_from_scheme

    try:
        manifest = load_manifest(manifest_path) if manifest_path else None
    except ManifestError as e:
        _fail(e)
    scheme = load_scheme()
    options = ScanOptions(
        fonds=fonds or scheme.fonds.code,
        actor=ctx.actor,
        jobs=jobs,
        label=label,
        pipeline=options_from_scheme(scheme, engine=engine),
    )
    db = ctx.db
    runner = _queue_runner(ctx, db, broker) if distributed else None
    with page_progress("Scanning" + (" (workers)" if distributed else "")) as bar:
        task = bar.add_task("scan", total=None)
        try:
            report = run_scan(
                paths,
                db,
                ctx.store,
                options,
                runner=runner,
                manifest=manifest,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                on_folder=(lambda f: bar.console.print(f"  {Path(f.source).name}: {f.status} {f.number}"))
                if distributed
                else None,
            )
        except ManifestError as e:  # raised before anything is written
            _fail(e)
    backend = ctx.backend()
    with page_progress("Indexing") as bar:
        task = bar.add_task("index", total=None)
        indexed = feed.sync(db, backend, progress=lambda d, t: bar.update(task, completed=d, total=t))
    backend.close()
    if as_json:
        return emit_json(
            {
                "batch": report.batch_id,
                "pages": report.pages,
                "seconds": round(report.seconds, 1),
                "pages_per_minute": round(report.pages_per_minute, 1),
                "indexed": indexed,
                "folders": report.folders,
            }
        )
    table = Table(
        title=f"Batch {report.batch_id}: {report.pages} pages in {report.seconds:.0f} s "
        f"({report.pages_per_minute:.1f} pages/min)"
    )
    for col in ("file", "result", "archive number", "docs", "pages", "to check", "reason"):
        table.add_column(col, overflow="fold")
    style = {"accessioned": "green", "skipped": "yellow", "quarantined": "red"}
    split = {f.source for f in report.folders if f.link or f.first_page > 1}
    for f in report.folders:
        name = Path(f.source).name + (f" p.{f.first_page}-{f.last_page}" if f.source in split else "")
        reason = "; ".join(x for x in (f"→ {f.link}" if f.link else "", f.reason) if x)
        table.add_row(
            name,
            Text(f.status, style=style[f.status]),
            f.number,
            str(f.documents or ""),
            str(f.pages or ""),
            str(f.flagged or ""),
            reason,
        )
    console.print(table)
    console.print(
        f"{report.count('accessioned')} accessioned, {report.count('skipped')} skipped, "
        f"{report.count('quarantined')} quarantined; {indexed} pages indexed."
    )
    if report.count("quarantined"):
        sys.exit(3)


def _queue_runner(ctx: Context, db, broker: str | None):
    """The station's side of shared mode, with the checks an operator can act on."""
    from kombu.exceptions import OperationalError

    from dangan.scanning.distributed import QueueRunner, make_app, workers_listening

    if ctx.home.is_sqlite:
        err.print(
            "[yellow]--distributed with SQLite: only workers on this machine can reach the database; "
            "give every station and worker the same --db postgresql+psycopg://… for shared mode[/]"
        )
    app = make_app(broker)
    try:
        listening = workers_listening(app, timeout=2.0)
    except OperationalError as e:
        raise click.ClickException(
            f"cannot reach the queue at {app.conf.broker_url}: {e} "
            "(is redis-server running? set --broker / DANGAN_BROKER)"
        ) from None
    if listening:
        err.print(f"{len(listening)} worker(s) listening: {', '.join(listening)}")
    else:
        err.print(
            "[yellow]no worker is listening yet: pages wait in the queue until one starts "
            "(`dangan worker` on any machine with this database and file store)[/]"
        )
    return QueueRunner(db, app)


@main.command()
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Pages worked on at once (one process and one Tesseract each): the core count.",
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
def worker(ctx: Context, concurrency, broker, name, loglevel) -> None:
    """OCR pages that scanning stations send (`dangan scan --distributed`), until stopped.

    Run it on any machine that sees the archive's file store (--home, a shared path) and its
    database (--db, PostgreSQL). Each finished page is saved in the database before the queue
    forgets it: Ctrl-C finishes the pages in hand; a worker that dies (even kill -9) has its
    page done again by another worker."""
    from dangan.scanning.distributed import make_app, run_worker

    ctx.db  # refuses a missing or outdated database, with the fix
    if not (ctx.home.store_dir / "sources").is_dir():
        raise click.ClickException(
            f"no file store at {ctx.home.store_dir}: mount the archive's shared store "
            "there or pass --home (the folder that holds store/)"
        )
    # the pool processes read these, as every dangan command does
    os.environ["DANGAN_HOME"] = str(ctx.home.root)
    os.environ["DANGAN_DB"] = ctx.home.db_url
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    run_worker(make_app(broker), concurrency, loglevel, name or "dangan@%h")


@main.command()
@click.argument("query")
@click.option("--page", "page_no", type=click.IntRange(1), default=1, show_default=True, help="Result page.")
@click.option("--per-page", type=click.IntRange(1, 200), default=10, show_default=True, help="Records per result page.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--exact", is_flag=True, help="Only exact matches: skip the OCR-error-tolerant pass.")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON (see README).")
@pass_ctx
def search(ctx: Context, query, page_no, per_page, sort, exact, as_json) -> None:
    """Find pages by words on them, 户号, name, address, work order or archive number.

    \b
    Examples:
      dangan search 减容                       a word anywhere on a page
      dangan search '"暂停用电申请"'            an exact phrase
      dangan search 户号:3401405288            an account number (户号:340140* for a prefix)
      dangan search '业务:暂停 日期:2024-01-01..2024-06-30'
    Full syntax: `dangan search --help` in the README, section "Search syntax"."""
    from dangan.indexing.pages import with_boxes
    from dangan.indexing.query import QuerySyntaxError
    from dangan.indexing.search import search as run_search

    backend = ctx.backend()
    try:
        results = run_search(backend, query, page=page_no, per_page=per_page, sort=sort, tolerant=not exact)
    except QuerySyntaxError as e:
        raise click.ClickException(f"cannot read the query: {e}")
    finally:
        backend.close()
    data = with_boxes(ctx.db, results)
    if as_json:
        return emit_json(data)
    print_results(data)


def print_results(r: dict) -> None:
    if not r["groups"]:
        console.print(f"No pages match [bold]{r['query']}[/].")
        return
    extra = f" and {r['tolerant_hits']} similar (one character read differently)" if r["tolerant_hits"] else ""
    console.print(
        f"[bold]{r['total_hits']}[/] pages match [bold]{r['query']}[/]{extra}; "
        f"{r['total_groups']} records, result page {r['page']} of {r['pages']}:"
    )
    for g in r["groups"]:
        label = Text(" similar ", style="black on yellow") if g["tolerant"] else Text("")
        console.print(Text(g["record_number"], style="bold cyan"), label, Text(f" {g['title']}", style="dim"))
        for h in g["hits"]:
            flat = h["snippet"].replace("\n", " ")
            snippet = Text(flat.replace("【", "").replace("】", ""))
            for start, end in _marks(flat):
                snippet.stylize("bold red", start, end)
            where = f"{len(h['boxes'])} box{'es' if len(h['boxes']) != 1 else ''} on the page"
            console.print(Text(f"   p.{h['page_no']:<3} ", style="bold"), snippet, Text(f"  [{where}]", style="dim"))


def _marks(snippet: str) -> list[tuple[int, int]]:
    """Spans of 【…】-marked hits in a snippet, as offsets in the unmarked text."""
    spans, pos, start = [], 0, None
    for ch in snippet:
        if ch == "【":
            start = pos
        elif ch == "】" and start is not None:
            spans.append((start, pos))
            start = None
        else:
            pos += 1
    return spans


@main.command()
@click.argument("key")
@click.option("--text/--no-text", "with_text", default=True, help="Include each page's OCR text.")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON (see README).")
@pass_ctx
def show(ctx: Context, key, with_text, as_json) -> None:
    """Show a record by archive number or 户号: customer, case, documents, pages, text,
    checksums and where the files are. Each look is logged as an access event."""
    from dangan.archive.records.views import record_view
    from dangan.errors import NotFound

    try:
        with ctx.db.session() as s:
            view = record_view(s, key, store_root=str(ctx.home.store_dir), with_text=with_text, actor=ctx.actor)
    except NotFound as e:
        raise click.ClickException(str(e))
    if as_json:
        return emit_json(view)
    print_record(view, with_text)


def print_record(v: dict, with_text: bool) -> None:
    console.rule(f"[bold cyan]{v['number']}[/]  {v['title']}")
    c, case, cls = v["customer"], v["case"], v["classification"]
    info = Table(show_header=False, box=None)
    if c:
        info.add_row("customer 客户", f"{c['name']}  户号 {c['account_number']}  {c['address']}")
    if case:
        info.add_row("case 业务", f"{case['business_type']}  工单 {case['work_order']}  {case['status']}")
    if cls:
        info.add_row("classification", f"{cls['business_type']} {cls['voltage_class']} {cls['customer_class']}")
    info.add_row("status", v["status"])
    info.add_row("accessioned", v["accessioned_at"])
    info.add_row("file store", v["store_root"])
    console.print(info)
    pages = Table(title="Documents and pages")
    for col in ("件", "type", "title", "p.", "master SHA-256", "dpi", "conf", "QA"):
        pages.add_column(col, overflow="fold")
    for d in v["documents"]:
        for i, p in enumerate(d["pages"]):
            flags = ", ".join(f["code"] for f in p["flags"]) or ("blank" if p["blank"] else "")
            pages.add_row(
                str(d["item_no"]) if i == 0 else "",
                (d["doc_type"] or "?") if i == 0 else "",
                d["title"] if i == 0 else "",
                str(p["seq"]),
                f"{p['master']['sha256'][:12]}… {p['master']['format']}",
                str(p["dpi"]),
                f"{p['ocr_confidence']:.0f}" if p["ocr_confidence"] is not None else "–",
                f"{p['qa_status']} {flags}".strip(),
            )
    console.print(pages)
    if with_text:
        for d in v["documents"]:
            for p in d["pages"]:
                if p.get("text"):
                    console.rule(f"page {p['seq']}", style="dim")
                    console.print(p["text"])


@main.group()
def number() -> None:
    """Archive numbers: check one typed or read from a label."""


@number.command("check")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def number_check(ctx: Context, text, as_json) -> None:
    """Validate an archive number's form and check character; for a single typo,
    propose the numbers it was probably meant to be (those in the archive first)."""
    from dangan.archive.records.numbering import ArchiveNumber, InvalidArchiveNumber, propose_corrections

    try:
        n = ArchiveNumber.parse(text)
        result = {"valid": True, "number": str(n)}
    except InvalidArchiveNumber as e:
        candidates = [str(c) for c in propose_corrections(text)]
        known = _existing_numbers(ctx, candidates)
        result = {"valid": False, "reason": str(e), "did_you_mean": known + [c for c in candidates if c not in known]}
    if as_json:
        emit_json(result)
    elif result["valid"]:
        console.print(f"[green]valid[/] {result['number']}")
    else:
        console.print(f"[red]invalid[/] {result['reason']}")
        if result["did_you_mean"]:
            console.print("did you mean: " + ", ".join(result["did_you_mean"][:5]))
    if not result["valid"]:
        sys.exit(1)


def _existing_numbers(ctx: Context, numbers: list[str]) -> list[str]:
    try:
        db = ctx.db
    except click.ClickException:
        return []
    from sqlalchemy import select

    from dangan.archive.models import ArchiveRecord

    with db.session() as s:
        return list(s.scalars(select(ArchiveRecord.number).where(ArchiveRecord.number.in_(numbers))))


@main.group()
def events() -> None:
    """The tamper-evident event log."""


@events.command("verify")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def events_verify(ctx: Context, as_json) -> None:
    """Recompute the hash chain; name every event that was edited, deleted or reordered."""
    from dangan.archive.events import verify_chain

    with ctx.db.session() as s:
        checked, problems = verify_chain(s)
    if as_json:
        emit_json({"checked": checked, "ok": not problems, "problems": problems})
    elif problems:
        for p in problems:
            console.print(f"[red]event #{p.seq}[/]: {p.problem}")
        console.print(f"[red]{len(problems)} problems[/] in {checked} events")
    else:
        console.print(f"[green]ok[/]: {checked} events, chain intact")
    if problems:
        sys.exit(1)


@main.group()
def index() -> None:
    """The search index: bring it up to date, rebuild it, check it against the database."""


@index.command("sync")
@pass_ctx
def index_sync(ctx: Context) -> None:
    """Index pages waiting in the outbox (scan does this itself)."""
    from dangan.indexing import feed

    backend = ctx.backend()
    with page_progress("Indexing") as bar:
        task = bar.add_task("index", total=None)
        n = feed.sync(ctx.db, backend, progress=lambda d, t: bar.update(task, completed=d, total=t))
    backend.close()
    console.print(f"{n} pages indexed")


@index.command("rebuild")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming an interrupted rebuild.")
@pass_ctx
def index_rebuild(ctx: Context, fresh) -> None:
    """Re-index every page from the database, in chunks, with constant memory.
    Resumes where an interrupted rebuild stopped. Use --backend to switch backends."""
    from dangan.indexing import feed

    backend = ctx.backend()
    with page_progress(f"Rebuilding ({backend.name})") as bar:
        task = bar.add_task("rebuild", total=None)
        n = feed.rebuild(
            ctx.db, backend, progress=lambda d, t: bar.update(task, completed=d, total=t), resume=not fresh
        )
    backend.close()
    console.print(f"{n} pages in the {ctx.backend_name} index")


@index.command("check")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def index_check(ctx: Context, as_json) -> None:
    """Report pages missing from the index, stale in it, or in it but not in the database."""
    from dangan.indexing import feed

    backend = ctx.backend()
    result = feed.check(ctx.db, backend)
    backend.close()
    if as_json:
        emit_json({"ok": result.ok, **asdict(result)})
    else:
        console.print(
            f"{result.pages} pages in the database; missing {len(result.missing)}, "
            f"stale {len(result.stale)}, orphaned {len(result.orphaned)}"
            + ("" if result.ok else " — run `dangan index sync` or `dangan index rebuild`")
        )
    if not result.ok:
        sys.exit(1)


@main.command("quarantine")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def quarantine_cmd(ctx: Context, as_json) -> None:
    """List files the pipeline refused, with the reason and where the original bytes are kept."""
    from dangan.archive.records.views import quarantine_list

    with ctx.db.session() as s:
        rows = quarantine_list(s)
    if as_json:
        return emit_json(rows)
    table = Table(title=f"{len(rows)} quarantined files")
    for col in ("file", "reason", "kept as"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["file"], r["reason"], r["kept_as"])
    console.print(table)


@main.group()
def qa() -> None:
    """The QA queue: pages the pipeline flagged (low resolution, skew, blur, low OCR
    confidence, unknown document type …) for a person to accept or rescan."""


@qa.command("list")
@click.option("--status", type=click.Choice(["flagged", "accepted", "rescanned"]), default="flagged", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def qa_list(ctx: Context, status, as_json) -> None:
    """List pages waiting for a decision, with what is wrong with each."""
    from dangan.archive.records.qa import qa_queue

    with ctx.db.session() as s:
        items = qa_queue(s, status)
    if as_json:
        return emit_json(items)
    table = Table(title=f"{len(items)} pages {status}")
    for col in ("page", "record/page", "conf", "what to check"):
        table.add_column(col, overflow="fold")
    for i in items:
        table.add_row(
            str(i.page_id),
            f"{i.record}/{i.seq}",
            f"{i.confidence:.0f}" if i.confidence is not None else "–",
            "\n".join(f"[{'red' if f['severity'] == 'fail' else 'yellow'}]{f['message']}[/]" for f in i.flags),
        )
    console.print(table)


@qa.command("accept")
@click.argument("page")
@click.option("--note", required=True, help="Why the page is acceptable as it is.")
@pass_ctx
def qa_accept(ctx: Context, page, note) -> None:
    """Accept PAGE (an id, or ARCHIVE-NUMBER/PAGE) as it is."""
    from dangan.archive.records.qa import QaError, accept_page, find_page

    try:
        with ctx.db.session() as s:
            p = find_page(s, page)
            accept_page(s, p, actor=ctx.actor, note=note)
    except QaError as e:
        raise click.ClickException(str(e))
    console.print(f"page {page} accepted")


@qa.command("rescan")
@click.argument("page")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--page-no", type=click.IntRange(1), default=1, show_default=True, help="Which page of FILE.")
@pass_ctx
def qa_rescan(ctx: Context, page, file, page_no) -> None:
    """Replace PAGE with a new scan from FILE. The old page and its master are kept,
    marked superseded; the new page takes its place in the document."""
    from dangan.archive.business.scheme import load_scheme
    from dangan.archive.records.qa import QaError
    from dangan.indexing import feed
    from dangan.scanning.batch import ScanOptions, rescan_page
    from dangan.scanning.pipeline import options_from_scheme
    from dangan.scanning.sources import RejectedFile

    options = ScanOptions(actor=ctx.actor, pipeline=options_from_scheme(load_scheme()))
    try:
        old, new, flags = rescan_page(page, file, ctx.db, ctx.store, options, page_no)
    except (QaError, RejectedFile) as e:
        raise click.ClickException(str(e))
    backend = ctx.backend()
    feed.sync(ctx.db, backend)
    backend.close()
    still = "; still to check: " + ", ".join(f["code"] for f in flags) if flags else ""
    console.print(f"page {old} replaced by page {new}{still}")


@main.command()
@click.option(
    "--home",
    "demo_home",
    default="demo-data",
    show_default=True,
    type=click.Path(),
    help="Where to build the demo archive (it is replaced).",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=os.cpu_count() or 1, show_default=True)
@click.option("--seed", default=7, show_default=True, help="Seed for the generated customers and pages.")
@pass_ctx
def demo(ctx: Context, demo_home, jobs, seed) -> None:
    """Generate a realistic batch of scanned customer folders, ingest it into a fresh demo
    home and run a few searches: the whole flow on one machine in a few minutes."""
    import shutil

    from dangan.testing.synthetic import generate_demo_batch

    root = Path(demo_home).resolve()
    if root.exists():
        shutil.rmtree(root)
    scans = root / "scans"
    console.rule("[bold]1. An operator's batch: scanned customer folders")
    truth = generate_demo_batch(scans, seed=seed)
    files = sorted(scans.glob("*.pdf"))
    console.print(f"{len(files)} folders, {sum(len(f.pages) for f in truth.files)} pages at 300 dpi in {scans}")
    for f in truth.files:
        case = f.case
        console.print(
            f"  {Path(f.file).name}: {case.business_name} {case.customer_name} 户号 {case.account_no} "
            f"({len(f.pages)} pages)"
        )
    demo_ctx = Context(str(root / "archive"), None, ctx.actor, ctx.backend_name)
    click_ctx = click.get_current_context()
    click_ctx.obj = demo_ctx
    console.rule("[bold]2. dangan init")
    click_ctx.invoke(init, as_json=False)
    console.rule("[bold]3. dangan scan")
    try:
        click_ctx.invoke(
            scan,
            paths=[str(f) for f in files],
            jobs=jobs,
            fonds=None,
            label="demo",
            engine="tesseract",
            distributed=False,
            broker=None,
            as_json=False,
        )
    except SystemExit:
        pass
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
        click_ctx.invoke(search, query=q, page_no=1, per_page=5, sort="relevance", exact=False, as_json=False)
    with demo_ctx.db.session() as s:
        from sqlalchemy import select

        from dangan.archive.models import ArchiveRecord

        number = s.scalar(select(ArchiveRecord.number).order_by(ArchiveRecord.id))
    console.rule(f"[bold]5. dangan show {number}")
    click_ctx.invoke(show, key=number, with_text=False, as_json=False)
    console.rule("[bold]6. dangan report all --html (for the auditor)")
    report_html = root / "audit-report.html"
    try:
        click_ctx.invoke(report_all, as_of=None, html_out=str(report_html))
    except SystemExit:
        pass  # the demo's cases lack billing fields and shelving: the report says so
    console.rule("[bold]Try it yourself")
    console.print(
        f"export DANGAN_HOME={root / 'archive'}\n"
        f"dangan search '户号:{first.account_no}'\n"
        f"dangan show {number}\n"
        f"open {report_html}   # completeness, overdue, digitisation, reconciliation, numbering"
    )


# --- hot folder and searchable PDF --------------------------------------------


@main.command()
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
    default=os.cpu_count() or 1,
    show_default=True,
    help="Pages OCR'd in parallel (one Tesseract process each).",
)
@click.option("--fonds", default=None, help="Fonds code (全宗号) for new archive numbers [default: from the scheme].")
@click.option(
    "--engine",
    type=click.Choice(["tesseract", "rapidocr"]),
    default="tesseract",
    show_default=True,
    help="OCR engine (see `dangan scan --help`).",
)
@click.option("--label", default="hot folder", show_default=True, help="Name of the batches, shown in reports.")
@pass_ctx
def watch(ctx: Context, folder, interval, settle, jobs, fonds, engine, label) -> None:
    """Scan files dropped into FOLDER (a scanner's hot folder), each once it stops growing.

    Files are left where they are: the archive skips bytes it already holds, and a state file
    in the data home (watch-state.json) records what was handed over, so a restart neither
    scans a file twice nor misses one. Dot-files and names still being written (*.part,
    *.tmp, ~$*) are ignored; anything that is not a readable scan is quarantined as by
    `dangan scan`. Each batch is indexed as soon as it is accessioned.

    Ctrl-C stops after the batch under way; a second Ctrl-C stops at once (the unfinished
    files are scanned again at the next start)."""
    import threading

    from dangan.archive.business.scheme import load_scheme
    from dangan.indexing import feed
    from dangan.scanning.batch import ScanOptions
    from dangan.scanning.pipeline import options_from_scheme
    from dangan.scanning.watch import WatchError, stop_on_interrupt
    from dangan.scanning.watch import watch as run_watch

    scheme = load_scheme()
    options = ScanOptions(
        fonds=fonds or scheme.fonds.code,
        actor=ctx.actor,
        jobs=jobs,
        label=label,
        pipeline=options_from_scheme(scheme, engine=engine),
    )
    db = ctx.db
    style = {"accessioned": "green", "skipped": "yellow", "quarantined": "red"}

    def on_batch(report) -> None:
        backend = ctx.backend()
        try:
            indexed = feed.sync(db, backend)
        finally:
            backend.close()
        for f in report.folders:
            console.print(
                Text.assemble(f"{Path(f.source).name}: ", (f.status, style[f.status]), f" {f.number or f.reason}")
            )
        console.print(
            f"batch {report.batch_id}: {report.pages} pages in {report.seconds:.0f} s "
            f"({report.pages_per_minute:.1f} pages/min); {indexed} pages indexed"
        )

    def on_error(paths, e) -> None:
        err.print(f"[red]scanning {', '.join(p.name for p in paths)} failed: {e}; trying again shortly[/]")

    stop = threading.Event()
    err.print(f"watching {Path(folder).resolve()} (every {interval:g} s, settled after {settle:g} s); Ctrl-C to stop")
    try:
        with stop_on_interrupt(
            stop,
            on_first=lambda: err.print("[yellow]stopping after the batch under way (Ctrl-C again to stop at once)…[/]"),
        ):
            summary = run_watch(
                folder,
                db,
                ctx.store,
                options,
                settle=settle,
                interval=interval,
                stop_event=stop,
                on_batch=on_batch,
                on_error=on_error,
                state_path=ctx.home.root / "watch-state.json",
            )
    except WatchError as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        err.print("[yellow]stopped; files of the unfinished batch are scanned again at the next start[/]")
        sys.exit(130)
    err.print(
        f"stopped: {summary.batches} batches, {summary.count('accessioned')} accessioned, "
        f"{summary.count('skipped')} skipped, {summary.count('quarantined')} quarantined"
    )


@main.command("export-pdf")
@click.argument("number")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="PDF file to write [default: NUMBER.pdf in the current folder].",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@pass_ctx
def export_pdf(ctx: Context, number, output, as_json) -> None:
    """Write record NUMBER (or a 户号 with one record) as a searchable PDF: one page per
    current page image, at its scanned size, with the OCR text invisible over the image so
    it can be searched, selected and copied. The export is logged as an event with the
    file's SHA-256."""
    from dangan.archive.audit.searchable_pdf import ExportError
    from dangan.archive.audit.searchable_pdf import export_pdf as run_export
    from dangan.errors import NotFound

    try:
        with ctx.db.session() as s:
            if output is None:
                from dangan.archive.records.views import find_record

                output = f"{find_record(s, number).number}.pdf"
            result = run_export(s, number, ctx.store, output, actor=ctx.actor)
    except (NotFound, ExportError) as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        return emit_json(result)
    console.print(
        f"wrote {result.path}: {result.number}, {result.pages} pages, {result.words} words, {result.size / 1e6:.1f} MB"
    )
    console.print(f"sha256 {result.sha256} (event #{result.event_seq})")


# --- paper, handover, loans, lifecycle ----------------------------------------


def _fail(e: Exception) -> None:
    raise click.ClickException(str(e))


def _scheme():
    from dangan.archive.business.scheme import load_scheme

    return load_scheme()


def _business_names() -> dict[str, str]:
    return {bt.code: bt.name for bt in _scheme().business_types.values()}


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{v!r}: expected {what}")
        out[key.strip()] = val.strip()
    return out


# --------------------------------------------------------------------------- locations


@main.group()
def location() -> None:
    """Archive rooms and shelves: 库房 → 区 → 架/柜 → 层 → 盒 (box) → 卷 (folder)."""


@location.command("add")
@click.argument("code")
@click.option("--kind", required=True, type=click.Choice(["room", "zone", "rack", "cabinet", "shelf", "box"]))
@click.option("--parent", metavar="CODE", help="The location it sits in (a box's parent is a shelf).")
@click.option("--name", default="", help="A name people use, e.g. 一号库房.")
@pass_ctx
def location_add(ctx: Context, code, kind, parent, name) -> None:
    """Add a room, zone, rack, cabinet, shelf or box, with the code printed on its label."""
    from dangan.archive.paper.locations import LocationError, add_location

    try:
        with ctx.db.session() as s:
            add_location(s, code, kind, parent=parent, name=name, actor=ctx.actor)
    except LocationError as e:
        _fail(e)
    console.print(f"added {kind} [bold]{code}[/]" + (f" in {parent}" if parent else ""))


@location.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def location_list(ctx: Context, as_json) -> None:
    """The location tree down to folders, with each folder's paper state."""
    from dangan.archive.paper.locations import location_tree

    with ctx.db.session() as s:
        tree = location_tree(s)
    if as_json:
        return emit_json(tree)
    root = Tree("[bold]archive rooms[/]")

    def add(node, branch):
        if node["kind"] == "folder":
            style = "green" if node["state"] == "in_place" else "red"
            label = f"{node['code']}  [{style}]{node['state']}[/]"
            extra = [r for r in node["records"] if r != node["code"]]
            if extra:
                label += "  + " + ", ".join(extra)
        else:
            label = f"[bold]{node['code']}[/] {node['kind']}" + (f" {node['name']}" if node["name"] else "")
        sub = branch.add(label)
        for child in node["children"]:
            add(child, sub)

    for node in tree:
        add(node, root)
    console.print(root)


@location.command("where")
@click.argument("number_")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def location_where(ctx: Context, number_, as_json) -> None:
    """Where a record's paper is: folder, box, shelf path and state."""
    from dangan.archive.paper.locations import LocationError, where_is

    try:
        with ctx.db.session() as s:
            w = where_is(s, number_)
    except LocationError as e:
        _fail(e)
    if as_json:
        return emit_json(w)
    if w["folder"] is None:
        console.print(
            f"{w['number']}: " + ("born digital, no paper" if w["born_digital"] else "[yellow]not shelved yet[/]")
        )
    else:
        console.print(f"{w['number']}: folder {w['folder']} ({w['state']}) at {' / '.join(w['path']) or 'no box'}")


@main.command()
@click.argument("item")
@click.argument("target")
@pass_ctx
def shelve(ctx: Context, item, target) -> None:
    """Put a folder (its code or its record's archive number) in a box, or a box on a shelf.

    \b
    dangan shelve GD01-KH·2024-0000017 B001     folder into box (created on first shelving)
    dangan shelve B001 K01-C-01-1               box onto shelf"""
    from dangan.archive.models import Box
    from dangan.archive.paper.locations import LocationError, box_path, location_path
    from dangan.archive.paper.locations import shelve as do_shelve

    try:
        with ctx.db.session() as s:
            moved = do_shelve(s, item, target, actor=ctx.actor)
            path = box_path(moved) if isinstance(moved, Box) else location_path(s, moved)
    except LocationError as e:
        _fail(e)
    console.print(f"[green]shelved[/] {moved.code} → {' / '.join(path)}")


@main.command("born-digital")
@click.argument("number_")
@click.option("--reason", required=True)
@pass_ctx
def born_digital(ctx: Context, number_, reason) -> None:
    """Mark a record as having no paper at all (so no folder is expected)."""
    from dangan.archive.paper.locations import LocationError, mark_born_digital

    try:
        with ctx.db.session() as s:
            r = mark_born_digital(s, number_, actor=ctx.actor, reason=reason)
    except LocationError as e:
        _fail(e)
    console.print(f"{r.number}: born digital")


# --------------------------------------------------------------------------- labels


@main.command()
@click.argument("kind", type=click.Choice(["folder", "box", "cover"]))
@click.argument("codes", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PDF file to write.")
@pass_ctx
def labels(ctx: Context, kind, codes, output) -> None:
    """Print PDF labels (one per page, label-printer sized): a QR with the code only, the
    code in large type. Folder codes may be archive numbers.

    `labels cover CODE…` prints A4 scan cover sheets, one per CODE: a work-order number (16
    digits), a 户号 (10 digits) or the archive number of a record the pages supplement. Put one
    in front of each customer folder and scan the stack as one file: `dangan scan` starts a new
    record at each cover and links it to what the cover names. The QR holds only the code."""
    from dangan.archive.paper.labels import LabelError, write_covers, write_labels

    try:
        with ctx.db.session() as s:
            if kind == "cover":
                printed = write_covers(s, codes, output, business_names=_business_names())
            else:
                printed = write_labels(s, kind, codes, output, business_names=_business_names())
    except LabelError as e:
        _fail(e)
    what = "cover sheet" if kind == "cover" else f"{kind} label"
    console.print(f"wrote {len(printed)} {what}{'s' if len(printed) != 1 else ''} to {output}")


# --------------------------------------------------------------------------- stock-take


@main.command()
@click.argument("box")
@click.option(
    "--codes",
    "codes_file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="Codes read by the hand scanner, one per line ('-' for stdin).",
)
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False), help="Also write the result as CSV.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def stocktake(ctx: Context, box, codes_file, csv_out, as_json) -> None:
    """盘点 one box: in place, misplaced (and where it belongs), unexpected, missing, on loan.
    Exit status 1 when anything is not in place."""
    from dangan.archive.paper.locations import LocationError
    from dangan.archive.paper.stocktake import stocktake as do_stocktake

    try:
        with ctx.db.session() as s:
            report = do_stocktake(s, box, codes_file, actor=ctx.actor)
    except LocationError as e:
        _fail(e)
    rows = report.rows()
    if csv_out:
        with open(csv_out, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["code", "status", "note"])
            w.writeheader()
            w.writerows(rows)
    if as_json:
        emit_json(report.as_dict())
    else:
        table = Table(title=f"stock-take of box {report.box} ({' / '.join(report.path)}), event #{report.event_seq}")
        for col in ("code", "status", "note"):
            table.add_column(col)
        colour = {"in place": "green", "on loan": "cyan"}
        for r in rows:
            table.add_row(r["code"], f"[{colour.get(r['status'], 'red')}]{r['status']}[/]", r["note"])
        console.print(table)
        console.print(
            f"{len(report.in_place)} in place, {len(report.misplaced)} misplaced, "
            f"{len(report.unexpected)} unexpected, {len(report.missing)} missing, "
            f"{len(report.on_loan)} on loan"
        )
    if report.misplaced or report.unexpected or report.missing:
        sys.exit(1)


# --------------------------------------------------------------------------- handover


@main.command()
@click.argument("numbers", nargs=-1, required=True)
@click.option("--from", "from_dept", required=True, metavar="DEPT", help="Department handing over, e.g. 营业厅.")
@click.option("--to", "to_dept", default="档案室", show_default=True, metavar="DEPT")
@click.option("--offered-by", metavar="NAME", help="Who hands over [default: the acting user].")
@click.option("--override", is_flag=True, help="Accept despite problems (needs --reason; recorded as an event).")
@click.option("--reason", default=None, help="Why an override is justified.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def handover(ctx: Context, numbers, from_dept, to_dept, offered_by, override, reason, as_json) -> None:
    """交接: hand records over to the archive room. Each record's business case is checked
    against the completeness rules; any missing mandatory document or invalid billing field
    refuses the whole handover, listing every problem. Exit status 1 when refused."""
    from dangan.archive.paper.handover import HandoverError, handover_view, offer_handover

    if override and not (reason or "").strip():
        raise click.UsageError("--override needs --reason")
    try:
        with ctx.db.session() as s:
            h = offer_handover(
                s,
                numbers,
                from_dept=from_dept,
                to_dept=to_dept,
                actor=ctx.actor,
                scheme=_scheme(),
                offered_by=offered_by,
                override_reason=reason if override else None,
            )
            view = handover_view(h)
    except HandoverError as e:
        _fail(e)
    if as_json:
        emit_json(view)
    else:
        colour = "green" if view["status"] == "accepted" else "red"
        console.print(
            f"handover #{view['id']} {view['from']} → {view['to']}: [{colour}]{view['status']}[/]"
            + (f" (override: {view['override_reason']})" if view["override_reason"] else "")
        )
        for item in view["items"]:
            mark = "[green]ok[/]" if item["ok"] else "[red]✗[/]"
            console.print(f"  {mark} {item['number']}")
            for p in item["problems"]:
                console.print(f"      {p}")
        if view["status"] == "accepted":
            console.print(f"  handed over by {view['offered_by']}, received by {view['received_by']}")
    if view["status"] != "accepted":
        sys.exit(1)


@main.group()
def case() -> None:
    """Business cases (业务工单): billing-critical fields, facts, closing."""


@case.command("set")
@click.argument("work_order")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help="A billing-critical field.")
@click.option("--fact", "facts", multiple=True, metavar="NAME=VALUE", help="A case fact, e.g. bills_settled=true.")
@click.option("--reason", required=True)
@pass_ctx
def case_set(ctx: Context, work_order, fields, facts, reason) -> None:
    """Record billing-critical fields or facts of a case (checked at handover)."""
    from dangan.archive.records.lifecycle import LifecycleError, update_case

    try:
        with ctx.db.session() as s:
            c = update_case(
                s,
                work_order,
                actor=ctx.actor,
                reason=reason,
                billing_fields=_pairs(fields, "NAME=VALUE"),
                facts=_pairs(facts, "NAME=VALUE"),
            )
            console.print(f"case {c.work_order}: fields {c.billing_fields}, facts {c.facts}")
    except LifecycleError as e:
        _fail(e)


@case.command("close")
@click.argument("work_order")
@click.option("--on", "closed_on", type=click.DateTime(["%Y-%m-%d"]), default=str(date.today()), show_default=True)
@pass_ctx
def case_close(ctx: Context, work_order, closed_on) -> None:
    """Close a case: retention periods with trigger case_closed start from this date."""
    from dangan.archive.records.lifecycle import LifecycleError, close_case

    try:
        with ctx.db.session() as s:
            close_case(s, work_order, closed_on.date(), actor=ctx.actor)
    except LifecycleError as e:
        _fail(e)
    console.print(f"case {work_order} closed on {closed_on.date()}")


# --------------------------------------------------------------------------- loans


@main.group()
def loan() -> None:
    """借阅 of paper folders (electronic viewing is logged by `dangan show`)."""


@loan.command("lend")
@click.argument("folder")
@click.option("--to", "borrower", required=True, metavar="NAME")
@click.option("--dept", default="")
@click.option("--purpose", default="")
@click.option("--approver", default="")
@click.option("--due", type=click.DateTime(["%Y-%m-%d"]), help="Due date [default: in 14 days].")
@pass_ctx
def loan_lend(ctx: Context, folder, borrower, dept, purpose, approver, due) -> None:
    """Lend a folder (code or archive number) to a person."""
    from dangan.archive.paper.loans import LoanError, lend

    try:
        with ctx.db.session() as s:
            ln = lend(
                s,
                folder,
                borrower=borrower,
                actor=ctx.actor,
                department=dept,
                purpose=purpose,
                approver=approver,
                due_on=due.date() if due else None,
            )
            console.print(f"loan #{ln.id}: {ln.folder.code} to {borrower}, due {ln.due_on}, {ln.pages_out} pages")
    except LoanError as e:
        _fail(e)


@loan.command("return")
@click.argument("folder")
@click.option("--pages", type=click.IntRange(0), required=True, help="Pages counted on return.")
@click.option("--note", default="")
@pass_ctx
def loan_return(ctx: Context, folder, pages, note) -> None:
    """Take a folder back; the page count is checked against the scanned pages."""
    from dangan.archive.paper.loans import LoanError, return_loan

    try:
        with ctx.db.session() as s:
            ln = return_loan(s, folder, pages_counted=pages, actor=ctx.actor, note=note)
            ok = ln.pages_back == ln.pages_out
            console.print(
                f"loan #{ln.id} returned: {pages} pages "
                + ("[green]match the scan[/]" if ok else f"[red]≠ {ln.pages_out} scanned — recorded[/]")
            )
    except LoanError as e:
        _fail(e)


@loan.command("list")
@click.option("--overdue", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def loan_list(ctx: Context, overdue, as_json) -> None:
    """Open loans (or only the overdue ones)."""
    from dangan.archive.paper.loans import loan_view, open_loans, overdue_loans

    with ctx.db.session() as s:
        rows = [loan_view(x) for x in (overdue_loans(s) if overdue else open_loans(s))]
    if as_json:
        return emit_json(rows)
    table = Table(title="overdue loans" if overdue else "open loans")
    for col in ("#", "folder", "borrower", "dept", "due", "overdue days"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["folder"],
            r["borrower"],
            r["department"],
            str(r["due_on"]),
            f"[red]{r['overdue_days']}[/]" if r["overdue_days"] else "",
        )
    console.print(table)


# --------------------------------------------------------------------------- lifecycle


@main.command()
@click.argument("number_")
@click.option("--business", metavar="TYPE", help="Business type code or name, e.g. GM or 更名.")
@click.option("--voltage", type=click.Choice(["LV", "HV"]))
@click.option("--customer-class", type=click.Choice(["residential", "non_residential"]))
@click.option("--retention", metavar="CODE", help="Retention code, e.g. D30 (appraisal).")
@click.option("--doc", "docs", multiple=True, metavar="ITEM=TYPE", help="Change document 件 ITEM to TYPE.")
@click.option("--reason", required=True)
@pass_ctx
def reclassify(ctx: Context, number_, business, voltage, customer_class, retention, docs, reason) -> None:
    """Change a record's classification or document types. The number, files and labels stay;
    every earlier value stays readable (`dangan history NUMBER`)."""
    from dangan.archive.records.lifecycle import LifecycleError
    from dangan.archive.records.lifecycle import reclassify as do_reclassify

    try:
        doc_types = {int(k): v for k, v in _pairs(docs, "ITEM=TYPE").items()}
    except ValueError:
        raise click.BadParameter("--doc ITEM must be the document's 件 number, e.g. --doc 3=SM")
    try:
        with ctx.db.session() as s:
            r = do_reclassify(
                s,
                number_,
                business_type=business,
                voltage_class=voltage,
                customer_class=customer_class,
                retention=retention,
                doc_types=doc_types,
                reason=reason,
                actor=ctx.actor,
                scheme=_scheme(),
            )
            c = r.classification
            console.print(
                f"{r.number}: now {c.business_type} {c.voltage_class} {c.customer_class} {c.retention}".rstrip()
                + " (number, files and labels unchanged)"
            )
    except LifecycleError as e:
        _fail(e)


@main.command()
@click.argument("number_")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def history(ctx: Context, number_, as_json) -> None:
    """Every classification a record has had, and every document type change."""
    from dangan.archive.records.lifecycle import LifecycleError, classification_history

    try:
        with ctx.db.session() as s:
            rows = classification_history(s, number_)
    except LifecycleError as e:
        _fail(e)
    if as_json:
        return emit_json(rows)
    table = Table(title=f"history of {number_}")
    for col in ("what", "value", "from", "to", "reason", "by"):
        table.add_column(col)
    for r in rows:
        if r["what"] == "classification":
            value = " ".join(
                x for x in (r["business_type"], r["voltage_class"], r["customer_class"], r["retention"]) if x
            )
            table.add_row(
                "classification",
                value,
                str(r["valid_from"])[:19],
                str(r["valid_to"] or "")[:19],
                r["reason"],
                r["actor"],
            )
        else:
            table.add_row(
                f"件 {r['item_no']} type", f"{r['from']} → {r['to']}", str(r["at"])[:19], "", r["reason"], r["actor"]
            )
    console.print(table)


@number.command("void")
@click.argument("number_")
@click.option("--reason", required=True)
@pass_ctx
def number_void(ctx: Context, number_, reason) -> None:
    """Void a number (never reused); the record stays with status 'void' and the reason."""
    from dangan.archive.records.lifecycle import LifecycleError, void_number

    try:
        with ctx.db.session() as s:
            r = void_number(s, number_, reason=reason, actor=ctx.actor)
    except LifecycleError as e:
        _fail(e)
    console.print(f"{r.number} voided: {reason}")


@main.group()
def account() -> None:
    """Customer account numbers (户号)."""


@account.command("change")
@click.argument("old")
@click.argument("new")
@click.option("--reason", required=True)
@pass_ctx
def account_change(ctx: Context, old, new, reason) -> None:
    """户号 change, or 并户 when NEW already exists: records stay findable by both numbers."""
    from dangan.archive.records.lifecycle import LifecycleError, change_account_number

    try:
        with ctx.db.session() as s:
            c = change_account_number(s, old, new, reason, ctx.actor)
            console.print(
                f"customer now {c.account_number}; findable by "
                + ", ".join(sorted(a.account_number for a in c.aliases))
            )
    except LifecycleError as e:
        _fail(e)


@main.group()
def retention() -> None:
    """Retention (保管期限) and disposal."""


@retention.command("due")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Date to evaluate at [default: today].")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def retention_due_cmd(ctx: Context, as_of, as_json) -> None:
    """Records whose retention period has run out: to appraise, then dispose or extend."""
    from dangan.archive.records.lifecycle import retention_due

    with ctx.db.session() as s:
        rows = [x.as_dict() for x in retention_due(s, _scheme(), as_of.date() if as_of else None)]
    if as_json:
        return emit_json(rows)
    table = Table(title=f"retention due ({len(rows)})")
    for col in ("number", "business", "retention", "trigger", "since", "due on"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["number"], r["business_type"], r["retention"], r["trigger"], str(r["trigger_date"]), str(r["due_on"])
        )
    console.print(table)


@retention.command("dispose")
@click.argument("number_")
@click.option("--reason", required=True)
@click.option("--approved-by", required=True, help="Who approved the appraisal (鉴定).")
@pass_ctx
def retention_dispose(ctx: Context, number_, reason, approved_by) -> None:
    """Dispose of a record whose retention ran out; a tombstone keeps its metadata."""
    from dangan.archive.records.lifecycle import LifecycleError, dispose

    try:
        with ctx.db.session() as s:
            r = dispose(s, number_, reason=reason, approved_by=approved_by, actor=ctx.actor, scheme=_scheme())
    except LifecycleError as e:
        _fail(e)
    console.print(f"{r.number} disposed (tombstone kept)")


# --- auditors: reports, fixity, 四性, export --------------------------------


def _day(value):
    return value.date() if value is not None else None


def _report_options(f):
    f = click.option(
        "--html",
        "html_out",
        type=click.Path(dir_okay=False),
        help="Also write a self-contained HTML report (charts inline, prints on A4).",
    )(f)
    f = click.option("--csv", "csv_out", type=click.Path(dir_okay=False), help="Also write the report as CSV.")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")(f)
    return f


def _emit(report, as_json: bool, csv_out: str | None, html_out: str | None) -> None:
    """Print REPORT (table or JSON), write the CSV/HTML files, exit 1 on problems."""
    if csv_out:
        Path(csv_out).write_text(report.to_csv(), encoding="utf-8-sig")  # BOM: spreadsheets read UTF-8
    if html_out:
        from dangan.archive.audit.report_html import render_html

        Path(html_out).write_text(render_html([report], title=report.title), encoding="utf-8")
    if as_json:
        emit_json(report.as_dict())
    else:
        a = report.about
        console.print(f"[bold]{report.title}[/]")
        console.print(
            f"as of {a['as_of']}, by {a['actor']}, database {a['database']}, scheme version "
            f"{a['scheme_version']}; " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in a["counts"].items())
        )
        if a.get("filters"):
            console.print("filters: " + ", ".join(f"{k}={v}" for k, v in a["filters"].items()))
        for s in report.sections:
            if not s.rows:
                console.print(f"{s.name}: [green]none[/]")
                continue
            table = Table(title=f"{s.name} ({len(s.rows)})", title_justify="left")
            for c in s.columns:
                table.add_column(c.replace("_", " "), overflow="fold")
            for row in s.rows:
                table.add_row(*[_text(c, row.get(c)) for c in s.columns])
            console.print(table)
        for n in report.notes:
            console.print(f"[dim]{n}[/]")
        console.print("[green]no problems[/]" if report.ok else f"[red]{report.problems} problems[/]")
        for path in (csv_out, html_out):
            if path:
                console.print(f"written: {path}")
    if not report.ok:
        sys.exit(1)


def _text(column, value) -> str:
    from dangan.archive.audit.reports import _cell

    if column == "ok":
        return "[green]yes[/]" if value else "[red]no[/]"
    if isinstance(value, (list, tuple)):
        return "\n".join(_cell(v) for v in value)
    return _cell(value).replace("[", r"\[")


@main.group()
def report() -> None:
    """Auditor reports: completeness, overdue, digitisation, reconciliation, numbering.

    Each states when, by whom, on which data and under which scheme version it was made;
    --csv and --html write copies to file. Exit status 1 when the report finds problems."""


@report.command("completeness")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Cases accepted on or after.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Cases accepted on or before.")
@click.option("--business", metavar="TYPE", help="Business type code or name, e.g. JR or 减容.")
@click.option("--dept", metavar="DEPT", help="Department of the case.")
@click.option("--customer", metavar="ACCOUNT", help="Customer account number (户号).")
@_report_options
@pass_ctx
def report_completeness(ctx: Context, date_from, date_to, business, dept, customer, as_json, csv_out, html_out):
    """Every business case against the scheme: documents missing (mandatory, and conditional
    ones whose condition holds), invalid billing-critical fields, unmet preconditions;
    summaries by business type, department, month and fonds."""
    from dangan.archive.audit.reports import completeness_report

    scheme = _scheme()
    try:
        with ctx.db.session() as s:
            r = completeness_report(
                s,
                scheme,
                db_url=ctx.home.db_url,
                actor=ctx.actor,
                date_from=_day(date_from),
                date_to=_day(date_to),
                business_type=business,
                department=dept,
                customer=customer,
            )
    except KeyError as e:
        raise click.BadParameter(str(e.args[0]), param_hint="--business")
    _emit(r, as_json, csv_out, html_out)


@report.command("overdue")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Date to judge at [default: today].")
@click.option(
    "--holiday",
    "holidays",
    multiple=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="A public holiday (not a working day); repeat for each.",
)
@click.option(
    "--workday",
    "workdays",
    multiple=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="A weekend day that is worked (调休); repeat for each.",
)
@click.option("--business", metavar="TYPE")
@click.option("--dept", metavar="DEPT")
@click.option("--customer", metavar="ACCOUNT")
@_report_options
@pass_ctx
def report_overdue(ctx: Context, as_of, holidays, workdays, business, dept, customer, as_json, csv_out, html_out):
    """Cases whose stage is done but whose documents for it have not arrived within the
    scheme's due working days."""
    from dangan.archive.audit.reports import overdue_report

    with ctx.db.session() as s:
        r = overdue_report(
            s,
            _scheme(),
            db_url=ctx.home.db_url,
            actor=ctx.actor,
            today=_day(as_of),
            holidays=[d.date() for d in holidays],
            extra_workdays=[d.date() for d in workdays],
            business_type=business,
            department=dept,
            customer=customer,
        )
    _emit(r, as_json, csv_out, html_out)


@report.command("digitisation")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Date to project from [default: today].")
@click.option(
    "--window", type=click.IntRange(1), default=30, show_default=True, help="Days of recent scanning that set the pace."
)
@_report_options
@pass_ctx
def report_digitisation(ctx: Context, as_of, window, as_json, csv_out, html_out):
    """Paper folders scanned, not scanned, QA-failed and verified; pages per day; backlog
    and projected finish."""
    from dangan.archive.audit.reports import digitisation_report

    with ctx.db.session() as s:
        r = digitisation_report(
            s, db_url=ctx.home.db_url, actor=ctx.actor, today=_day(as_of), window_days=window, scheme=_scheme()
        )
    _emit(r, as_json, csv_out, html_out)


@report.command("reconciliation")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Date to judge loans at [default: today].")
@_report_options
@pass_ctx
def report_reconciliation(ctx: Context, as_of, as_json, csv_out, html_out):
    """Paper without scan, scan without paper, page counts that differ, records without a
    location, folders on overdue loan."""
    from dangan.archive.audit.reports import reconciliation_report

    with ctx.db.session() as s:
        r = reconciliation_report(s, db_url=ctx.home.db_url, actor=ctx.actor, today=_day(as_of), scheme=_scheme())
    _emit(r, as_json, csv_out, html_out)


@report.command("numbering")
@_report_options
@pass_ctx
def report_numbering(ctx: Context, as_json, csv_out, html_out):
    """Gaps in the serials (not voided), voids with reasons, duplicates, numbers whose check
    character fails."""
    from dangan.archive.audit.reports import numbering_report

    with ctx.db.session() as s:
        r = numbering_report(s, db_url=ctx.home.db_url, actor=ctx.actor, scheme=_scheme())
    _emit(r, as_json, csv_out, html_out)


@report.command("all")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--html", "html_out", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@pass_ctx
def report_all(ctx: Context, as_of, html_out):
    """Every report in one HTML file (one per printed page group), for sign-off."""
    from dangan.archive.audit.report_html import render_html
    from dangan.archive.audit.reports import (
        completeness_report,
        digitisation_report,
        numbering_report,
        overdue_report,
        reconciliation_report,
    )

    scheme, today, kw = _scheme(), _day(as_of), {"db_url": ctx.home.db_url, "actor": ctx.actor}
    with ctx.db.session() as s:
        reports = [
            completeness_report(s, scheme, **kw),
            overdue_report(s, scheme, today=today, **kw),
            digitisation_report(s, today=today, scheme=scheme, **kw),
            reconciliation_report(s, today=today, scheme=scheme, **kw),
            numbering_report(s, scheme=scheme, **kw),
        ]
    Path(html_out).write_text(render_html(reports), encoding="utf-8")
    for r in reports:
        console.print(f"{r.kind}: " + ("[green]ok[/]" if r.ok else f"[red]{r.problems} problems[/]"))
    console.print(f"written: {html_out}")
    if not all(r.ok for r in reports):
        sys.exit(1)


@main.command("verify")
@click.option("--full", is_flag=True, help="Recompute the SHA-256 of every file (slow); default: sizes and counts.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def verify_cmd(ctx: Context, full, as_json):
    """Fixity: every master, derived and source file present (with its size, or with --full
    its SHA-256), no unexpected files in the store, the event chain intact. The result is
    stored as a 'fixity check' event. Exit status 1 when anything is wrong."""
    from dangan.archive.audit.fixity import verify

    with ctx.db.session() as s, page_progress("Verifying") as bar:
        task = bar.add_task("verify", total=None)
        r = verify(
            s, ctx.store, full=full, actor=ctx.actor, progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
    if as_json:
        emit_json(r.as_dict())
    else:
        for m in r.missing:
            console.print(f"[red]missing[/]  {m['path']} ({m['kind']} of {m['of']})")
        for a in r.altered:
            console.print(f"[red]altered[/]  {a['path']} ({a['kind']} of {a['of']}): {a['problem']}")
        for u in r.unexpected:
            console.print(f"[yellow]unexpected[/] {u} (in the store, no record refers to it)")
        for c in r.chain_problems:
            console.print(f"[red]event #{c['seq']}[/]: {c['problem']}")
        console.print(
            f"{r.mode} check: {r.files_checked} files"
            + (f", {r.bytes_checked / 1e6:.1f} MB hashed" if full else " (sizes only; --full hashes)")
            + f", {r.events_checked} events: "
            + ("[green]ok[/]" if r.ok else f"[red]{r.problems} problems[/]")
        )
    if not r.ok:
        sys.exit(1)


@main.command("check-four")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def check_four(ctx: Context, as_json):
    """四性检测 (DA/T 70-2018): authenticity 真实性, integrity 完整性, usability 可用性, security
    安全性 in one pass: full fixity, event chain, metadata ranges, numbering, formats that open
    and decode, no encrypted or unknown files. Stored as a 'fixity check' event."""
    from dangan.archive.audit.fixity import check_four_properties

    with ctx.db.session() as s, page_progress("Checking") as bar:
        task = bar.add_task("check", total=None)
        r = check_four_properties(
            s, ctx.store, actor=ctx.actor, progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
    if as_json:
        emit_json(r.as_dict())
    else:
        for p in r.properties:
            mark = "[green]pass[/]" if p.ok else "[red]FAIL[/]"
            console.print(f"{mark}  {p.chinese} {p.name}: {p.checked} checked, {len(p.failures)} failed")
            for f in p.failures[:50]:
                console.print(f"        {f['check']}: {f['what']}: {f['problem']}")
            if len(p.failures) > 50:
                console.print(f"        … and {len(p.failures) - 50} more (use --json)")
            for n in p.notes:
                console.print(f"        [dim]{n}[/]")
    if not r.ok:
        sys.exit(1)


@main.command("export")
@click.argument("numbers", nargs=-1)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="New directory for the bag.")
@pass_ctx
def export_cmd(ctx: Context, numbers, output):
    """Write a BagIt bag (RFC 8493) of the records NUMBERS, or of the whole archive: masters,
    derived images, sources, OCR text, one metadata JSON per record
    (schemas/record-metadata.schema.json) and the event log. Only a whole-archive bag can
    be imported again (dangan import-bag)."""
    from dangan.archive.audit.bag import BagError, export_bag

    try:
        with ctx.db.session() as s:
            r = export_bag(s, ctx.store, output, numbers=numbers, actor=ctx.actor, organisation=_scheme().fonds.name)
    except BagError as e:
        raise click.ClickException(str(e))
    console.print(
        f"bag written to {r.path} ({r.scope}): {r.records} records, {r.pages} pages, {r.files} files "
        f"({r.bytes / 1e6:.1f} MB), {r.events} events"
    )


@main.command("import-bag")
@click.argument("bag", type=click.Path(exists=True, file_okay=False))
@pass_ctx
def import_bag_cmd(ctx: Context, bag):
    """Restore a whole-archive bag into an EMPTY data home (--home), then rebuild the search
    index. The bag is fully validated first; a non-empty home is refused."""
    from dangan.archive.audit.bag import BagError, import_bag
    from dangan.indexing import feed

    try:
        r = import_bag(bag, ctx.home)
    except BagError as e:
        raise click.ClickException(str(e))
    backend = ctx.backend()
    n = feed.rebuild(ctx.db, backend, resume=False)
    backend.close()
    console.print(
        f"imported into {ctx.home.root}: {r.records} records, {r.pages} pages, {r.events} events, "
        f"{r.files} files; {n} pages indexed. Check it with `dangan verify --full`."
    )


# --- the business system: imports and collection ----------------------------


def _today(value) -> date:
    return value.date() if value else date.today()


@main.group("import")
def import_() -> None:
    """Import customers and business cases from the business system's exports (SG186 …).

    \b
    CSV (UTF-8 or GBK/GB18030, detected) or .xlsx. Columns are mapped by
    schemas/import-mapping.yaml (flavour sg186 by default; --mapping NAME or a file of
    your own). Bad rows are listed with line and reason; good rows are imported.
    Importing the same file again changes nothing."""


def _import_options(f):
    f = click.option(
        "--mapping",
        metavar="NAME|FILE[#FLAVOUR]",
        default=None,
        help="Column mapping: a flavour of schemas/import-mapping.yaml or a YAML file [default: sg186].",
    )(f)
    f = click.option("--encoding", default=None, help="CSV encoding, if detection gets it wrong (utf-8, gb18030).")(f)
    f = click.option("--sheet", default=None, help="Worksheet of an .xlsx [default: the active one].")(f)
    f = click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help="Write every bad row (file, line, column, value, reason) to this CSV.",
    )(f)
    f = click.option(
        "--show", type=click.IntRange(0), default=20, show_default=True, help="How many problems to print."
    )(f)
    f = click.option(
        "--batch-size", type=click.IntRange(1), default=2000, show_default=True, help="Rows per transaction."
    )(f)
    f = click.option(
        "--today",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="Treat this as today when refusing future dates (for replaying old exports).",
    )(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")(f)
    return f


def _run_import(
    ctx: Context, kind: str, file: str, mapping, encoding, sheet, report_path, show, batch_size, today, as_json
) -> None:
    from dangan.archive.business.imports import (
        ImportFileError,
        ImportOptions,
        MappingError,
        import_cases,
        import_customers,
    )

    sink, fh = None, None
    if report_path:
        fh = open(report_path, "w", encoding="utf-8-sig", newline="")
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "column", "value", "severity", "reason"])
        sink = lambda p: writer.writerow([p.file, p.line, p.column, p.value, p.severity, p.reason])
    run = import_customers if kind == "customers" else import_cases
    try:
        with page_progress(f"Importing {kind}") as bar:
            task = bar.add_task(kind, total=None)
            options = ImportOptions(
                mapping=mapping,
                encoding=encoding,
                sheet=sheet,
                batch_size=batch_size,
                today=_today(today),
                actor=ctx.actor,
                on_problem=sink,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
            report = run(ctx.db, file, _scheme(), options)
    except (ImportFileError, MappingError) as e:
        raise click.ClickException(str(e))
    finally:
        if fh:
            fh.close()
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_report(report, show, report_path)
    if report.rejected:
        sys.exit(3)


def _print_report(report, show: int, report_path) -> None:
    console.print(
        f"[bold]{report.kind}[/] from {report.file} (mapping {report.mapping}, "
        f"{report.encoding or 'xlsx'}): {report.rows} rows in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s), run {report.run_id}"
    )
    table = Table(show_header=False)
    for key, style in (
        ("inserted", "green"),
        ("updated", "cyan"),
        ("unchanged", "dim"),
        ("rejected", "red"),
        ("warnings", "yellow"),
        ("successions", "cyan"),
        ("customers_created", "green"),
        ("links_proposed", "cyan"),
    ):
        value = getattr(report, key)
        if value or key in ("inserted", "updated", "unchanged", "rejected"):
            table.add_row(key.replace("_", " "), Text(str(value), style=style if value else ""))
    console.print(table)
    for p in report.problems[:show]:
        colour = "red" if p.severity == "error" else "yellow"
        console.print(
            Text(f"{p.file}:{p.line}", style="bold"), Text(f" [{p.column}] ", style="dim"), Text(p.reason, style=colour)
        )
    hidden = report.rejected + report.warnings - min(show, len(report.problems))
    if hidden > 0:
        where = f"all of them are in {report_path}" if report_path else "use --report FILE.csv for all of them"
        console.print(f"… and {hidden} more problems; {where}")
    if report.unused_columns:
        console.print(Text(f"columns not used: {', '.join(report.unused_columns)}", style="dim"))


@import_.command("customers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_import_options
@pass_ctx
def import_customers_cmd(ctx: Context, file, **kw) -> None:
    """Customers (户号, 户名, 用电地址, 电压等级, 用电类别, 原户号) from FILE."""
    _run_import(ctx, "customers", file, **kw)


@import_.command("cases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@_import_options
@pass_ctx
def import_cases_cmd(ctx: Context, file, **kw) -> None:
    """Business cases (工单编号, 户号, 业务类型, 受理部门, stage dates, billing fields) from FILE.

    Scanned records without a readable work order are linked to a case when their 户号 has
    exactly one open case of the business type read from the pages (a proposal: confirm
    with `dangan case link`)."""
    _run_import(ctx, "cases", file, **kw)


@main.command()
@click.option("--department", default=None, help="Only this department (受理部门).")
@click.option("--overdue", "overdue_only", is_flag=True, help="Only cases with overdue documents.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Count due days from this date.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@pass_ctx
def collect(ctx: Context, department, overdue_only, today, as_json) -> None:
    """What to collect (按期收集): per department, cases whose documents are due or overdue.

    A stage's documents are due the scheme's due_working_days after the stage's date (from
    the imported export); overdue after that. Exits with status 1 when anything is overdue."""
    from dangan.archive.business.collection import collection_list

    with ctx.db.session() as s:
        departments = collection_list(
            s, _scheme(), today=_today(today), department=department, overdue_only=overdue_only
        )
    if as_json:
        emit_json([{"department": d.department, "cases": [c.as_dict() for c in d.cases]} for d in departments])
    else:
        if not departments:
            console.print("Nothing due: every case's documents are in, or not yet due.")
        for d in departments:
            table = Table(
                title=f"{d.department}: {len(d.cases)} cases, {d.overdue_cases} overdue", title_justify="left"
            )
            for col in ("work order", "户号", "customer", "business", "stage", "due by", "documents owed"):
                table.add_column(col, overflow="fold")
            for c in d.cases:
                for i, doc in enumerate(x for x in c.owed if x.state != "expected"):
                    style = "red" if doc.state == "overdue" else "yellow"
                    first = i == 0
                    table.add_row(
                        c.work_order if first else "",
                        c.account_number if first else "",
                        c.customer_name if first else "",
                        c.variant if first else "",
                        doc.stage,
                        Text(f"{doc.due_on} {doc.state}", style=style),
                        doc.label,
                    )
            console.print(table)
    if any(d.overdue_cases for d in departments):
        sys.exit(1)


@case.command("show")
@click.argument("work_order")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def case_show(ctx: Context, work_order, today, as_json) -> None:
    """A case's stages, when its documents are due, which have arrived and which are owed."""
    from dangan.archive.business.collection import CollectionError, case_documents

    try:
        with ctx.db.session() as s:
            docs = case_documents(s, _scheme(), work_order, today=_today(today))
    except CollectionError as e:
        raise click.ClickException(str(e))
    if as_json:
        return emit_json(docs.as_dict())
    console.print(Text(f"{docs.work_order}  {docs.variant}  {docs.department}  [{docs.status}]", style="bold"))
    console.print(f"customer {docs.account_number} {docs.customer_name}")
    for stage, day in docs.stage_dates.items():
        due = docs.due_dates.get(stage)
        console.print(f"  {stage:<6} {day}" + (f"   documents due by {due}" if due else ""))
    for a in docs.arrived:
        note = " (proposed link: confirm with `dangan case link`)" if a.proposed else ""
        console.print(Text(f"  ✓ {a.code} {a.name}  in {a.record}{note}", style="green"))
    for o in docs.owed:
        style = {"overdue": "red", "due": "yellow", "expected": "dim"}[o.state]
        when = f"{o.state}, due {o.due_on}" if o.due_on else "expected when the stage is reached"
        console.print(Text(f"  ✗ {o.label}  [{o.why}, stage {o.stage}: {when}]", style=style))
    console.print("complete" if docs.complete else f"{len(docs.owed)} documents owed")


@case.command("link")
@click.argument("number")
@click.argument("work_order")
@click.option("--reason", default="", help="Why (kept in the event log).")
@pass_ctx
def case_link(ctx: Context, number, work_order, reason) -> None:
    """Link scanned record NUMBER to case WORK_ORDER, or confirm a proposed link."""
    from dangan.archive.business.collection import CollectionError, link_record

    try:
        with ctx.db.session() as s:
            link_record(s, number, work_order, actor=ctx.actor, reason=reason)
    except CollectionError as e:
        raise click.ClickException(str(e))
    console.print(f"{number} linked to case {work_order}")


# --- web app and users -------------------------------------------------------


@main.command()
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
def serve(ctx: Context, host, port, secure_cookies, secret_key, scan_jobs) -> None:
    """Run the web app: search, records, page viewer with hit boxes, uploads, event log.

    Create users first: dangan user add NAME --role operator|staff|auditor|admin"""
    import uvicorn

    from dangan.archive.users import user_count
    from dangan.web import create_app

    with ctx.db.session() as s:
        if not user_count(s):
            raise click.ClickException("no users yet: create one with `dangan user add NAME --role admin`")
    app = create_app(
        ctx.home, secret_key=secret_key, secure_cookies=secure_cookies, backend=ctx.backend_name, scan_jobs=scan_jobs
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


@main.group()
def user() -> None:
    """People who log in to the web app, and their roles."""


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["operator", "staff", "auditor", "admin"]),
    required=True,
    help="operator: scans and ingests; staff: searches and reads (ID numbers masked); "
    "auditor: reads everything, changes nothing; admin: everything.",
)
@click.option("--can-see-ids", is_flag=True, help="Let a staff member see 公民身份号码 unmasked.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def user_add(ctx: Context, name, role, can_see_ids, password_stdin, as_json) -> None:
    """Create a user (asks for the password unless --password-stdin)."""
    from dangan.archive.users import UserError, add_user

    password = _read_password(password_stdin)
    try:
        with ctx.db.session() as s:
            u = add_user(s, name, password, role, can_see_ids=can_see_ids, actor=ctx.actor)
            result = {"name": u.name, "role": u.role, "can_see_ids": u.can_see_ids}
    except UserError as e:
        raise click.ClickException(str(e))
    if as_json:
        return emit_json(result)
    console.print(f"[green]added[/] {name} ({role}{', sees ID numbers' if can_see_ids else ''})")


@user.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(ctx: Context, name) -> None:
    """Stop a user logging in; ends their sessions at once. The user and their history stay."""
    from dangan.archive.users import UserError, disable_user

    try:
        with ctx.db.session() as s:
            disable_user(s, name, actor=ctx.actor)
    except UserError as e:
        raise click.ClickException(str(e))
    console.print(f"[yellow]disabled[/] {name}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@pass_ctx
def user_passwd(ctx: Context, name, password_stdin) -> None:
    """Set a new password; the user's open sessions end."""
    from dangan.archive.users import UserError, set_password

    password = _read_password(password_stdin)
    try:
        with ctx.db.session() as s:
            set_password(s, name, password, actor=ctx.actor)
    except UserError as e:
        raise click.ClickException(str(e))
    console.print(f"password changed for {name}")


if __name__ == "__main__":
    main()
