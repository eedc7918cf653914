"""A site's classification scheme lives in its data home: used by every command, refused with
file, line and reason (no traceback) when it is wrong, and named on every report by its
version and the SHA-256 of its content, so an edit shows even when the version does not."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dangan.archive.business.scheme import DEFAULT_SCHEME_PATH
from dangan.cli import main

SHIPPED = DEFAULT_SCHEME_PATH.read_text(encoding="utf-8")


@pytest.fixture
def dangan(tmp_path):
    home = tmp_path / "home"
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["--home", str(home), "--as", "tester", *args])

    assert run("init").exit_code == 0
    return home, run


def test_reports_name_the_scheme_by_version_and_content(dangan):
    home, run = dangan
    shipped = json.loads(run("report", "numbering", "--json").stdout)["about"]
    assert shipped["scheme_file"] == str(DEFAULT_SCHEME_PATH) and len(shipped["scheme_sha256"]) == 64
    (home / "classification.yaml").write_text(
        SHIPPED.replace("name: 用电申请书", "name: 用电申请表", 1), encoding="utf-8"
    )
    site = json.loads(run("report", "numbering", "--json").stdout)["about"]
    assert site["scheme_file"] == str(home / "classification.yaml")
    assert site["scheme_version"] == shipped["scheme_version"] == 1  # nobody bumped it
    assert site["scheme_sha256"] != shipped["scheme_sha256"]  # the content says it changed
    assert site["scheme"] == f"1 (sha256 {site['scheme_sha256'][:12]})"
    checked = json.loads(run("scheme", "check", "--json").stdout)
    assert (checked["file"], checked["sha256"]) == (site["scheme_file"], site["scheme_sha256"])
    out = run("report", "numbering")
    assert f"scheme version: 1 (sha256 {site['scheme_sha256'][:12]})" in out.stdout


def line_of(text: str) -> int:
    """The line of the shipped scheme that starts with TEXT (the file grows; the test follows)."""
    return next(n for n, line in enumerate(SHIPPED.splitlines(), 1) if line.startswith(text))


D10 = "  D10: { name: 定期10年, years: 10 }"


@pytest.mark.parametrize(
    ("edit", "line", "reason"),
    [
        (  # the parser notices two lines on; the message says where the mapping began
            lambda t: t.replace(D10, D10[:-1], 1),
            line_of(D10) + 2,
            f"flow mapping begun at line {line_of(D10)}",
        ),
        (lambda t: t.replace("  SQ:\n", "  SQ:\n    colour: red\n", 1), line_of("  SQ:") + 1, "colour"),
    ],
)
def test_a_bad_site_scheme_is_refused_with_file_line_and_reason(dangan, edit, line, reason):
    home, run = dangan
    bad = home / "classification.yaml"
    bad.write_text(edit(SHIPPED), encoding="utf-8")
    for args in (("report", "completeness"), ("collect",), ("scheme", "check")):
        out = run(*args)
        assert out.exit_code == 1, (args, out.output)
        assert "Traceback" not in out.output and out.exception is None or isinstance(out.exception, SystemExit)
        assert f"{bad}:{line}" in out.output and reason in out.output, out.output
        assert len(out.output.splitlines()) <= 4
    checked = run("scheme", "check", str(DEFAULT_SCHEME_PATH))  # a file checked before it is installed
    assert checked.exit_code == 0 and str(DEFAULT_SCHEME_PATH) in checked.output
