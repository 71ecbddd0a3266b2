"""Databases for tests: SQLite files and a real PostgreSQL server.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: the server on 127.0.0.1:5432 as user
``postgres``, trust auth); each test run creates a database of its own there and drops it
at the end, and each test starts on empty tables. Without a server the PostgreSQL tests are
skipped with the reason, except under ``CI=true``, where that is a failure.
``database_url`` runs a test once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from scanner_app.db import database_url as open_url

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The tables emptied between tests (deleting the users takes their rows along; the
#: app's facts, such as the watchlist file imported, go too).
EMPTIED_TABLES = ("ticker_days", "qualified_contracts", "app_facts", "users")


def server_url() -> URL:
    """The administrative URL of the test PostgreSQL server."""
    return open_url(os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER, "/")


def _no_postgres(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


def create_database(name: str) -> str:
    """Create the database ``name`` on the test server; its URL as a user writes it."""
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server_url().set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    """Drop the database ``name`` from the test server, closing its connections."""
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_run_url() -> Iterator[str]:
    """A database of this test run's own on the test server, dropped at the end."""
    name = f"scanner_test_{uuid.uuid4().hex[:12]}"
    try:
        url = create_database(name)
    except SQLAlchemyError as error:
        _no_postgres(f"{server_url().render_as_string()} does not answer ({error})")
    yield url
    drop_database(name)


def empty_tables(url: str) -> None:
    """Delete every row of the history's tables and every user at ``url`` (if the tables
    exist yet)."""
    engine = create_engine(open_url(url, "/"))
    try:
        with engine.begin() as connection:
            for table in EMPTIED_TABLES:
                try:
                    with connection.begin_nested():
                        connection.execute(text(f"DELETE FROM {table}"))
                except SQLAlchemyError:
                    pass
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file of the test's own, then the run's PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.db'}"
        return
    url = request.getfixturevalue("postgres_run_url")
    empty_tables(url)
    yield url
    empty_tables(url)


def is_postgresql(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return make_url(url).get_backend_name() == "postgresql"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_run_url")  # skips (or fails under CI) without a server
    name = f"scanner_empty_{uuid.uuid4().hex[:12]}"
    url = create_database(name)
    yield url
    drop_database(name)
