"""Database URLs: ``DATABASE_URL`` as written, made into the URL SQLAlchemy opens.

A plain ``postgresql://user@host/db`` (or Heroku's ``postgres://``) opens with psycopg 3;
without ``DATABASE_URL`` the database is a SQLite file in the instance folder.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url

#: The SQLite file in the instance folder that serves when ``DATABASE_URL`` is unset.
DEFAULT_FILE = "scanner.db"
_POSTGRES_SCHEMES = ("postgresql", "postgres")


def database_url(raw: str | None, instance_path: str) -> URL:
    """The URL to open: ``raw`` with PostgreSQL on psycopg 3, or the instance folder's SQLite
    file when ``raw`` is None."""
    if raw is None:
        return make_url(f"sqlite:///{Path(instance_path) / DEFAULT_FILE}")
    url = make_url(raw)
    if url.drivername in _POSTGRES_SCHEMES:
        url = url.set(drivername="postgresql+psycopg")
    return url


def is_sqlite(url: URL) -> bool:
    """Whether ``url`` names a SQLite database."""
    return url.get_backend_name() == "sqlite"


def is_postgresql(url: URL) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return url.get_backend_name() == "postgresql"


def check_url(raw: str) -> str:
    """``raw`` if SQLAlchemy can read it as a SQLite or PostgreSQL URL; ValueError says what
    is accepted (the settings' parser)."""
    value = raw.strip()
    try:
        url = database_url(value, "/")
    except Exception:  # noqa: BLE001 - any unreadable URL gets the same answer
        url = None
    if url is None or not (is_sqlite(url) or is_postgresql(url)):
        raise ValueError(
            "a SQLite or PostgreSQL URL, e.g. sqlite:////srv/scanner.db or "
            "postgresql://user@host/dbname"
        )
    return value
