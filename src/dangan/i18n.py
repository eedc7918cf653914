"""Translations. Every message a person reads goes through ``_()`` (or ``ngettext()``); the
source strings are English, the catalogues live in ``dangan/locale/<lang>/LC_MESSAGES``.

The language is per context (a CLI run, a web request): ``use_language()`` sets it, and
``_()`` reads it at call time, so a message is translated where it is shown. JSON keys and
codes are never translated.
"""

from __future__ import annotations

import contextvars
import gettext
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "dangan"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}  # each in its own language, never translated

_language: contextvars.ContextVar[str] = contextvars.ContextVar("dangan_language", default=DEFAULT_LANGUAGE)


def normalise(tag: str | None) -> str | None:
    """A supported language for a tag such as ``zh-CN``, ``zh_CN.UTF-8``, ``en_US`` or ``C``."""
    if not tag:
        return None
    tag = tag.split(".")[0].split("@")[0].replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en") or tag in ("c", "posix"):
        return "en"
    return None


@cache
def _translations(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def current_language() -> str:
    return _language.get()


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Messages in LANGUAGE (a tag as accepted by ``normalise``) inside the block."""
    token = _language.set(normalise(language) or DEFAULT_LANGUAGE)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def set_language(language: str | None) -> contextvars.Token[str]:
    """Set the language for the rest of this context (a CLI run, a web request: give the
    token to ``reset_language`` at its end)."""
    return _language.set(normalise(language) or DEFAULT_LANGUAGE)


def reset_language(token: contextvars.Token[str]) -> None:
    _language.reset(token)


def _(message: str) -> str:
    return _translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined (a table, a constant) and leaves
    it in English: ``_()`` translates it where it is shown."""
    return message


def archive_language() -> str:
    """The language of what the archive writes down on its own behalf and keeps as written:
    reports, QA flags of scanned pages. DANGAN_LANGUAGE (zh_CN or en), Chinese unless set; the
    same for every station and worker, whatever the operator's own locale."""
    return normalise(os.environ.get("DANGAN_LANGUAGE")) or DEFAULT_LANGUAGE


def environment_language(environ: Mapping[str, str] | None = None) -> str | None:
    """The language of messages the environment asks for, POSIX precedence: LC_ALL, then
    LC_MESSAGES, then LANG (the first one set decides; ``C``/``POSIX`` mean English)."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return normalise(env[name])
    return None


def negotiate(accept_language: str | None) -> str | None:
    """The supported language a browser prefers most (an Accept-Language header), or None."""
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _eq, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        language = normalise(tag.strip()) if tag.strip() not in ("*", "c", "C") else None
        if language and q > 0 and (best is None or (q, -i) > best[:2]):
            best = (q, -i, language)
    return best[2] if best else None


# --- how numbers and dates are written -----------------------------------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def format_date(value: date | datetime | str | None, *, table: bool = False) -> str:
    """A date as people read it: 2023年7月29日 (29 July 2023) in prose, 2023-07-29 in tables
    (where columns line up and sort). A datetime shows its time of day (HH:MM, local time) too."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            text = value.strip()
            value = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone()  # stored in UTC, read in the archive room's time
    clock = f" {value:%H:%M}" if isinstance(value, datetime) else ""
    if table:
        return f"{value:%Y-%m-%d}{clock}"
    if current_language() == "zh_CN":
        return f"{value.year}年{value.month}月{value.day}日{clock}"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}{clock}"


def count(n: int, unit: str) -> str:
    """N with its counter: 12 件, 34 页, 3 卷, 2 盒, 5 份 (12 records, 34 pages …)."""
    forms = {
        "record": lambda: ngettext("{n} record", "{n} records", n),
        "document": lambda: ngettext("{n} document", "{n} documents", n),
        "page": lambda: ngettext("{n} page", "{n} pages", n),
        "folder": lambda: ngettext("{n} folder", "{n} folders", n),
        "box": lambda: ngettext("{n} box", "{n} boxes", n),
        "file": lambda: ngettext("{n} file", "{n} files", n),
        "case": lambda: ngettext("{n} business case", "{n} business cases", n),
    }
    return forms[unit]().format(n=n)


# --- messages kept as code + parameters ------------------------------------------------------------
# A message the archive stores (a page's QA flag, a quarantine reason) is kept as its English
# source text (the msgid, marked with N_) and its parameters, as JSON: {"text": …, "params": {…}}.
# It is rendered when shown, in the reader's language, not frozen in the language of the station
# that wrote it. A parameter may itself be such a message (a clause translated on its own).


def kept(text: str, /, **params: object) -> dict[str, object]:
    """TEXT (an English message, marked N_ where written) with its PARAMS, for storing as JSON."""
    return {"text": text, "params": params}


def kept_plural(singular: str, plural: str, n: int, /, **params: object) -> dict[str, object]:
    """A message with a singular and a plural form (as ``ngettext``), chosen by N when shown."""
    return {"text": singular, "plural": plural, "n": n, "params": params}


def render(entry: Mapping[str, object] | str | None, fallback: str = "") -> str:
    """A kept message (see ``kept``) in the current language. A stored text whose template no
    longer formats (reworded since) shows FALLBACK, the words as they were first written; a
    template the catalogue does not know shows FALLBACK too, unless the reader reads English."""
    if entry is None:
        return fallback
    if isinstance(entry, str):
        return entry
    text = entry.get("text")
    if not isinstance(text, str) or not text:
        return fallback
    params = entry.get("params") or {}
    if not isinstance(params, Mapping):
        return fallback
    plural, n = entry.get("plural"), entry.get("n")
    if isinstance(plural, str) and isinstance(n, int):
        translated, english = ngettext(text, plural, n), (text if n == 1 else plural)
    else:
        translated, english = _(text), text
    if translated == english and current_language() != "en" and fallback:
        return fallback  # not in the catalogue (a template reworded since it was stored)
    values = {k: render(v) if isinstance(v, Mapping) and "text" in v else v for k, v in params.items()}
    try:
        return translated.format(**values)
    except (KeyError, IndexError, ValueError):
        return fallback or text
