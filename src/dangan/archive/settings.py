"""Archive-wide settings that every station and web server of one archive must agree on,
kept in the archive's database by key (e.g. which search index serves the archive)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive.models import Setting, utcnow


def get_setting(session: Session, key: str) -> str | None:
    return session.scalar(select(Setting.value).where(Setting.key == key))


def set_setting(session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    elif row.value != value:
        row.value, row.changed_at = value, utcnow()
