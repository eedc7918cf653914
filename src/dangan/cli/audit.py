"""For auditors: the reports, fixity, 四性检测, and the BagIt export and import."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dangan.app import audit
from dangan.app.reports import Report, about_lines, as_html, display_cell, exported, make_all, make_report, status_line
from dangan.cli.base import (
    DATE,
    Context,
    console,
    day,
    finish,
    json_option,
    output,
    pass_ctx,
    problems_status,
    progress,
)
from dangan.i18n import LANGUAGES, _, count, ngettext, set_language


def report_options(f):
    f = click.option(
        "--html",
        "html_out",
        type=click.Path(dir_okay=False),
        help="Also write a self-contained HTML report (charts inline, prints on A4).",
    )(f)
    f = click.option("--csv", "csv_out", type=click.Path(dir_okay=False), help="Also write the report as CSV.")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")(f)
    return report_language_option(f)


def report_language_option(f):
    return click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        expose_value=False,
        callback=report_language,
        help="Language of the report [default: the archive's, DANGAN_LANGUAGE; Chinese].",
    )(f)


def report_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """A report speaks the archive's language unless --lang says otherwise."""
    set_language(value or ctx.find_object(Context).archive.language)


def emit_report(ctx, report: Report, as_json: bool, csv_out: str | None, html_out: str | None) -> None:
    """Print REPORT (table or JSON), write the CSV/HTML copies (each an export event), exit 4 on problems."""
    if csv_out:
        Path(csv_out).write_text(report.to_csv(), encoding="utf-8-sig")  # BOM: spreadsheets read UTF-8
        exported(ctx.archive, [report.kind], "csv")
    if html_out:
        Path(html_out).write_text(as_html([report], title=report.title), encoding="utf-8")
        exported(ctx.archive, [report.kind], "html")

    def show(_r) -> None:
        console.print(f"[bold]{escape(report.title)}[/]")
        for label, value in about_lines(report.about):
            console.print(Text(_("{label}: {value}").format(label=label, value=value)))
        for s in report.sections:
            if not s.rows:
                console.print(Text(_("{label}: {value}").format(label=s.title, value=_("none")), style="green"))
                continue
            if len(s.rows) == 1 and len(s.columns) > 6:  # one row of many columns (a summary): one line each
                table = Table(title=escape(s.title), title_justify="left", show_header=False)
                for heading, c in zip(s.headings, s.columns):
                    table.add_row(escape(heading), _cell(c, s.rows[0].get(c), s.rows[0]))
                console.print(table)
                continue
            titled = _("{title} ({n})").format(title=s.title, n=len(s.rows))
            table = Table(title=escape(titled), title_justify="left")
            for c, heading in zip(s.columns, s.headings):
                wrap = c not in NUMBER_COLUMNS
                table.add_column(escape(heading), overflow="fold" if wrap else "ellipsis", no_wrap=not wrap)
            for row in s.rows:
                table.add_row(*[_cell(c, row.get(c), row) for c in s.columns])
            console.print(table)
        for n in report.notes:
            console.print(f"[dim]{escape(n)}[/]")
        console.print(status_markup(report))
        for path in (csv_out, html_out):
            if path:
                console.print(_("written: {path}").format(path=escape(path)))

    output(report.as_dict(), as_json, show)
    finish(problems_status(report.ok))


def status_markup(report: Report) -> str:
    """The report's status line, green when it found nothing, red otherwise."""
    return f"[{'green' if report.ok else 'red'}]{status_line(report)}[/]"


NUMBER_COLUMNS = ("number", "record", "records", "like_record", "work_order", "customer")  # never broken


def _cell(column: str, value, row: dict) -> str:
    text = "\n".join(escape(line) for line in display_cell(column, value, row))
    if column == "ok":
        return f"[green]{text}[/]" if value else f"[red]{text}[/]"
    return text


@click.group()
def report() -> None:
    """Auditor reports: completeness, overdue, digitisation, reconciliation, numbering, duplicates.

    Each states when, by whom, on which data and under which scheme version it was made;
    --csv and --html write copies to file. Exit status 4 when the report finds problems."""


@report.command("completeness")
@click.option("--from", "date_from", type=DATE, help="Cases accepted on or after.")
@click.option("--to", "date_to", type=DATE, help="Cases accepted on or before.")
@click.option("--business", metavar="TYPE", help="Business type code or name, e.g. JR or 减容.")
@click.option("--dept", metavar="DEPT", help="Department of the case.")
@click.option("--customer", metavar="ACCOUNT", help="Customer account number (户号).")
@report_options
@pass_ctx
def report_completeness(ctx, date_from, date_to, business, dept, customer, as_json, csv_out, html_out):
    """Every business case against the scheme: documents missing (mandatory, and conditional
    ones whose condition holds), invalid billing-critical fields, unmet preconditions;
    summaries by business type, department, month and fonds."""
    r = make_report(
        ctx.archive,
        "completeness",
        date_from=day(date_from),
        date_to=day(date_to),
        business=business,
        department=dept,
        customer=customer,
    )
    emit_report(ctx, r, as_json, csv_out, html_out)


