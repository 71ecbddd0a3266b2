"""The migrations, on SQLite and PostgreSQL: from empty to the newest, one step down and up
again; the app applies them itself when it starts, once however many processes start."""

from __future__ import annotations

from datetime import UTC, datetime

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from scanner_app import create_app
from scanner_app.db import database_url, db, head_revision
from scanner_app.db.door import MIGRATIONS, current_revision
from scanner_app.db.screen_tables import ALERT_CLAIMS, SCREENS

from .screens_data import add_user

HISTORY_TABLES = {"ticker_days", "qualified_contracts"}
#: The tables one step down (before the alerts' claims) has instead of the newest's.
BEFORE_CLAIMS, CLAIMS = {"alerted_contracts"}, {"alert_claims"}


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
        before = every_table - CLAIMS | BEFORE_CLAIMS
        assert _tables(empty_database_url) - {"alembic_version"} == before

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


ALERTED = sa.table(
    "alerted_contracts",
    sa.column("screen_id", sa.Integer()),
    sa.column("contract_symbol", sa.String(32)),
    sa.column("last_alerted_at", sa.DateTime(timezone=True)),
)


def test_what_was_alerted_moves_to_claims_and_back(app_config, empty_database_url):
    """A contract per row (0003) becomes a claim per screen and time, and back."""
    app = create_app({**app_config, "DATABASE_URL": empty_database_url, "DATABASE_UPGRADE": False})
    engine = app.extensions["put_scanner"].database
    first, later = datetime(2026, 12, 1, 15, tzinfo=UTC), datetime(2026, 12, 2, 15, tzinfo=UTC)
    alerted = {("A", first), ("B", first), ("C", later)}
    with app.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS, revision="0003_screens")
        user = add_user(engine)
        with engine.begin() as connection:
            screen = connection.execute(
                sa.insert(SCREENS).values(
                    user_id=user, name="S", query="", view="puts", shared=False,
                    created_at=first, updated_at=first,
                )
            ).inserted_primary_key[0]  # fmt: skip
            rows = [
                {"screen_id": screen, "contract_symbol": c, "last_alerted_at": at}
                for c, at in alerted
            ]
            connection.execute(sa.insert(ALERTED), rows)

        flask_migrate.upgrade(directory=MIGRATIONS)
        with engine.connect() as connection:
            claims = connection.execute(sa.select(ALERT_CLAIMS)).all()
        assert {(row.screen_id, _utc(row.claimed_at), row.contracts) for row in claims} == {
            (screen, first, '["A", "B"]'),
            (screen, later, '["C"]'),
        }

        flask_migrate.downgrade(directory=MIGRATIONS, revision="-1")
        with engine.connect() as connection:
            back = connection.execute(sa.select(ALERTED)).all()
        assert {(row.contract_symbol, _utc(row.last_alerted_at)) for row in back} == alerted


def _utc(moment: datetime) -> datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
