"""The business system: imports of customers and cases, the collection list, business cases."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date

import click
from rich.table import Table
from rich.text import Text

from dangan.app import business, lifecycle
from dangan.app.names import display_name
from dangan.app.reports import csv_writer
from dangan.cli.base import DATE, console, day, finish, json_option, output, pairs, pass_ctx, progress
from dangan.errors import ExitStatus
from dangan.i18n import N_, _, count, format_date

OWED_STATES = {"overdue": N_("overdue"), "due": N_("due now"), "expected": N_("expected")}


@click.group("import")
def import_() -> None:
    """Import customers and business cases from the business system's exports (SG186 …).

    \b
    CSV (UTF-8 or GBK/GB18030, detected) or .xlsx. Columns are mapped by
    schemas/import-mapping.yaml (flavour sg186 by default; --mapping NAME or a file of
    your own). Bad rows are listed with line and reason; good rows are imported.
    Importing the same file again changes nothing. Exit status 3 when a row was rejected."""


def import_options(f):
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
        type=DATE,
        default=None,
        help="Treat this as today when refusing future dates (for replaying old exports).",
    )(f)
    return json_option(f)


def run_import(
    ctx, kind: str, file: str, mapping, encoding, sheet, report_path, show, batch_size, today, as_json
) -> None:
    with open(report_path, "w", encoding="utf-8-sig", newline="") if report_path else nullcontext() as fh:
        sink = None
        if fh is not None:
            writer = csv_writer(fh)
            writer.writerow(["file", "line", "column", "value", "severity", "reason"])
            sink = lambda p: writer.writerow([p.file, p.line, p.column, p.value, p.severity, p.reason])
        label = _("Importing customers") if kind == "customers" else _("Importing business cases")
        with progress(label, unit="rows") as imported:
            report = business.import_export(
                ctx.archive,
                kind,
                file,
                mapping=mapping,
                encoding=encoding,
                sheet=sheet,
                batch_size=batch_size,
                today=day(today),
                on_problem=sink,
                progress=imported,
            )
    output(report.as_dict(), as_json, lambda _r: print_import(report, show, report_path))
    finish(ExitStatus.INPUT_REFUSED if report.rejected else ExitStatus.OK)


def print_import(report, show: int, report_path) -> None:
    what = _("Customers") if report.kind == "customers" else _("Business cases")
    console.print(
        Text(
            _(
                "{what} from {file} (mapping {mapping}, {encoding}): {rows} rows in {seconds:.1f} s "
                "({rate:,.0f} rows/s), run {run}"
            ).format(
                what=what,
                file=report.file,
                mapping=report.mapping,
                encoding=report.encoding or "xlsx",
                rows=report.rows,
                seconds=report.seconds,
                rate=report.rows_per_second,
                run=report.run_id,
            ),
            style="bold",
        )
    )
    table = Table(show_header=False)
    for key, label, style in (
        ("inserted", N_("inserted"), "green"),
        ("updated", N_("updated"), "cyan"),
        ("unchanged", N_("unchanged"), "dim"),
        ("rejected", N_("rejected"), "red"),
        ("warnings", N_("warnings"), "yellow"),
        ("successions", N_("successions"), "cyan"),
        ("customers_created", N_("customers created"), "green"),
        ("links_proposed", N_("links proposed"), "cyan"),
    ):
        value = getattr(report, key)
        if value or key in ("inserted", "updated", "unchanged", "rejected"):
            table.add_row(_(label), Text(str(value), style=style if value else ""))
    console.print(table)
    for p in report.problems[:show]:
        colour = "red" if p.severity == "error" else "yellow"
        console.print(
            Text(f"{p.file}:{p.line}", style="bold"), Text(f" [{p.column}] ", style="dim"), Text(p.reason, style=colour)
        )
    hidden = report.rejected + report.warnings - min(show, len(report.problems))
    if hidden > 0:
        more = (
            _("… and {n} more problems; all of them are in {path}").format(n=hidden, path=report_path)
            if report_path
            else _("… and {n} more problems; use --report FILE.csv for all of them").format(n=hidden)
        )
        console.print(Text(more))
    if report.unused_columns:
        unused = _("columns not used: {columns}").format(columns=", ".join(report.unused_columns))
        console.print(Text(unused, style="dim"))


@import_.command("customers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@import_options
@pass_ctx
def import_customers(ctx, file, **kw) -> None:
    """Customers (户号, 户名, 用电地址, 电压等级, 用电类别, 原户号) from FILE."""
    run_import(ctx, "customers", file, **kw)


@import_.command("cases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@import_options
@pass_ctx
def import_cases(ctx, file, **kw) -> None:
    """Business cases (工单编号, 户号, 业务类型, 受理部门, stage dates, billing fields) from FILE.

    Scanned records without a readable work order are linked to a case when their 户号 has
    exactly one open case of the business type read from the pages (a proposal: confirm
    with `dangan case link`)."""
    run_import(ctx, "cases", file, **kw)


@click.command()
@click.option("--department", default=None, help="Only this department (受理部门).")
@click.option("--overdue", "overdue_only", is_flag=True, help="Only cases with overdue documents.")
@click.option("--today", type=DATE, default=None, help="Count due days from this date.")
@click.option(
    "--holiday", "holidays", multiple=True, type=DATE, help="A public holiday (not a working day); repeat for each."
)
@click.option(
    "--workday", "workdays", multiple=True, type=DATE, help="A weekend day that is worked (调休); repeat for each."
)
@json_option
@pass_ctx
def collect(ctx, department, overdue_only, today, holidays, workdays, as_json) -> None:
    """What to collect (按期收集): per department, cases whose documents are due or overdue.

    A stage's documents are due the scheme's due_working_days after the stage's date (from
    the imported export); overdue after that. Exit status 4 when anything is overdue."""
    departments = business.collection_list(
        ctx.archive,
        today=day(today),
        department=department,
        overdue_only=overdue_only,
        holidays=[d.date() for d in holidays],
        workdays=[d.date() for d in workdays],
    )

    def show(_r) -> None:
        if not departments:
            console.print(_("Nothing due: every case's documents are in, or not yet due."))
        for d in departments:
            title = _("{department}: {cases}, {overdue} overdue").format(
                department=d.department, cases=count(len(d.cases), "case"), overdue=d.overdue_cases
            )
            table = Table(title=Text(title), title_justify="left")
            for col, number in (
                (_("work order"), True),
                (_("account number"), True),
                (_("customer"), False),
                (_("business"), False),
                (_("stage"), False),
                (_("due by"), True),
                (_("documents owed"), False),
            ):
                table.add_column(col, overflow="fold", no_wrap=number)
            for c in d.cases:
                for i, doc in enumerate(x for x in c.owed if x.state != "expected"):
                    first = i == 0
                    table.add_row(
                        c.work_order if first else "",
                        c.account_number if first else "",
                        c.customer_name if first else "",
                        c.variant if first else "",
                        doc.stage,
                        Text(
                            " ".join((format_date(doc.due_on, table=True), _(OWED_STATES[doc.state]))),
                            style="red" if doc.state == "overdue" else "yellow",
                        ),
                        doc.label,
                    )
            console.print(table)

    data = [{"department": d.department, "cases": [c.as_dict() for c in d.cases]} for d in departments]
    output(data, as_json, show)
    finish(ExitStatus.PROBLEMS_FOUND if any(d.overdue_cases for d in departments) else ExitStatus.OK)


@click.group()
def case() -> None:
    """Business cases (业务工单): billing-critical fields, facts, documents owed, links, closing."""


@case.command("set")
@click.argument("work_order")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE", help="A billing-critical field.")
@click.option("--fact", "facts", multiple=True, metavar="NAME=VALUE", help="A case fact, e.g. bills_settled=true.")
@click.option("--reason", required=True)
@pass_ctx
def case_set(ctx, work_order, fields, facts, reason) -> None:
    """Record billing-critical fields or facts of a case (checked at handover)."""
    c = lifecycle.update_case(
        ctx.archive,
        work_order,
        reason=reason,
        billing_fields=pairs(fields, "NAME=VALUE"),
        facts=pairs(facts, "NAME=VALUE"),
    )
    console.print(
        Text(
            _("case {work_order}: fields {fields}, facts {facts}").format(
                work_order=c["work_order"], fields=c["billing_fields"], facts=c["facts"]
            )
        )
    )


@case.command("close")
@click.argument("work_order")
@click.option("--on", "closed_on", type=DATE, default=str(date.today()), show_default=True)
@pass_ctx
def case_close(ctx, work_order, closed_on) -> None:
    """Close a case: retention periods with trigger case_closed start from this date."""
    lifecycle.close_case(ctx.archive, work_order, closed_on.date())
    console.print(
        Text(_("case {work_order} closed on {day}").format(work_order=work_order, day=format_date(closed_on.date())))
    )


@case.command("show")
@click.argument("work_order")
@click.option("--today", type=DATE, default=None)
@json_option
@pass_ctx
def case_show(ctx, work_order, today, as_json) -> None:
    """A case's stages, when its documents are due, which have arrived and which are owed."""
    docs = business.case_documents(ctx.archive, work_order, today=day(today))

    def show(_r) -> None:
        status = display_name("case_status", docs.status)
        console.print(Text(f"{docs.work_order}  {docs.variant}  {docs.department}  [{status}]", style="bold"))
        console.print(Text(_("customer {account} {name}").format(account=docs.account_number, name=docs.customer_name)))
        for stage, when in docs.stage_dates.items():
            due = docs.due_dates.get(stage)
            line = f"  {stage:<6} {format_date(when, table=True)}"
            if due:
                line += "   " + _("documents due by {day}").format(day=format_date(due))
            console.print(Text(line))
        for a in docs.arrived:
            note = _(" (proposed link: confirm with `dangan case link`)") if a.proposed else ""
            arrived = _("{name} {code} in {record}").format(name=a.name, code=a.code, record=a.record)
            console.print(Text(f"  ✓ {arrived}{note}", style="green"))
        for o in docs.owed:
            style = {"overdue": "red", "due": "yellow", "expected": "dim"}[o.state]
            when = (
                _("{state}, due {day}").format(state=_(OWED_STATES[o.state]), day=format_date(o.due_on))
                if o.due_on
                else _("expected when the stage is reached")
            )
            stage = _("{why}, stage {stage}: {when}").format(why=o.why, stage=o.stage, when=when)
            console.print(Text(f"  ✗ {o.label}  [{stage}]", style=style))
        console.print(
            _("complete")
            if docs.complete
            else _("{documents} owed").format(documents=count(len(docs.owed), "document"))
        )

    output(docs.as_dict(), as_json, show)