@report.command("overdue")
@click.option("--as-of", type=DATE, help="Date to judge at [default: today].")
@click.option(
    "--holiday", "holidays", multiple=True, type=DATE, help="A public holiday (not a working day); repeat for each."
)
@click.option(
    "--workday", "workdays", multiple=True, type=DATE, help="A weekend day that is worked (调休); repeat for each."
)
@click.option("--business", metavar="TYPE")
@click.option("--dept", metavar="DEPT")
@click.option("--customer", metavar="ACCOUNT")
@report_options
@pass_ctx
def report_overdue(ctx, as_of, holidays, workdays, business, dept, customer, as_json, csv_out, html_out):
    """Documents past their due day: a stage's documents the scheme's due working days after
    the stage's date, a closed case's missing documents on its closing day. The same
    computation as `dangan collect` (cases with nothing scanned owe everything)."""
    r = make_report(
        ctx.archive,
        "overdue",
        as_of=day(as_of),
        holidays=[d.date() for d in holidays],
        workdays=[d.date() for d in workdays],
        business=business,
        department=dept,
        customer=customer,
    )
    emit_report(ctx, r, as_json, csv_out, html_out)


@report.command("digitisation")
@click.option("--as-of", type=DATE, help="Date to project from [default: today].")
@click.option(
    "--window", type=click.IntRange(1), default=30, show_default=True, help="Days of recent scanning that set the pace."
)
@report_options
@pass_ctx
def report_digitisation(ctx, as_of, window, as_json, csv_out, html_out):
    """Paper folders scanned, not scanned, QA-failed and verified; pages per day; backlog
    and projected finish."""
    emit_report(
        ctx, make_report(ctx.archive, "digitisation", as_of=day(as_of), window=window), as_json, csv_out, html_out
    )


@report.command("reconciliation")
@click.option("--as-of", type=DATE, help="Date to judge loans at [default: today].")
@report_options
@pass_ctx
def report_reconciliation(ctx, as_of, as_json, csv_out, html_out):
    """Paper without scan, scan without paper, page counts that differ, records without a
    location, folders on overdue loan."""
    emit_report(ctx, make_report(ctx.archive, "reconciliation", as_of=day(as_of)), as_json, csv_out, html_out)


@report.command("numbering")
@report_options
@pass_ctx
def report_numbering(ctx, as_json, csv_out, html_out):
    """Gaps in the serials (not voided), voids with reasons, duplicates, numbers whose check
    character fails."""
    emit_report(ctx, make_report(ctx.archive, "numbering"), as_json, csv_out, html_out)


@report.command("duplicates")
@report_options
@pass_ctx
def report_duplicates(ctx, as_json, csv_out, html_out):
    """Pages found, when scanned, to be the same image as an archived page or to look and read
    the same: a folder scanned twice, until a person voids the second record or accepts it."""
    emit_report(ctx, make_report(ctx.archive, "duplicates"), as_json, csv_out, html_out)


