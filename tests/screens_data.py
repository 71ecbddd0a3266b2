"""Users and screens for the saved-screens tests, written straight into the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, delete, insert

from scanner_app.db.account_tables import USERS
from scanner_app.db.screen_tables import ALERT_CLAIMS, ALERT_DELIVERIES, ALERT_TARGETS, SCREENS


def add_user(engine: Engine, role: str = "member", name: str | None = None) -> int:
    """A new user (the accounts work creates them in the browser later); their id."""
    with engine.begin() as connection:
        return connection.execute(
            insert(USERS).values(
                username=name or f"user-{uuid.uuid4().hex[:8]}",
                password_hash="",
                role=role,
                disabled=False,
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]


def forget_screens(engine: Engine) -> None:
    """Delete every screen, target, alert and delivery (a test starts with none)."""
    with engine.begin() as connection:
        for table in (ALERT_DELIVERIES, ALERT_CLAIMS, ALERT_TARGETS, SCREENS):
            connection.execute(delete(table))


@pytest.fixture
def no_screens_left(shared_database_url: str):
    """After the test, the shared test database keeps no screen: later tests' scans must
    not alert this test's targets."""
    yield
    engine = create_engine(shared_database_url)
    try:
        forget_screens(engine)
    finally:
        engine.dispose()