@case.command("link")
@click.argument("number")
@click.argument("work_order")
@click.option("--reason", default="", help="Why (kept in the event log).")
@pass_ctx
def case_link(ctx, number, work_order, reason) -> None:
    """Link scanned record NUMBER to case WORK_ORDER, or confirm a proposed link."""
    business.link_record(ctx.archive, number, work_order, reason=reason)
    console.print(Text(_("{number} linked to case {work_order}").format(number=number, work_order=work_order)))


@click.group()
def scheme() -> None:
    """The classification scheme: business types, document types, completeness rules, retention.

    A site's own scheme is the file classification.yaml in the data home (or --scheme FILE,
    DANGAN_SCHEME); without one the shipped scheme is used. Every report names the scheme's
    version and the SHA-256 of its content, so an edit shows."""


@scheme.command("check")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@json_option
@pass_ctx
def scheme_check(ctx, file, as_json) -> None:
    """Check FILE (before copying it into the data home), or the scheme in force: every problem
    with its file and line. Exit status 1 when it cannot be used."""
    found = business.scheme_in_force(ctx.archive, file)

    def show(f: dict) -> None:
        console.print(
            Text(
                _(
                    "{file}: scheme version {label}, fonds {fonds}, {business} business types, "
                    "{documents} document types"
                ).format(
                    file=f["file"],
                    label=f["label"],
                    fonds=f["fonds"],
                    business=f["business_types"],
                    documents=f["document_types"],
                )
            )
        )
        if not file:
            console.print(Text(_("(a site's own scheme goes in {site})").format(site=f["site"])))

    output(found, as_json, show)


COMMANDS = (import_, collect, case, scheme)
