"""The users store on SQLite and PostgreSQL: names, password rules, authentication, changes,
and a database that does not answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from scanner_app.accounts.account_errors import (
    AccountsUnavailable,
    BadPassword,
    BadRole,
    BadUsername,
    LastAdmin,
    UnknownUser,
    UsernameTaken,
)
from scanner_app.accounts.local_user import local_user_id
from scanner_app.accounts.passwords import is_password_hash, password_matches
from scanner_app.accounts.users import UsersStore
from scanner_app.db.account_tables import User, WatchlistRow
from scanner_app.scan.parts import APP_EXTENSION

GOOD = "a good long password"
DOWN_DATABASE = "postgresql://nobody@127.0.0.1:1/none"


@pytest.fixture
def store(make_app, database_url) -> UsersStore:
    """The users store of an app on an empty database (SQLite, then PostgreSQL)."""
    app = make_app(DATABASE_URL=database_url)
    return UsersStore(app.extensions[APP_EXTENSION].database)


def stored_hash(store: UsersStore, username: str) -> str:
    """The password hash stored for ``username``."""
    with Session(store.engine) as session:
        return session.scalar(select(User.password_hash).where(User.username == username))


def test_a_new_user_has_a_scrypt_hash_never_the_password(store):
    account = store.create("Alice", GOOD)

    assert (account.username, account.role, account.disabled) == ("alice", "member", False)
    password_hash = stored_hash(store, "alice")
    assert password_hash.startswith("scrypt:") and GOOD not in password_hash
    assert check_password_hash(password_hash, GOOD)
    assert store.find("ALICE") == account
    assert store.count() == 1


def test_a_taken_name_is_refused_whatever_its_case(store):
    store.create("bob", GOOD, "admin")

    with pytest.raises(UsernameTaken, match="A user named bob exists already."):
        store.create(" Bob ", GOOD)
    assert store.count() == 1


@pytest.mark.parametrize("name", ["", "   ", "has space", "-dash-first", "x" * 65, "semi;colon"])
def test_a_bad_name_is_refused_with_the_rule(store, name):
    with pytest.raises(BadUsername, match="A username has 1 to 64 characters"):
        store.create(name, GOOD)


def test_local_modes_name_is_kept(store):
    with pytest.raises(BadUsername, match="kept for local mode"):
        store.create("local", GOOD)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "The password is empty."),
        ("eleven char", "The password must have at least 12 characters."),
        ("x" * 1025, "The password must have at most 1024 characters."),
    ],
)
def test_the_password_rules(store, password, message):
    with pytest.raises(BadPassword, match=f"^{message}$"):
        store.create("carol", password)
    assert store.count() == 0


def test_a_role_is_admin_or_member(store):
    with pytest.raises(BadRole, match="The role must be admin or member."):
        store.create("dave", GOOD, "owner")


def test_authenticate_opens_only_the_right_password_of_an_enabled_user(store):
    store.create("erin", GOOD)

    assert store.authenticate("Erin", GOOD).username == "erin"
    assert store.authenticate("erin", GOOD + "!") is None
    assert store.authenticate("erin", "") is None
    assert store.authenticate("nobody", GOOD) is None
    assert store.authenticate("not a name!", GOOD) is None
    store.set_disabled("erin", True)
    assert store.authenticate("erin", GOOD) is None
    store.set_disabled("erin", False)
    assert store.authenticate("erin", GOOD) is not None


def test_local_modes_user_neither_signs_in_nor_is_listed(store):
    local_user_id(store.engine)
    store.create("frank", GOOD)

    assert store.authenticate("local", "") is None
    assert [account.username for account in store.all()] == ["frank"]
    assert store.count() == 1


def test_a_new_password_replaces_the_old(store):
    store.create("grace", GOOD)

    store.set_password("grace", "another long password")

    assert store.authenticate("grace", GOOD) is None
    assert store.authenticate("grace", "another long password") is not None
    with pytest.raises(BadPassword):
        store.set_password("grace", "short")
    with pytest.raises(UnknownUser, match="No user is named 'nobody'."):
        store.set_password("nobody", GOOD)


def test_deleting_a_user_takes_their_watchlist_along(store):
    account = store.create("heidi", GOOD)
    with Session(store.engine) as session:
        session.add(WatchlistRow(user_id=account.id, symbol="AAPL", position=0, assumptions={}))
        session.commit()

    store.delete("heidi")

    with Session(store.engine) as session:  # (the app's start seeded another user's list)
        theirs = select(WatchlistRow).where(WatchlistRow.user_id == account.id)
        assert session.scalars(theirs).all() == []
    with pytest.raises(UnknownUser):
        store.find("heidi")


def test_the_last_enabled_admin_is_kept(store):
    store.create("ivan", GOOD, "admin")
    store.create("judy", GOOD)

    with pytest.raises(LastAdmin, match="ivan is the only enabled admin"):
        store.set_disabled("ivan", True)
    with pytest.raises(LastAdmin):
        store.delete("ivan")
    store.create("ken", GOOD, "admin")
    store.set_disabled("ivan", True)
    with pytest.raises(LastAdmin):
        store.delete("ken")
    store.delete("judy")


def test_a_login_is_recorded(store):
    account = store.create("leo", GOOD)
    assert account.last_login_at is None

    store.record_login(account.id)

    assert store.find("leo").last_login_at is not None


def test_a_database_that_does_not_answer_is_said_so(make_app):
    app = make_app(DATABASE_URL=DOWN_DATABASE)
    store = UsersStore(app.extensions[APP_EXTENSION].database)

    for attempt in (store.all, store.count, lambda: store.create("mallory", GOOD)):
        with pytest.raises(AccountsUnavailable, match="^Nothing changed: the database did not"):
            attempt()


def test_password_checks_refuse_what_is_no_hash():
    assert is_password_hash("scrypt:32768:8:1$salt$" + "ab" * 32)
    for value in ("", "x", "nosuchmethod$salt$hash", "scrypt:1:1:1$$"):
        assert not is_password_hash(value)
        assert not password_matches(value, "anything")
    assert not password_matches(None, "anything")
