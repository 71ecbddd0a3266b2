"""The migrations, on SQLite and PostgreSQL: from empty to the newest, one step down and up
again; the app applies them itself when it starts, once however many processes start."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from scanner_app import create_app
from scanner_app.db import database_url, db, head_revision
from scanner_app.db.door import MIGRATIONS, current_revision

HISTORY_TABLES = {"ticker_days", "qualified_contracts"}
SCREEN_TABLES = {"screens", "alert_targets", "alerted_contracts", "alert_deliveries"}


def _tables(url: str) -> set[str]:
    engine = create_engine(database_url(url, "/"))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_from_empty_to_the_newest_then_one_step_down_and_up_again(app_config, empty_database_url):
    app = create_app({**app_config, "DATABASE_URL": empty_database_url, "DATABASE_UPGRADE": False})
    every_table = set(db.metadata.tables)
    assert not _tables(empty_database_url) & every_table
    engine = app.extensions["put_scanner"].database
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS)
        assert current_revision(engine) == head_revision()
        assert _tables(empty_database_url) - {"alembic_version"} == every_table

        flask_migrate.downgrade(directory=MIGRATIONS, revision="-1")
        assert current_revision(engine) != head_revision()
        assert _tables(empty_database_url) - {"alembic_version"} == every_table - SCREEN_TABLES

        flask_migrate.downgrade(directory=MIGRATIONS, revision="base")
        assert not _tables(empty_database_url) & every_table

        flask_migrate.upgrade(directory=MIGRATIONS)
        assert current_revision(engine) == head_revision()
        columns = {column["name"] for column in inspect(engine).get_columns("ticker_days")}
        assert columns == {"symbol", "date", "close", "iv30", "hv20"}


def test_the_app_applies_its_migrations_when_it_starts(app_config, empty_database_url):
    create_app({**app_config, "DATABASE_URL": empty_database_url})
    assert HISTORY_TABLES <= _tables(empty_database_url)
    app = create_app({**app_config, "DATABASE_URL": empty_database_url})  # already there
    assert current_revision(app.extensions["put_scanner"].database) == head_revision()


def test_a_database_that_does_not_answer_never_stops_the_app(app_config, caplog):
    app = create_app({**app_config, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert app.extensions["put_scanner"] is not None
    assert "did not answer at start-up" in caplog.text


def test_the_migrations_build_exactly_the_declared_tables(app_config, empty_database_url):
    app = create_app({**app_config, "DATABASE_URL": empty_database_url})
    engine = app.extensions["put_scanner"].database
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
