"""The dangan web app: server-rendered pages and a JSON API over the same library calls."""

from dangan.web.app import create_app

__all__ = ["create_app"]
