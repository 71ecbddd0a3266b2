"""Alembic's environment: the app's engine and tables, online migrations only.

The app's logging is left as it is (no ``fileConfig``); batch mode lets SQLite alter tables.
"""

from alembic import context
from flask import current_app

config = context.config
target_db = current_app.extensions["migrate"].db


def run_migrations_online() -> None:
    """Run the migrations on a connection of the app's engine."""
    with target_db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            **current_app.extensions["migrate"].configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run them against the database")
run_migrations_online()
