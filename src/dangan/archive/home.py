"""The data home: one folder that holds everything an embedded installation needs.

dangan-data/
  dangan.sqlite3     the database (unless DANGAN_DB points elsewhere)
  index/             the search index
  store/             masters, derived images, sources, quarantine (content-addressed)
  classification.yaml  the site's classification scheme, if it has its own (else the shipped one)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dangan.archive.db import upgrade
from dangan.archive.store import FileStore

DEFAULT_HOME = "dangan-data"
SITE_SCHEME = "classification.yaml"


@dataclass(frozen=True)
class DataHome:
    root: Path
    db_url: str

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None, db: str | None = None) -> DataHome:
        """Settle the home and database from arguments, then environment, then defaults."""
        root = Path(home or os.environ.get("DANGAN_HOME") or DEFAULT_HOME).expanduser().resolve()
        url = db or os.environ.get("DANGAN_DB") or f"sqlite:///{root / 'dangan.sqlite3'}"
        return cls(root=root, db_url=url)

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def store_dir(self) -> Path:
        return self.root / "store"

    @property
    def site_scheme(self) -> Path:
        """The site's own classification scheme, when there is one: used instead of the shipped one."""
        return self.root / SITE_SCHEME

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.db_url).database or ""


def init_home(home: DataHome) -> dict[str, str]:
    """Create the folders and the database schema; safe to run again. Returns what exists."""

    created = {"home": str(home.root)}
    home.root.mkdir(parents=True, exist_ok=True)
    FileStore(home.store_dir).create()
    created["store"] = str(home.store_dir)
    created["database"] = redact_url(home.db_url)
    created["schema_revision"] = upgrade(home.db_url)
    return created


def redact_url(url: str) -> str:
    """A database URL fit to print: the password replaced."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True) if url else ""
