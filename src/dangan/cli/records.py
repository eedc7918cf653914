"""Records: show one, check or void a number, the event chain, reclassification and its
history, 户号 changes, retention and disposal, the searchable PDF export."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from dangan.app import lifecycle, records
from dangan.app.archive import NoArchive
from dangan.app.audit import verify_chain
from dangan.app.names import display_name
from dangan.cli.base import DATE, console, day, finish, json_option, output, pairs, pass_ctx, problems_status, say
from dangan.i18n import N_, _, count, format_date, ngettext


@click.command()
@click.argument("key")
@click.option("--text/--no-text", "with_text", default=True, help="Include each page's OCR text.")
@json_option
@pass_ctx
def show(ctx, key, with_text, as_json) -> None:
    """Show a record by archive number or 户号: customer, case, documents, pages, text,
    checksums, where the files and the paper are, its loan and whether its case is complete.
    Each look is logged as an access event."""
    view = records.record_view(ctx.archive, key, with_text=with_text)
    output(view, as_json, lambda v: print_record(v, with_text))


def print_record(v: dict, with_text: bool) -> None:
    console.rule(f"[bold cyan]{escape(v['number'])}[/]  {escape(v['title'])}")
    c, case, cls = v["customer"], v["case"], v["classification"]
    info = Table(show_header=False, box=None)
    if c:
        account = _("account number")
        info.add_row(_("customer"), f"{c['name']}  {account} {c['account_number']}  {c['address']}")
    if case:
        business = " ".join(x for x in (case.get("business_type_name"), case["business_type"]) if x)
        status = display_name("case_status", case["status"])
        work_order = _("work order")
        info.add_row(_("business case"), f"{business}  {work_order} {case['work_order']}  {status}")
    if cls:
        business = " ".join(x for x in (cls.get("business_type_name"), cls["business_type"]) if x)
        info.add_row(_("classification"), f"{business} {cls['voltage_class']} {cls['customer_class']}")
    info.add_row(_("status"), display_name("record_status", v["status"]))
    info.add_row(_("accessioned"), format_date(v["accessioned_at"]))
    others = v["images"] - v["pages"]
    not_counted = _("  (+{n} not counted: cover sheets, blank pages)").format(n=others) if others else ""
    info.add_row(_("pages"), f"{v['pages']}{not_counted}")
    info.add_row(_("file store"), v["store_root"])
    info.add_row(_("paper"), _paper(v["paper"], v["loan"]))
    info.add_row(_("completeness"), _completeness(v["completeness"]))
    console.print(info)
    pages = Table(title=_("Documents and pages"))
    for col in (_("item"), _("type"), _("origin"), _("title"), _("p."), _("master SHA-256"), "dpi", _("conf"), _("QA")):
        pages.add_column(col, overflow="fold")
    for d in v["documents"]:
        for i, p in enumerate(d["pages"]):
            flags = ", ".join(f["code"] for f in p["flags"]) or (
                _("cover sheet") if p.get("cover") else _("blank") if p["blank"] else ""
            )
            pages.add_row(
                str(d["item_no"]) if i == 0 else "",
                " ".join(x for x in (d.get("doc_type_name"), d["doc_type"]) if x) or "?" if i == 0 else "",
                _(ORIGIN[d.get("origin") or "paper"]) if i == 0 else "",
                d["title"] if i == 0 else "",
                str(p["seq"]),
                f"{p['master']['sha256'][:12]}… {p['master']['format']}",
                str(p["dpi"]),
                f"{p['ocr_confidence']:.0f}" if p["ocr_confidence"] is not None else "–",
                f"{display_name('qa_status', p['qa_status'])} {flags}".strip(),
            )
    console.print(pages)
    if with_text:
        for d in v["documents"]:
            for p in d["pages"]:
                if p.get("text"):
                    console.rule(_("page {n}").format(n=p["seq"]), style="dim")
                    console.print(p["text"])


ORIGIN = {"paper": N_("paper scan"), "electronic": N_("electronic original")}


def _paper(paper: dict | None, loan: dict | None) -> str:
    if paper is None:
        return _("not shelved yet")
    if paper.get("born_digital"):
        return _("born digital, no paper")
    where = _("folder {folder} ({state}) at {path}").format(
        folder=paper["folder"],
        state=display_name("paper_state", paper["state"]),
        path=" / ".join(paper["path"]) or _("no box"),
    )
    if loan and loan.get("open"):
        where += _("; on loan to {borrower}, due {due}").format(
            borrower=loan["borrower"], due=format_date(loan["due_on"])
        )
    return where


def _completeness(c: dict) -> str:
    if c["ok"]:
        version = f"{c['scheme_version']}, sha256 {c.get('scheme_sha256', '')[:12]}"
        return (
            _("complete ({business} {variant}, scheme version {version})")
            .format(business=c["business_type"], variant=c["variant"], version=version)
            .replace("  ", " ")
        )
    missing = (_("missing: {what}").format(what=m) for m in c["missing"])
    lines = [*c["problems"], *missing, *c["invalid_fields"], *c["unmet_preconditions"]]
    return _("incomplete: ") + "; ".join(lines)


@click.group()
def number() -> None:
    """Archive numbers: check one typed or read from a label; void one."""


@number.command("check")
@click.argument("text")
@json_option
@pass_ctx
def number_check(ctx, text, as_json) -> None:
    """Validate an archive number's form and check character; for a single typo,
    propose the numbers it was probably meant to be (those in the archive first).
    Exit status 4 for an invalid number."""
    try:
        ctx.archive.check()
        archive = ctx.archive
    except NoArchive:
        archive = None  # the form and check character can be judged without an archive
    result = records.check_number(archive, text)

    def show(r: dict) -> None:
        if r["valid"]:
            status = display_name("record_status", r["status"]) if r.get("status") else ""
            known = f" ({status})" if status else _(" (no record has it)") if archive else ""
            valid = _("valid")
            console.print(f"[green]{valid}[/] {escape(r['number'])}{escape(known)}")
            return
        invalid = _("invalid")
        console.print(f"[red]{invalid}[/] {escape(r.get('number', ''))} {escape(r['reason'])}".replace("  ", " "))
        if r["did_you_mean"]:
            say(_("did you mean: ") + ", ".join(r["did_you_mean"][:5]))

    output(result, as_json, show)
    finish(problems_status(result["valid"]))


@number.command("void")
@click.argument("number_")
@click.option("--reason", required=True)
@pass_ctx
def number_void(ctx, number_, reason) -> None:
    """Void a number (never reused); the record stays with status 'void' and the reason."""
    voided = lifecycle.void_number(ctx.archive, number_, reason=reason)
    say(_("{number} voided: {reason}").format(number=voided, reason=reason))


@click.group()
def events() -> None:
    """The tamper-evident event log."""


@events.command("verify")
@json_option
@pass_ctx
def events_verify(ctx, as_json) -> None:
    """Recompute the hash chain; name every event that was edited, deleted or reordered.
    Exit status 4 when the chain is broken."""
    result = verify_chain(ctx.archive)

    def show(r: dict) -> None:
        for p in r["problems"]:
            event = _("event #{seq}").format(seq=p["seq"])
            console.print(f"[red]{event}[/]: {escape(p['problem'])}")
        if r["problems"]:
            problems = ngettext("{n} problem", "{n} problems", len(r["problems"])).format(n=len(r["problems"]))
            console.print(f"[red]{problems}[/] " + _("in {n} events").format(n=r["checked"]))
        else:
            ok = _("ok")
            console.print(f"[green]{ok}[/]: " + _("{n} events, chain intact").format(n=r["checked"]))

    output(result, as_json, show)
    finish(problems_status(result["ok"]))


@click.command()
@click.argument("number_")
@click.option("--business", metavar="TYPE", help="Business type code or name, e.g. GM or 更名.")
@click.option("--voltage", type=click.Choice(["LV", "HV"]))
@click.option("--customer-class", type=click.Choice(["residential", "non_residential"]))
@click.option("--retention", metavar="CODE", help="Retention code, e.g. D30 (appraisal).")
@click.option("--doc", "docs", multiple=True, metavar="ITEM=TYPE", help="Change document 件 ITEM to TYPE.")
@click.option("--reason", required=True)
@pass_ctx
def reclassify(ctx, number_, business, voltage, customer_class, retention, docs, reason) -> None:
    """Change a record's classification or document types. The number, files and labels stay;
    every earlier value stays readable (`dangan history NUMBER`)."""
    try:
        doc_types = {int(k): v for k, v in pairs(docs, "ITEM=TYPE").items()}
    except ValueError:
        raise click.BadParameter("--doc ITEM must be the document's 件 number, e.g. --doc 3=SM") from None
    c = lifecycle.reclassify(
        ctx.archive,
        number_,
        business_type=business,
        voltage_class=voltage,
        customer_class=customer_class,
        retention=retention,
        doc_types=doc_types,
        reason=reason,
    )
    console.print(
        f"{c['number']}: now {c['business_type']} {c['voltage_class']} {c['customer_class']} {c['retention']}".rstrip()
        + " (number, files and labels unchanged)"
    )


@click.command()
@click.argument("number_")
@json_option
@pass_ctx
def history(ctx, number_, as_json) -> None:
    """Every classification a record has had, and every document type change."""
    rows = lifecycle.history(ctx.archive, number_)

    def show(rows: list[dict]) -> None:
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
                    f"件 {r['item_no']} type",
                    f"{r['from']} → {r['to']}",
                    str(r["at"])[:19],
                    "",
                    r["reason"],
                    r["actor"],
                )
        console.print(table)

    output(rows, as_json, show)


@click.group()
def account() -> None:
    """Customer account numbers (户号)."""


@account.command("change")
@click.argument("old")
@click.argument("new")
@click.option("--reason", required=True)
@pass_ctx
def account_change(ctx, old, new, reason) -> None:
    """户号 change, or 并户 when NEW already exists: records stay findable by both numbers."""
    c = lifecycle.change_account_number(ctx.archive, old, new, reason=reason)
    say(
        _("customer now {account}; findable by {numbers}").format(
            account=c["account_number"], numbers=", ".join(c["findable_by"])
        )
    )


@click.group()
def retention() -> None:
    """Retention (保管期限) and disposal."""


@retention.command("due")
@click.option("--as-of", type=DATE, help="Date to evaluate at [default: today].")
@json_option
@pass_ctx
def retention_due(ctx, as_of, as_json) -> None:
    """Records whose retention period has run out: to appraise, then dispose or extend."""
    rows = lifecycle.retention_due(ctx.archive, day(as_of))

    def show(rows: list[dict]) -> None:
        table = Table(title=f"retention due ({len(rows)})")
        for col in ("number", "business", "retention", "trigger", "since", "due on"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["number"], r["business_type"], r["retention"], r["trigger"], str(r["trigger_date"]), str(r["due_on"])
            )
        console.print(table)

    output(rows, as_json, show)


@retention.command("dispose")
@click.argument("number_")
@click.option("--reason", required=True)
@click.option("--approved-by", required=True, help="Who approved the appraisal (鉴定).")
@pass_ctx
def retention_dispose(ctx, number_, reason, approved_by) -> None:
    """Dispose of a record whose retention ran out; a tombstone keeps its metadata."""
    disposed = lifecycle.dispose(ctx.archive, number_, reason=reason, approved_by=approved_by)
    say(_("{number} disposed (tombstone kept)").format(number=disposed))


@click.command("export-pdf")
@click.argument("number")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="PDF file to write [default: NUMBER.pdf in the current folder].",
)
@json_option
@pass_ctx
def export_pdf(ctx, number, out, as_json) -> None:
    """Write record NUMBER (or a 户号 with one record) as a searchable PDF: one page per
    current page image, at its scanned size, with the OCR text invisible over the image so
    it can be searched, selected and copied. The export is logged as an event with the
    file's SHA-256."""
    result = lifecycle.export_pdf(ctx.archive, number, out)

    def show(r) -> None:
        say(
            _("wrote {path}: {number}, {pages}, {words} words, {mb:.1f} MB").format(
                path=r.path, number=r.number, pages=count(r.pages, "page"), words=r.words, mb=r.size / 1e6
            )
        )
        say(_("sha256 {sha256} (event #{seq})").format(sha256=r.sha256, seq=r.event_seq))

    output(result, as_json, show)


@click.command("export-ofd")
@click.argument("number")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="OFD file to write [default: NUMBER.ofd in the current folder].",
)
@json_option
@pass_ctx
def export_ofd(ctx, number, out, as_json) -> None:
    """Write record NUMBER (or a 户号 with one record) as an OFD (GB/T 33190) in the archival
    profile: each current page image with its text invisible over it, the font embedded, the
    record's metadata in the file. Check it with `dangan check-four FILE`. The export is
    logged as an event with the file's SHA-256."""
    result = lifecycle.export_ofd(ctx.archive, number, out)

    def show(r) -> None:
        say(
            _("wrote {path}: {number}, {pages}, {words} words, {mb:.1f} MB").format(
                path=r.path, number=r.number, pages=count(r.pages, "page"), words=r.words, mb=r.size / 1e6
            )
        )
        say(_("sha256 {sha256} (event #{seq})").format(sha256=r.sha256, seq=r.event_seq))

    output(result, as_json, show)


COMMANDS = (show, number, events, reclassify, history, account, retention, export_pdf, export_ofd)
