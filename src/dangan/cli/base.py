"""What every command shares: the archive it works on, one error handler, JSON or tables,
progress bars, exit statuses. Commands parse, call one library function, render."""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from dangan.app import Archive
from dangan.errors import DanganError, ExitStatus
from dangan.i18n import N_, _, environment_language, ngettext, set_language

console = Console()
err = Console(stderr=True)


class Context:
    """The archive a command works on and who is acting; opened on first use."""

    def __init__(
        self, home: str | None, db: str | None, actor: str | None, backend: str | None, scheme: str | None = None
    ):
        self.archive = Archive.open(home, db, actor=actor, backend=backend, scheme=scheme)

    @property
    def home(self):
        return self.archive.home

    @property
    def actor(self) -> str:
        return self.archive.actor

    def session(self):
        return self.archive.session()

    def on_index_wait(self, pid: int | None) -> None:
        err.print(Text(_("waiting for the index writer (held by process {pid})…").format(pid=pid), style="yellow"))


pass_ctx = click.make_pass_decorator(Context)


class Failed(click.ClickException):
    """A DanganError as click shows errors: one line, no traceback, the error's exit status."""

    def __init__(self, error: DanganError):
        super().__init__(str(error))
        self.exit_code = error.exit_status


class DanganGroup(click.Group):
    """The one place where errors a person can act on become a message and an exit status;
    where a search index that could not follow a change is said (exit status 1); and where the
    language of messages and help is settled (the environment's, then --lang)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        set_language(environment_language())
        localise(self)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
        except DanganError as e:
            raise Failed(e) from None
        except SystemExit:
            _say_index_problem(ctx)
            raise
        if _say_index_problem(ctx):
            finish(ExitStatus.ERROR)
        return result


def _say_index_problem(ctx: click.Context) -> bool:
    update = ctx.obj.archive.last_index if isinstance(ctx.obj, Context) else None
    if update is None or not update.problem:
        return False
    err.print(f"[red]{escape(update.problem)}[/]")
    return True


def speak_click() -> None:
    """click words its help headings and usage errors ("Usage:", "Missing argument") through
    the standard library's gettext, which follows only the environment: through dangan.i18n
    they follow --lang too (cli/click_words.py lists those the catalogue translates)."""
    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types):
        module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


speak_click()


def choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """--lang, eager: settled before --help is shown (`dangan --lang en scan --help`)."""
    if value:
        set_language(value)
        localise(ctx.find_root().command)


def localise(command: click.Command) -> None:
    """Help of COMMAND and its subcommands in the current language. The source keeps plain
    English help (scripts/messages.py extracts it); the English is kept aside on first call,
    so a second language in the same process (tests) translates from the source again."""
    source = command.__dict__.setdefault("_source_help", (command.help, command.short_help, command.epilog))
    command.help, command.short_help, command.epilog = (_(inspect.cleandoc(t)) if t else t for t in source)
    command._help_option = None  # click words its own --help once per command: again, in this language
    for param in command.params:
        if isinstance(param, click.Option):
            original = param.__dict__.setdefault("_source_help", param.help)
            param.help = _(original) if original else original
    for sub in getattr(command, "commands", {}).values():
        localise(sub)


# --- output ----------------------------------------------------------------------------------------


def _plain(o: Any) -> Any:
    if is_dataclass(o) and not isinstance(o, type):
        return asdict(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_plain))


def output(data: Any, as_json: bool, human: Callable[[Any], None]) -> None:
    """DATA as JSON for scripts, or as HUMAN prints it for people."""
    if as_json:
        emit_json(data)
    else:
        human(data)


def finish(status: int) -> None:
    """End the command with STATUS (ExitStatus): 0 returns normally."""
    if status:
        sys.exit(int(status))


def problems_status(ok: bool) -> int:
    return ExitStatus.OK if ok else ExitStatus.PROBLEMS_FOUND


def say(text: str) -> None:
    """A line of plain text (no rich markup interpretation)."""
    console.print(escape(text))


# --- progress --------------------------------------------------------------------------------------


# What a progress bar counts: (the unit after the count, the rate per minute), in words.
UNITS: dict[str, tuple[str, str]] = {
    "pages": (N_("pages"), N_("{rate} pages/min")),
    "rows": (N_("rows"), N_("{rate} rows/min")),
    "files": (N_("files"), N_("{rate} files/min")),
}


class RateColumn(ProgressColumn):
    """Things per minute (pages: what an operator compares with the scanner's speed)."""

    def __init__(self, unit: str = "pages") -> None:
        super().__init__()
        self.words = UNITS[unit][1]

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        rate = f"{speed * 60:5.1f}" if speed else "  –  "
        return Text(_(self.words).format(rate=rate), style="cyan")


@contextmanager
def progress(*labels: str, unit: str = "pages") -> Iterator[Any]:
    """Progress bars on stderr (UNITs done, UNITs/min, ETA; UNIT a key of UNITS: pages, rows,
    files), one per LABEL, each shown from its first update; yields a (done, total) callback per
    label (one callback for one label)."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(_(UNITS[unit][0])),
        RateColumn(unit),
        TextColumn(_("ETA")),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as bar:

        def tracker(label: str) -> Callable[[int, int], None]:
            task = None

            def update(done: int, total: int) -> None:
                nonlocal task
                if task is None:
                    task = bar.add_task(label, total=total)
                bar.update(task, completed=done, total=total)

            return update

        trackers = tuple(tracker(label) for label in labels)
        yield trackers[0] if len(trackers) == 1 else trackers


# --- parameters ------------------------------------------------------------------------------------

DATE = click.DateTime(["%Y-%m-%d"])


def day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    """NAME=VALUE options as a dict; a malformed one is a usage error."""
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(_("{value!r}: expected {what}").format(value=v, what=what))
        out[key.strip()] = val.strip()
    return out


def json_option(f):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(f)


def default_jobs() -> int:
    return os.cpu_count() or 1
