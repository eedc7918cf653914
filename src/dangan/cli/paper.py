"""The paper: rooms and shelves, shelving, labels and cover sheets, stock-take, handover, loans."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from dangan.app import paper
from dangan.app.labels import LABEL_KINDS, print_labels
from dangan.app.names import display_name
from dangan.app.reports import CsvDictWriter
from dangan.cli.base import DATE, console, finish, json_option, output, pass_ctx, problems_status, say
from dangan.i18n import _, count, format_date, ngettext


@click.group()
def location() -> None:
    """Archive rooms and shelves: 库房 → 区 → 架/柜 → 层 → 盒 (box) → 卷 (folder)."""


@location.command("add")
@click.argument("code")
@click.option("--kind", required=True, type=click.Choice(paper.LOCATION_KINDS))
@click.option("--parent", metavar="CODE", help="The location it sits in (a box's parent is a shelf).")
@click.option("--name", default="", help="A name people use, e.g. 一号库房.")
@pass_ctx
def location_add(ctx, code, kind, parent, name) -> None:
    """Add a room, zone, rack, cabinet, shelf or box, with the code printed on its label."""
    paper.add_location(ctx.archive, code, kind, parent=parent, name=name)
    where = display_name("location_kind", kind)
    added = _("added {kind} {code} in {parent}") if parent else _("added {kind} {code}")
    say(added.format(kind=where, code=code, parent=parent))


@location.command("list")
@json_option
@pass_ctx
def location_list(ctx, as_json) -> None:
    """The location tree down to folders, with each folder's paper state."""
    tree = paper.location_tree(ctx.archive)

    def add(node: dict, branch: Tree) -> None:
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

    def show(tree: list[dict]) -> None:
        root = Tree("[bold]archive rooms[/]")
        for node in tree:
            add(node, root)
        console.print(root)

    output(tree, as_json, show)


@location.command("where")
@click.argument("number_")
@json_option
@pass_ctx
def location_where(ctx, number_, as_json) -> None:
    """Where a record's paper is: folder, box, shelf path and state."""
    w = paper.where_is(ctx.archive, number_)

    def show(w: dict) -> None:
        if w["folder"] is None:
            say(f"{w['number']}: " + (_("born digital, no paper") if w["born_digital"] else _("not shelved yet")))
        else:
            say(
                _("{number}: folder {folder} ({state}) at {path}").format(
                    number=w["number"],
                    folder=w["folder"],
                    state=display_name("paper_state", w["state"]),
                    path=" / ".join(w["path"]) or _("no box"),
                )
            )

    output(w, as_json, show)


@click.command()
@click.argument("item")
@click.argument("target")
@pass_ctx
def shelve(ctx, item, target) -> None:
    """Put a folder (its code or its record's archive number) in a box, or a box on a shelf.

    \b
    dangan shelve GD01-KH·2024-0000017 B001     folder into box (created on first shelving)
    dangan shelve B001 K01-C-01-1               box onto shelf"""
    moved = paper.shelve(ctx.archive, item, target)
    say(_("shelved {code} → {path}").format(code=moved["code"], path=" / ".join(moved["path"])))


@click.command("born-digital")
@click.argument("number_")
@click.option("--reason", required=True)
@pass_ctx
def born_digital(ctx, number_, reason) -> None:
    """Mark a record as having no paper at all (so no folder is expected)."""
    number = paper.mark_born_digital(ctx.archive, number_, reason=reason)
    say(_("{number}: born digital").format(number=number))


@click.command()
@click.argument("kind", type=click.Choice(LABEL_KINDS))
@click.argument("codes", nargs=-1, required=True)
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False), help="PDF file to write.")
@pass_ctx
def labels(ctx, kind, codes, out) -> None:
    """Print PDF labels (one per page, label-printer sized): a QR with the code only, the
    code in large type. Folder codes may be archive numbers.

    `labels cover CODE…` prints A4 scan cover sheets, one per CODE: a work-order number (16
    digits), a 户号 (10 digits) or the archive number of a record the pages supplement. Put one
    in front of each customer folder and scan the stack as one file: `dangan scan` starts a new
    record at each cover and links it to what the cover names. The QR holds only the code."""
    printed = print_labels(ctx.archive, kind, codes, out)
    n = len(printed)
    wrote = {
        "cover": ngettext("wrote {n} cover sheet to {out}", "wrote {n} cover sheets to {out}", n),
        "box": ngettext("wrote {n} box label to {out}", "wrote {n} box labels to {out}", n),
    }.get(kind) or ngettext("wrote {n} folder label to {out}", "wrote {n} folder labels to {out}", n)
    say(wrote.format(n=n, out=out))


@click.command()
@click.argument("box")
@click.option(
    "--codes",
    "codes_file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="Codes read by the hand scanner, one per line ('-' for stdin).",
)
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False), help="Also write the result as CSV.")
@json_option
@pass_ctx
def stocktake(ctx, box, codes_file, csv_out, as_json) -> None:
    """盘点 one box: in place, misplaced (and where it belongs), unexpected, missing, on loan.
    Exit status 4 when anything is not in place."""
    report = paper.stocktake(ctx.archive, box, codes_file)
    rows = report.rows()
    if csv_out:
        with open(csv_out, "w", newline="", encoding="utf-8") as f:
            w = CsvDictWriter(f, fieldnames=["code", "status", "note"])
            w.writeheader()
            w.writerows(rows)

    def show(_data) -> None:
        title = _("stock-take of box {box} ({path}), event #{seq}").format(
            box=report.box, path=" / ".join(report.path), seq=report.event_seq
        )
        table = Table(title=title)
        for col in (_("code"), _("status"), _("note")):
            table.add_column(col)
        colour = {"in place": "green", "on loan": "cyan"}
        for r in rows:
            status = escape(display_name("stocktake_status", r["status"]))
            table.add_row(r["code"], f"[{colour.get(r['status'], 'red')}]{status}[/]", r["note"])
        console.print(table)
        say(
            _(
                "{in_place} in place, {misplaced} misplaced, {unexpected} unexpected, "
                "{missing} missing, {on_loan} on loan"
            ).format(
                in_place=len(report.in_place),
                misplaced=len(report.misplaced),
                unexpected=len(report.unexpected),
                missing=len(report.missing),
                on_loan=len(report.on_loan),
            )
        )

    output(report.as_dict(), as_json, show)
    finish(problems_status(not (report.misplaced or report.unexpected or report.missing)))


