"""The message catalogues: extract, update, compile, check (Babel's Python API, one place).

    python scripts/messages.py update   extract every message, merge into each catalogue
                                        (new ones untranslated), compile the .mo files
    python scripts/messages.py compile  compile the .mo files only (after translating)
    python scripts/messages.py check    fail if a message is missing from a catalogue, is
                                        untranslated or fuzzy, or a .mo is out of date (CI)

Where messages come from:
  - Python (src/dangan/**.py): _("…"), ngettext("…", "…", n), and N_("…") for a message
    kept in a table and translated where it is shown; kept("…", …) and kept_plural("…", "…", n,
    …) for a message stored as text + params and rendered when shown (dangan.i18n.kept);
  - Jinja2 templates (web/templates/*.html): {% trans %}…{% endtrans %} and {{ _("…") }},
    whitespace trimmed as the web app's environment does;
  - click help (cli/*.py): every `help=` of an option or command and every command's
    docstring, translated when help is shown (dangan.cli.base.localise): the CLI's source
    keeps plain English help text.

The compiled .mo files are committed beside the .po files: the package then needs no build
step of its own (setuptools copies them as package data into the wheel) and Babel stays a
development tool. `check` proves they match their .po files.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "dangan"
LOCALE = PACKAGE / "locale"
DOMAIN = "dangan"
LANGUAGES = ("zh_CN",)  # English is the source language: no catalogue
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "kept": None, "kept_plural": (1, 2)}
CLICK_CALLS = {"option", "argument", "command", "group", "password_option", "confirmation_option"}


def extract_click_help(fileobj, keywords, comment_tags, options) -> Iterator[tuple]:
    """Babel extractor: click help text (help= and command docstrings), as click shows it
    (inspect.cleandoc), so the runtime lookup finds it."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called(node) in CLICK_CALLS:
            for kw in node.keywords:
                value = kw.value.value if isinstance(kw.value, ast.Constant) else None
                if kw.arg in ("help", "short_help") and isinstance(value, str) and value.strip():
                    yield kw.value.lineno, None, inspect.cleandoc(value), []
        elif isinstance(node, ast.FunctionDef):
            makers = [d for d in node.decorator_list if isinstance(d, ast.Call) and _called(d) in ("command", "group")]
            doc = ast.get_docstring(node, clean=False)
            if makers and doc and not any(k.arg == "help" for d in makers for k in d.keywords):
                yield node.body[0].lineno, None, inspect.cleandoc(doc).partition("\f")[0].rstrip(), []


def _called(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def extract() -> Catalog:
    """Every message in the package, with where it is used."""
    template = Catalog(project="dangan", domain=DOMAIN, charset="utf-8", fuzzy=False)
    methods = [
        ("web/templates/**.html", "jinja2.ext:babel_extract"),
        ("cli/**.py", extract_click_help),
        ("**.py", "python"),
    ]
    jinja = {"trimmed": "true", "newstyle_gettext": "true", "silent": "false"}
    # the click help of cli/ is also searched for _() calls: a second pass over those files
    passes = [methods, [("cli/**.py", "python")]]
    for method_map in passes:
        options = {"web/templates/**.html": jinja}
        for filename, lineno, message, comments, context in extract_from_dir(
            str(PACKAGE), method_map, options, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
        ):
            where = (f"src/dangan/{filename}", lineno)
            existing = template.get(message, context)
            if existing is not None and where in existing.locations:
                continue
            template.add(message, None, [where], auto_comments=comments, context=context)
    return template


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN, project="dangan", fuzzy=False)
    with path.open("rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update() -> None:
    template = extract()
    for language in LANGUAGES:
        catalog = read(language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()  # removed messages go; git keeps their history
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=120, sort_output=False, omit_header=False, include_previous=False)
        todo = [m.id for m in catalog if m.id and (not _translated(m) or m.fuzzy)]
        print(f"{path.relative_to(ROOT)}: {len(catalog) - 1} messages, {len(todo)} to translate")
    compile_all()


def compile_all() -> None:
    for language in LANGUAGES:
        mo = po_path(language).with_suffix(".mo")
        mo.write_bytes(compiled(read(language)))
        print(f"{mo.relative_to(ROOT)} written")


def _translated(message) -> bool:
    s = message.string
    return all(s) if isinstance(s, (tuple, list)) else bool(s)


def check() -> int:
    """Problems a release must not have, one line each; the number of problems."""
    template = extract()
    problems = []
    for language in LANGUAGES:
        path = po_path(language).relative_to(ROOT)
        catalog = read(language)
        for m in template:
            if m.id and catalog.get(m.id, m.context) is None:
                where = ", ".join(f"{f}:{n}" for f, n in m.locations[:2])
                problems.append(f"{path}: not in the catalogue (run `make messages`): {_short(m.id)} ({where})")
        for m in catalog:
            if not m.id:
                continue
            if m.fuzzy:
                problems.append(f"{path}:{m.lineno}: fuzzy: {_short(m.id)}")
            elif not _translated(m):
                problems.append(f"{path}:{m.lineno}: untranslated: {_short(m.id)}")
        mo = po_path(language).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(catalog):
            problems.append(f"{mo.relative_to(ROOT)}: out of date (run `python scripts/messages.py compile`)")
    problems += hidden_messages()
    for p in problems:
        print(p)
    print(f"messages: {len(template) - 1} extracted, {len(problems)} problems")
    return len(problems)


HIDDEN = re.compile(r"""\{(_|ngettext|N_)\(""")
SHADOW = re.compile(r"""def \w+\(_[,)]|lambda _\s*:""")


def hidden_messages() -> list[str]:
    """Messages inside f-string fields ({_("…")}): Babel's extractor does not see them, so they
    would never be translated; take the message out into a variable. And a parameter named
    ``_`` in a module that translates: the next ``_("…")`` in that function calls the argument."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        uses_gettext = re.search(r"^from dangan\.i18n import .*\b_\b", source, re.MULTILINE) is not None
        for n, line in enumerate(source.splitlines(), 1):
            if HIDDEN.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: a message inside an f-string is not extracted")
            if SHADOW.search(line) and uses_gettext:
                found.append(f"{path.relative_to(ROOT)}:{n}: a parameter named _ hides the translation function")
    return found


def _short(text) -> str:
    text = text[0] if isinstance(text, tuple) else text
    text = " ".join(text.split())
    return repr(text if len(text) <= 70 else text[:67] + "…")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        sys.exit(1 if check() else 0)
    else:
        print(__doc__)
        sys.exit(2)
