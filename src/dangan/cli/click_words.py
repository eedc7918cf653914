"""click's own words that people meet most (help headings, usage errors), for the catalogue:
dangan.cli.base routes click's gettext through dangan.i18n, and these are the ones the zh_CN
catalogue translates. The strings are click's, exactly (click 8.x); a click release that
rewords one leaves that one in English until it is copied here again."""

from __future__ import annotations

from dangan.i18n import N_, ngettext

CLICK_WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("required"),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Aborted!"),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter: {param_name}"),
    N_("Missing command."),
    N_("No such command {name!r}."),
    N_("No such option {name!r}."),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is a file."),
    N_("file"),
    N_("directory"),
    N_("path"),
)


def _plurals(n: int) -> None:  # never called: marks click's plural messages for the catalogue
    ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", n)
    ngettext("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.", n)
    ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", n)
    ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", n)
    ngettext("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}.", n)