@click.command()
@click.argument("numbers", nargs=-1, required=True)
@click.option("--from", "from_dept", required=True, metavar="DEPT", help="Department handing over, e.g. 营业厅.")
@click.option("--to", "to_dept", default="档案室", show_default=True, metavar="DEPT")
@click.option("--offered-by", metavar="NAME", help="Who hands over [default: the acting user].")
@click.option("--override", is_flag=True, help="Accept despite problems (needs --reason; recorded as an event).")
@click.option("--reason", default=None, help="Why an override is justified.")
@json_option
@pass_ctx
def handover(ctx, numbers, from_dept, to_dept, offered_by, override, reason, as_json) -> None:
    """交接: hand records over to the archive room. Each record's business case is checked
    against the completeness rules; any missing mandatory document or invalid billing field
    refuses the whole handover, listing every problem. Exit status 4 when refused."""
    if override and not (reason or "").strip():
        raise click.UsageError(_("--override needs --reason"))
    view = paper.handover(
        ctx.archive,
        numbers,
        from_dept=from_dept,
        to_dept=to_dept,
        offered_by=offered_by,
        override_reason=reason if override else None,
    )

    def show(view: dict) -> None:
        colour = "green" if view["status"] == "accepted" else "red"
        status = {"accepted": _("accepted"), "refused": _("refused")}.get(view["status"], view["status"])
        console.print(
            escape(
                _("handover #{id} {source} → {target}: ").format(id=view["id"], source=view["from"], target=view["to"])
            )
            + f"[{colour}]{escape(status)}[/]"
            + (
                escape(_(" (override: {reason})").format(reason=view["override_reason"]))
                if view["override_reason"]
                else ""
            )
        )
        for item in view["items"]:
            console.print(f"  {'[green]✓[/]' if item['ok'] else '[red]✗[/]'} {escape(item['number'])}")
            for p in item["problems"]:
                say(f"      {p}")
        if view["status"] == "accepted":
            say(
                _("  handed over by {offered_by}, received by {received_by}").format(
                    offered_by=view["offered_by"], received_by=view["received_by"]
                )
            )

    output(view, as_json, show)
    finish(problems_status(view["status"] == "accepted"))


@click.group()
def loan() -> None:
    """借阅 of paper folders (electronic viewing is logged by `dangan show`)."""


@loan.command("lend")
@click.argument("folder")
@click.option("--to", "borrower", required=True, metavar="NAME")
@click.option("--dept", default="")
@click.option("--purpose", default="")
@click.option("--approver", default="")
@click.option("--due", type=DATE, help="Due date [default: in 14 days].")
@pass_ctx
def loan_lend(ctx, folder, borrower, dept, purpose, approver, due) -> None:
    """Lend a folder (code or archive number) to a person."""
    ln = paper.lend(
        ctx.archive,
        folder,
        borrower=borrower,
        department=dept,
        purpose=purpose,
        approver=approver,
        due_on=due.date() if due else None,
    )
    say(
        _("loan #{id}: {folder} to {borrower}, due {due}, {pages}").format(
            id=ln["id"],
            folder=ln["folder"],
            borrower=borrower,
            due=format_date(ln["due_on"]),
            pages=count(ln["pages_out"], "page"),
        )
    )


@loan.command("return")
@click.argument("folder")
@click.option("--pages", type=click.IntRange(0), required=True, help="Pages counted on return.")
@click.option("--note", default="")
@pass_ctx
def loan_return(ctx, folder, pages, note) -> None:
    """Take a folder back; the page count is checked against the scanned pages."""
    ln = paper.return_loan(ctx.archive, folder, pages_counted=pages, note=note)
    mismatch = _("≠ {pages} scanned — recorded").format(pages=ln["pages_out"])
    returned = _("loan #{id} returned: {pages} ").format(id=ln["id"], pages=count(pages, "page"))
    console.print(
        escape(returned)
        + (f"[red]{escape(mismatch)}[/]" if ln["page_mismatch"] else "[green]" + escape(_("match the scan")) + "[/]")
    )


@loan.command("list")
@click.option("--overdue", is_flag=True)
@json_option
@pass_ctx
def loan_list(ctx, overdue, as_json) -> None:
    """Open loans (or only the overdue ones)."""
    rows = paper.open_loans(ctx.archive, overdue=overdue)

    def show(rows: list[dict]) -> None:
        table = Table(title=_("overdue loans") if overdue else _("open loans"))
        for col in ("#", _("folder"), _("borrower"), _("dept"), _("due"), _("overdue days")):
            table.add_column(col)
        for r in rows:
            table.add_row(
                str(r["id"]),
                r["folder"],
                r["borrower"],
                r["department"],
                format_date(r["due_on"], table=True),
                f"[red]{r['overdue_days']}[/]" if r["overdue_days"] else "",
            )
        console.print(table)

    output(rows, as_json, show)


COMMANDS = (location, shelve, born_digital, labels, stocktake, handover, loan)