@report.command("all")
@click.option("--as-of", type=DATE)
@click.option("--html", "html_out", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@report_language_option
@pass_ctx
def report_all(ctx, as_of, html_out):
    """Every report in one HTML file (one per printed page group), for sign-off."""
    reports = make_all(ctx.archive, as_of=day(as_of))
    Path(html_out).write_text(as_html(reports), encoding="utf-8")
    exported(ctx.archive, [r.kind for r in reports], "html", as_of=day(as_of))
    for r in reports:
        console.print(f"{escape(r.title)}: " + status_markup(r))
    console.print(_("written: {path}").format(path=escape(html_out)))
    finish(problems_status(all(r.ok for r in reports)))


@click.command("verify")
@click.option("--full", is_flag=True, help="Recompute the SHA-256 of every file (slow); default: sizes and counts.")
@json_option
@pass_ctx
def verify_cmd(ctx, full, as_json):
    """Fixity: every master, derived and source file present (with its size, or with --full
    its SHA-256), no unexpected files in the store, the event chain intact. The result is
    stored as a 'fixity check' event. Exit status 4 when anything is wrong."""
    with progress(_("Verifying"), unit="files") as verified:
        r = audit.verify(ctx.archive, full=full, progress=verified)

    def show(_r) -> None:
        missing, altered = _("missing"), _("altered")
        for m in r.missing:
            what = _("{kind} of {of}").format(kind=m["kind"], of=m["of"])
            console.print(f"[red]{missing}[/]  {escape(m['path'])} ({escape(what)})")
        for a in r.altered:
            what = _("{kind} of {of}").format(kind=a["kind"], of=a["of"])
            console.print(f"[red]{altered}[/]  {escape(a['path'])} ({escape(what)}): {escape(a['problem'])}")
        for u in r.unexpected:
            unexpected = _("unexpected")
            why = _("in the store, no record refers to it")
            console.print(f"[yellow]{unexpected}[/] {escape(u)} ({why})")
        for c in r.chain_problems:
            event = _("event #{seq}").format(seq=c["seq"])
            console.print(f"[red]{event}[/]: {escape(c['problem'])}")
        if r.in_progress:
            console.print(
                _(
                    "{n} files of pages in progress (scanned, folder not yet accessioned): not counted as unexpected"
                ).format(n=len(r.in_progress))
            )
        checked = (
            _("full check: {files}, {mb:.1f} MB hashed, {events} events: ")
            if full
            else _("quick check: {files} (sizes only; --full hashes), {events} events: ")
        ).format(files=count(r.files_checked, "file"), mb=r.bytes_checked / 1e6, events=r.events_checked)
        problems = ngettext("{n} problem", "{n} problems", r.problems).format(n=r.problems)
        ok = _("ok")
        console.print(checked + (f"[green]{ok}[/]" if r.ok else f"[red]{problems}[/]"))

    output(r.as_dict(), as_json, show)
    finish(problems_status(r.ok))


@click.command("check-four")
@click.argument("ofd_file", required=False, type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_ctx
def check_four(ctx, ofd_file, as_json):
    """四性检测 (DA/T 70-2018): authenticity 真实性, integrity 完整性, usability 可用性, security
    安全性 in one pass: full fixity, event chain, metadata ranges, numbering, formats that open
    and decode, no encrypted or unknown files. Stored as a 'fixity check' event. Exit status 4
    when a property fails.

    With OFD_FILE: that OFD against the archival profile (OFD/A) instead: the record's metadata
    in it, every page and part present, fonts embedded, nothing outside the package."""
    if ofd_file:
        r = audit.check_ofd(ofd_file)
    else:
        with progress(_("Checking"), unit="files") as checked:
            r = audit.check_four(ctx.archive, progress=checked)

    def show(_r) -> None:
        for p in r.properties:
            mark = "[green]" + _("pass") + "[/]" if p.ok else "[red]" + _("FAIL") + "[/]"
            counts = _("{checked} checked, {failed} failed").format(checked=p.checked, failed=len(p.failures))
            console.print(f"{mark}  {p.chinese} {p.name}: {counts}")
            for f in p.failures[:50]:
                console.print(f"        {escape(f['check'])}: {escape(str(f['what']))}: {escape(str(f['problem']))}")
            if len(p.failures) > 50:
                more = _("… and {n} more (use --json)").format(n=len(p.failures) - 50)
                console.print(f"        {more}")
            for n in p.notes:
                console.print(f"        [dim]{escape(n)}[/]")

    output(r.as_dict(), as_json, show)
    finish(problems_status(r.ok))


@click.command("export")
@click.argument("numbers", nargs=-1)
@click.option(
    "-o", "--output", "out", required=True, type=click.Path(file_okay=False), help="New directory for the bag."
)
@pass_ctx
def export_cmd(ctx, numbers, out):
    """Write a BagIt bag (RFC 8493) of the records NUMBERS, or of the whole archive: masters,
    derived images, sources, OCR text, one metadata JSON per record
    (schemas/record-metadata.schema.json) and the event log. Only a whole-archive bag can
    be imported again (dangan import-bag)."""
    r = audit.export_bag(ctx.archive, out, numbers)
    console.print(
        _("bag written to {path} ({scope}): {records}, {pages}, {files} ({mb:.1f} MB), {events} events").format(
            path=escape(str(r.path)),
            scope=r.scope,
            records=count(r.records, "record"),
            pages=count(r.pages, "page"),
            files=count(r.files, "file"),
            mb=r.bytes / 1e6,
            events=r.events,
        )
    )


@click.command("import-bag")
@click.argument("bag", type=click.Path(exists=True, file_okay=False))
@pass_ctx
def import_bag_cmd(ctx, bag):
    """Restore a whole-archive bag into an EMPTY data home (--home), then rebuild the search
    index. The bag is fully validated first; a non-empty home is refused."""
    r, n = audit.import_bag(ctx.archive, bag)
    console.print(
        _(
            "imported into {home}: {records}, {pages}, {events} events, {files}; {indexed} indexed. "
            "Check it with `dangan verify --full`."
        ).format(
            home=escape(str(ctx.home.root)),
            records=count(r.records, "record"),
            pages=count(r.pages, "page"),
            events=r.events,
            files=count(r.files, "file"),
            indexed=count(n, "page"),
        )
    )


COMMANDS = (report, verify_cmd, check_four, export_cmd, import_bag_cmd)
