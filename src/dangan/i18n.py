"""Translations. Every message a person reads goes through ``_()`` (or ``ngettext()``); the
source strings are English, the catalogues live in ``dangan/locale/<lang>/LC_MESSAGES``.

The language is per context (a CLI run, a web request): ``use_language()`` sets it, and
``_()`` reads it at call time, so a message is translated where it is shown. JSON keys and
codes are never translated.
"""

from __future__ import annotations

import contextvars
import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "dangan"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES = ("zh_CN", "en")

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


def set_language(language: str | None) -> str:
    """Set the language for the rest of this context (a CLI run)."""
    _language.set(normalise(language) or DEFAULT_LANGUAGE)
    return _language.get()


def _(message: str) -> str:
    return _translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations(_language.get()).ngettext(singular, plural, n)
