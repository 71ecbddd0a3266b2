"""Disabling, deleting or a new password ends every session of that user at once (a saved
copy of the cookie is refused), on SQLite and PostgreSQL; the poll asks no database who the
user is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from scanner_app.scan.parts import APP_EXTENSION
from scanner_app.web.auth.identity import NotSignedIn, current_user_id
from tests.accounts import PASSWORD, create_user, log_in_as
from tests.production import PRODUCTION

from .conftest import FROZEN_NOW

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}
NEW_PASSWORD = "a brand new password"


@pytest.fixture
def app(make_app, database_url):
    """A production app on an empty database with an admin and two members."""
    app = make_app(**PRODUCTION, DATABASE_URL=database_url)
    create_user(app, "boss", role="admin")
    create_user(app, "alice")
    create_user(app, "bob")
    return app


def cookie_of(app, username: str, password: str = PASSWORD) -> str:
    """The session cookie of a fresh login of ``username``."""
    client = app.test_client()
    assert log_in_as(client, username, password).status_code == 302
    return client.get_cookie("session").value


def replaying(app, cookie: str):
    """A new client of ``app`` that sends a saved session ``cookie``."""
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def is_live(app, cookie: str) -> bool:
    """Whether the saved ``cookie`` still opens the API (401 when it does not)."""
    status = replaying(app, cookie).get("/api/scan").status_code
    assert status in (200, 401)
    return status == 200


def users(app, *args: str, input: str | None = None):
    """Run ``flask users ARGS``; the click result."""
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


@pytest.mark.parametrize(
    ("command", "stdin"),
    [
        (["disable", "alice"], None),
        (["delete", "alice"], None),
        (["set-password", "alice", "--password-stdin"], NEW_PASSWORD),
    ],
)
def test_a_cli_change_ends_every_session_of_that_user_only(app, command, stdin):
    first, second = cookie_of(app, "alice"), cookie_of(app, "alice")
    other = cookie_of(app, "bob")
    assert is_live(app, first) and is_live(app, second)

    assert users(app, *command, input=stdin).exit_code == 0

    assert not is_live(app, first) and not is_live(app, second)
    poll = replaying(app, first).get("/scan/status", headers=HTMX)
    assert poll.status_code == 401 and "HX-Redirect" in poll.headers
    assert is_live(app, other)


def test_a_disabled_user_cannot_log_in_until_enabled(app):
    users(app, "disable", "alice")

    response = log_in_as(app.test_client(), "alice")

    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    users(app, "enable", "alice")
    assert log_in_as(app.test_client(), "alice").status_code == 302


def test_after_a_new_password_only_the_new_one_logs_in(app):
    users(app, "set-password", "alice", "--password-stdin", input=NEW_PASSWORD)

    assert log_in_as(app.test_client(), "alice").status_code == 401
    assert is_live(app, cookie_of(app, "alice", NEW_PASSWORD))


@pytest.mark.parametrize(
    ("action", "form"),
    [("disable", {}), ("delete", {}), ("password", {"password": NEW_PASSWORD})],
)
def test_an_admin_page_change_ends_the_users_sessions(app, action, form):
    saved = cookie_of(app, "alice")
    admin = app.test_client()
    log_in_as(admin, "boss")

    response = admin.post(f"/admin/users/alice/{action}", data=form)

    assert response.status_code == 303
    assert not is_live(app, saved)
    assert admin.get("/api/scan").status_code == 200


def test_a_session_of_a_deleted_user_stays_over_when_the_name_is_reused(app):
    saved = cookie_of(app, "alice")
    users(app, "delete", "alice")

    create_user(app, "alice")

    assert not is_live(app, saved)


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """The SQL statements ``app``'s database runs meanwhile."""
    statements: list[str] = []
    engine = app.extensions[APP_EXTENSION].database

    def note(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_the_unchanged_poll_and_the_users_id_cost_no_database_query(app):
    saved = cookie_of(app, "alice")
    client = replaying(app, saved)
    version = app.extensions[APP_EXTENSION].store.read_status().version
    alice = create_user(app, "alice")

    with sql_statements(app) as statements:
        poll = client.get(
            f"/scan/status?v={version}&at={int(FROZEN_NOW.timestamp())}", headers=HTMX
        )
        user_id = _id_in_request(app, saved)

    assert poll.status_code == 204
    assert user_id == alice
    assert statements == []


def _id_in_request(app, cookie: str) -> int:
    """``current_user_id()`` in a request carrying ``cookie``."""
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        return current_user_id()


def test_without_a_signed_in_user_production_names_nobody(app):
    with app.test_request_context("/"), pytest.raises(NotSignedIn):
        current_user_id()


def test_a_revocation_count_outlives_every_session_that_holds_it(
    make_app, redis_client, key_prefix
):
    """Bumps and logins give the count the session lifetime, never less than it has, and
    never make a count for a user who was never revoked."""
    app = make_app(**PRODUCTION)
    create_user(app, "alice")
    create_user(app, "bob")
    saved = cookie_of(app, "alice")
    count = f"{key_prefix}session_epoch:alice"
    lifetime = int(app.permanent_session_lifetime.total_seconds())

    assert users(app, "disable", "alice").exit_code == 0
    assert lifetime - 60 < redis_client.ttl(count) <= lifetime
    redis_client.expire(count, 5)  # as if the disabling were hours old
    users(app, "enable", "alice")
    cookie_of(app, "alice")
    assert lifetime - 60 < redis_client.ttl(count) <= lifetime
    redis_client.persist(count)  # a count written before counts expired
    cookie_of(app, "alice")
    assert lifetime - 60 < redis_client.ttl(count) <= lifetime
    redis_client.expire(count, 2 * lifetime)
    cookie_of(app, "alice")
    users(app, "disable", "alice")
    assert redis_client.ttl(count) > lifetime

    records = redis_client.scan_iter(match=f"{key_prefix}session:*")
    assert all(redis_client.ttl(record) <= redis_client.ttl(count) for record in records)
    assert not is_live(app, saved)
    cookie_of(app, "bob")
    assert not redis_client.exists(f"{key_prefix}session_epoch:bob")
