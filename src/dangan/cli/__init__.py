"""The `dangan` command: a thin face over dangan.app. Each module holds the commands of one
part of the work; each command parses, calls one library function and prints (a table for
people, --json for scripts). Errors a person can act on are shown once, by DanganGroup,
with their exit status:

    0 done · 1 error · 2 wrong command line · 3 done, but input was refused (quarantined
    files, rejected rows) · 4 done, and the check found problems · 130 interrupted
"""

from __future__ import annotations

import click

from dangan.app.archive import INDEX_BACKENDS
from dangan.cli import audit, business, demo, paper, records, scan, search, serve, users
from dangan.cli.base import Context, DanganGroup, choose_language
from dangan.i18n import LANGUAGES


@click.group(cls=DanganGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    type=click.Choice(INDEX_BACKENDS),
    envvar="DANGAN_INDEX_BACKEND",
    help="Search index backend [default: the archive's own, set by `init`: tantivy on SQLite, "
    "postgresql on PostgreSQL; env DANGAN_INDEX_BACKEND]. `index rebuild --backend …` switches.",
)
@click.option(
    "--scheme",
    envvar="DANGAN_SCHEME",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Classification scheme file [default: classification.yaml in the home if there is one, "
    "else the shipped one; env DANGAN_SCHEME].",
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    is_eager=True,
    expose_value=False,
    callback=choose_language,
    help="Language of messages and help [default: from LC_ALL, LC_MESSAGES or LANG; Chinese].",
)
@click.pass_context
def main(ctx: click.Context, home, db, actor, backend, scheme) -> None:
    """dangan 档案 — digitise, number, index and keep in step the paper and electronic
    customer files of an electricity supply company.

    \b
    Start with:  dangan init
    then:        dangan scan FOLDER_OF_SCANS
                 dangan search '户号:3401405288'
                 dangan show GD01-KH·2026-0000011
    Or try everything on generated scans:  dangan demo"""
    ctx.obj = Context(home, db, actor, backend, scheme)
    ctx.call_on_close(ctx.obj.archive.close)


for module in (scan, search, records, paper, audit, business, users, serve, demo):
    for command in module.COMMANDS:
        main.add_command(command)
