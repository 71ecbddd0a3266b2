"""The first admin on SQLite and PostgreSQL: the upgrade from SCANNER_PASSWORD_HASH (once,
logged once), and a deployment with neither users nor hash, which starts and says what to do."""

from __future__ import annotations

import logging

from scanner_app.accounts.first_admin import (
    BAD_HASH_MESSAGE,
    NO_USERS_MESSAGE,
    UPGRADED_MESSAGE,
)
from scanner_app.accounts.users import UsersStore
from scanner_app.db.door import upgrade_on_start
from scanner_app.scan.parts import APP_EXTENSION
from tests.accounts import PASSWORD, create_user, log_in_as, password_hash

DOWN_DATABASE = "postgresql://nobody@127.0.0.1:1/none"
SETUP_NOTE = "create the first admin with flask --app wsgi users create NAME --admin"


def production(make_app, database_url: str, **settings):
    """A production app on ``database_url`` without SCANNER_PASSWORD_HASH unless given."""
    defaults = {"SCANNER_ENV": "production", "SCANNER_PASSWORD_HASH": None}
    return make_app(**{**defaults, "DATABASE_URL": database_url, **settings})


def accounts(app) -> list[tuple[str, str]]:
    """(name, role) of every account of ``app``."""
    store = UsersStore(app.extensions[APP_EXTENSION].database)
    return [(account.username, account.role) for account in store.all()]


def test_the_old_password_hash_becomes_the_admins_once_and_is_logged_once(
    make_app, database_url, caplog
):
    caplog.set_level(logging.INFO)
    old_hash = password_hash(PASSWORD)

    first = production(make_app, database_url, SCANNER_PASSWORD_HASH=old_hash)
    second = production(make_app, database_url, SCANNER_PASSWORD_HASH=old_hash)

    assert accounts(first) == accounts(second) == [("admin", "admin")]
    assert caplog.text.count(UPGRADED_MESSAGE) == 1
    assert PASSWORD not in caplog.text
    client = second.test_client()
    assert log_in_as(client, "admin", PASSWORD).status_code == 302
    assert client.get("/admin/users").status_code == 200


def test_existing_users_are_left_alone_by_the_hash(make_app, database_url, caplog):
    app = production(make_app, database_url)
    create_user(app, "alice", role="admin")

    again = production(make_app, database_url, SCANNER_PASSWORD_HASH=password_hash("x" * 12))

    assert accounts(again) == [("alice", "admin")]
    assert UPGRADED_MESSAGE not in caplog.text


def test_without_users_or_hash_the_app_starts_and_says_how_to_create_an_admin(
    make_app, database_url, caplog
):
    app = production(make_app, database_url)

    assert NO_USERS_MESSAGE in caplog.text
    page = app.test_client().get("/login")
    assert page.status_code == 200 and SETUP_NOTE in page.get_data(as_text=True)
    create_user(app, "bob", role="admin")
    assert SETUP_NOTE not in app.test_client().get("/login").get_data(as_text=True)


def test_a_hash_that_is_no_hash_makes_no_admin_and_is_logged(make_app, database_url, caplog):
    app = production(make_app, database_url, SCANNER_PASSWORD_HASH="nosuchmethod$salt$hash")

    assert accounts(app) == []
    assert BAD_HASH_MESSAGE in caplog.text
    response = log_in_as(app.test_client(), "admin", "nosuchmethod$salt$hash")
    assert response.status_code == 401


def test_a_database_down_at_start_up_never_stops_the_app(make_app, caplog):
    app = production(make_app, DOWN_DATABASE, SCANNER_PASSWORD_HASH=password_hash(PASSWORD))

    assert "the users could not be read" in caplog.text
    client = app.test_client()
    assert client.get("/login").status_code == 200
    response = log_in_as(client, "admin", PASSWORD)
    assert response.status_code == 503
    assert "Login is unavailable while the database is down" in response.get_data(as_text=True)


def test_the_upgrade_waits_for_a_database_that_was_down(make_app, tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'late.db'}"
    app = production(
        make_app, url, SCANNER_PASSWORD_HASH=password_hash(PASSWORD), DATABASE_UPGRADE=False
    )
    assert "the users could not be read" in caplog.text  # no tables yet

    upgrade_on_start(app, app.extensions[APP_EXTENSION].database)
    response = log_in_as(app.test_client(), "admin", PASSWORD)

    assert response.status_code == 302
    assert caplog.text.count(UPGRADED_MESSAGE) == 1
