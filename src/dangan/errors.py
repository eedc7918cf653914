"""One error hierarchy for all of dangan, and the exit statuses of the `dangan` command.

Every error a person can act on derives from DanganError: ``str(e)`` says what went wrong
and what to do. Each carries the exit status the CLI ends with and the HTTP status the web
app answers with, so the two faces map errors the same way in one handler each
(dangan.cli.output, dangan.web.app).
"""

from __future__ import annotations

import re
from enum import IntEnum


class ExitStatus(IntEnum):
    """What a script can tell from `dangan`'s exit status."""

    OK = 0
    ERROR = 1  # could not do what was asked (bad input, missing record, refused action)
    USAGE = 2  # the command line itself is wrong (click's own status)
    INPUT_REFUSED = 3  # done, but some files were quarantined or some rows rejected
    PROBLEMS_FOUND = 4  # done, and the check or report found problems (audits, verify, handover …)
    TEMPORARY = 75  # a server stayed unreachable: nothing is lost, run the same command again later
    INTERRUPTED = 130  # Ctrl-C: nothing is lost, run the same command again to resume


class DanganError(Exception):
    """An error a person can act on; ``str(e)`` says what and what to do."""

    exit_status: int = ExitStatus.ERROR
    http_status: int = 400
    # the message as English text + params (dangan.i18n.kept) where it is stored and shown again later
    # (a quarantine reason); None when str(e) is all there is
    kept: dict | None = None


class NotFound(DanganError, LookupError):
    """What was asked for does not exist (a record, page, user, location …)."""

    http_status = 404


class Conflict(DanganError):
    """The action does not fit the current state (already replaced, already returned …)."""

    http_status = 409


class Unavailable(DanganError):
    """A service dangan needs (database, queue, an external tool) cannot be reached or run."""

    http_status = 503


# an absolute path of two or more parts (POSIX), as it may appear inside a message
_PATH = re.compile(r"(?<![\w.~/:])/(?:[^\s/'\"()<>]+/)+([^\s/'\"()<>]*)")


def without_paths(message: str) -> str:
    """MESSAGE as a web user may read it: the server's file paths cut to the file's own name."""
    return _PATH.sub(lambda m: m[1] or "…", message or "")
