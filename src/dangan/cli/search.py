"""Finding files: search, and the index behind it (sync, rebuild, check)."""

from __future__ import annotations

import click
from rich.text import Text

from dangan.app import records
from dangan.app.index import check_index, rebuild_index, sync_index
from dangan.app.records import SEARCH_SORTS
from dangan.cli.base import console, err, finish, json_option, output, pass_ctx, problems_status, progress
from dangan.i18n import _, count, ngettext


@click.command()
@click.argument("query")
@click.option("--page", "page_no", type=click.IntRange(1), default=1, show_default=True, help="Result page.")
@click.option("--per-page", type=click.IntRange(1, 200), default=10, show_default=True, help="Records per result page.")
@click.option(
    "--sort",
    type=click.Choice(SEARCH_SORTS),
    default="relevance",
    show_default=True,
    help="relevance; date (newest first); account (户号) or business (type code), ascending.",
)
@click.option("--exact", is_flag=True, help="Only exact matches: skip the OCR-error-tolerant pass.")
@json_option
@pass_ctx
def search(ctx, query, page_no, per_page, sort, exact, as_json) -> None:
    """Find pages by words on them, 户号, name, address, work order or archive number.

    \b
    Examples:
      dangan search 减容                       a word anywhere on a page
      dangan search '"暂停用电申请"'            an exact phrase
      dangan search 户号:3401405288            an account number (户号:340140* for a prefix)
      dangan search '业务:暂停 日期:2024-01-01..2024-06-30'
    Full syntax: the README, section "Search syntax"."""
    data = records.search(ctx.archive, query, page=page_no, per_page=per_page, sort=sort, tolerant=not exact)
    output(data, as_json, print_results)


def print_results(r: dict) -> None:
    if not r["groups"]:
        console.print(Text(_("No pages match {query}.").format(query=r["query"])))
        return
    extra = (
        _(", and {pages} similar (one character read differently)").format(pages=count(r["tolerant_hits"], "page"))
        if r["tolerant_hits"]
        else ""
    )
    many = "" if r.get("total_exact", True) else _("more than") + " "  # a backend stopped counting
    console.print(
        Text(
            many
            + _("{pages} match {query}{extra}; {records}, result page {page} of {of}:").format(
                pages=count(r["total_hits"], "page"),
                query=r["query"],
                extra=extra,
                records=count(r["total_groups"], "record"),
                page=r["page"],
                of=r["pages"],
            )
        )
    )
    for g in r["groups"]:
        label = Text(" " + _("similar") + " ", style="black on yellow") if g["tolerant"] else Text("")
        console.print(Text(g["record_number"], style="bold cyan"), label, Text(f" {g['title']}", style="dim"))
        for h in g["hits"]:
            flat = h["snippet"].replace("\n", " ")
            snippet = Text(flat.replace("【", "").replace("】", ""))
            for start, end in _marks(flat):
                snippet.stylize("bold red", start, end)
            where = ngettext("{n} mark on the page", "{n} marks on the page", len(h["boxes"])).format(n=len(h["boxes"]))
            page_no = _("p.{n}").format(n=h["page_no"])
            console.print(Text(f"   {page_no:<5} ", style="bold"), snippet, Text(f"  [{where}]", style="dim"))


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


@click.group()
def index() -> None:
    """The search index: bring it up to date, rebuild it, check it against the database."""


@index.command("sync")
@pass_ctx
def index_sync(ctx) -> None:
    """Index pages waiting in the outbox (scan does this itself)."""
    with progress(_("Indexing")) as indexed:
        n = sync_index(ctx.archive, progress=indexed, on_wait=ctx.on_index_wait)
    console.print(_("{pages} indexed").format(pages=count(n, "page")))


@index.command("rebuild")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming an interrupted rebuild.")
@pass_ctx
def index_rebuild(ctx, fresh) -> None:
    """Re-index every page from the database, in chunks, with constant memory.
    Resumes where an interrupted rebuild stopped; searches meanwhile answer from the index
    in use. With --backend, builds that backend's index and switches the archive to it."""
    with progress(_("Rebuilding ({backend})").format(backend=ctx.archive.index_backend)) as rebuilt:
        done = rebuild_index(ctx.archive, fresh=fresh, progress=rebuilt, on_wait=ctx.on_index_wait)
    console.print(_("{pages} in the {backend} index").format(pages=count(done.pages, "page"), backend=done.backend))
    if done.switched_from:
        console.print(
            _(
                "the archive now uses the {new} index instead of {old}; restart the web server and "
                "any `dangan watch`, so they use it too"
            ).format(new=done.backend, old=done.switched_from)
        )


@index.command("check")
@json_option
@pass_ctx
def index_check(ctx, as_json) -> None:
    """Report pages missing from the index, stale in it, or in it but not in the database,
    and warn when the index has grown past the size its backend was measured to hold.
    Exit status 4 when they disagree."""
    with progress(_("Checking the index")) as read:
        checked = check_index(ctx.archive, progress=read)
    result = checked.result

    def show(_data) -> None:
        console.print(
            _("{pages} in the database; missing {missing}, stale {stale}, orphaned {orphaned}").format(
                pages=count(result.pages, "page"),
                missing=len(result.missing),
                stale=len(result.stale),
                orphaned=len(result.orphaned),
            )
            + ("" if result.ok else _(" — run `dangan index sync` or `dangan index rebuild`"))
        )
        if checked.warning:
            err.print(Text(_("warning:") + " " + checked.warning, style="yellow"))

    output(checked.as_dict(), as_json, show)
    finish(problems_status(result.ok))


COMMANDS = (search, index)
