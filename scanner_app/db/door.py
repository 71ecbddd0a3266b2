"""The database door: Flask-SQLAlchemy and Flask-Migrate on the app, migrations applied at
start-up under a lock, and whether the database answers.

SQLite runs in WAL mode with a busy timeout, so the web process and local workers do not
block one another; PostgreSQL connections are checked before use, so a restarted server is
picked up again. An engine never crosses a fork: a forked worker opens its own connections.
A database that does not answer never stops the app from starting.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import flask_migrate
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from .tables import db
from .urls import database_url, is_postgresql, is_sqlite

log = logging.getLogger(__name__)

MIGRATIONS = str(Path(__file__).with_name("migrations"))
#: Seconds a connection attempt may take before the database counts as down.
CONNECT_TIMEOUT = 3
#: Milliseconds a SQLite writer waits for another one's lock.
SQLITE_BUSY_MS = 10_000
#: The PostgreSQL advisory lock that one process holds while it migrates.
MIGRATION_LOCK_ID = 4_172_036_517

migrate = flask_migrate.Migrate(directory=MIGRATIONS)
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    """In a forked child: drop the parent's pooled connections without closing them."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_connections_after_fork)


def close_all() -> None:
    """Close every engine's pooled connections (at shutdown, or after a test)."""
    for engine in list(_ENGINES):
        engine.dispose()


def _engine_options(url: URL) -> dict[str, Any]:
    if is_sqlite(url):
        return {"connect_args": {"timeout": SQLITE_BUSY_MS / 1000}}
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": CONNECT_TIMEOUT}}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL (readers never wait for the writer), a busy timeout for writers, and foreign keys
    enforced (a deleted user takes their rows along)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_db(app: Flask) -> Engine:
    """Attach the database named by ``DATABASE_URL`` to ``app``, bring its schema up to
    date (unless ``DATABASE_UPGRADE`` is False) and return its engine."""
    url = database_url(app.config.get("DATABASE_URL"), app.instance_path)
    if is_sqlite(url) and url.database:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(url))
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    with app.app_context():
        engine = db.engine
    if is_sqlite(url):
        event.listen(engine, "connect", _sqlite_pragmas)
    _ENGINES.add(engine)
    if app.config.get("DATABASE_UPGRADE", True):
        upgrade_on_start(app, engine)
    return engine


def is_sqlite_app(app: Flask) -> bool:
    """Whether ``app``'s database is a SQLite file."""
    return is_sqlite(app.config["SQLALCHEMY_DATABASE_URI"])


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration's revision."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty one)."""
    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except SQLAlchemyError:
            return None
    return None if row is None else row[0]


def upgrade_on_start(app: Flask, engine: Engine) -> bool:
    """Apply the migrations the database lacks, one process at a time; False (logged, the
    app still starts) when the database does not answer."""
    try:
        if current_revision(engine) == head_revision():
            return True
        with _migration_lock(engine), app.app_context():
            if current_revision(engine) != head_revision():
                log.info("applying database migrations to %s", _shown(engine.url))
                flask_migrate.upgrade(directory=MIGRATIONS)
    except (SQLAlchemyError, OSError) as error:
        log.warning(
            "the database %s did not answer at start-up (%s): history is not saved until it does",
            _shown(engine.url),
            describe_database_error(error),
        )
        return False
    return True


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Held by one process at a time: a lock file beside a SQLite database, an advisory lock
    on PostgreSQL."""
    url = engine.url
    if is_postgresql(url):
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
        return
    if not url.database or url.database == ":memory:":
        yield
        return
    with open(f"{url.database}.migrate-lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def database_reachable(engine: Engine) -> str | None:
    """None when the database answers a query, else why not."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        return describe_database_error(error)
    return None


def stored_time(moment: datetime) -> datetime:
    """A time read back from a ``DateTime(timezone=True)`` column as an aware UTC time:
    the app writes UTC, and SQLite gives it back without its zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def describe_database_error(error: BaseException) -> str:
    """A failure of the database in a few plain words (first line of the driver's message)."""
    original = getattr(error, "orig", None) or error
    text_ = str(original).strip().splitlines()
    first = text_[0] if text_ else type(original).__name__
    return f"the database did not answer: {first}"


def _shown(url: URL) -> str:
    """``url`` without its password, for the log."""
    return url.render_as_string(hide_password=True)
