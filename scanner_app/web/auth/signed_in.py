"""The users behind the login: Flask-Login's signed-in user, loaded from the database, and
the users store and its admin for the current app.

Flask-Login only loads the user where a view asks for ``current_user`` (the admin page):
its template helper is off, so a page or a poll costs no database query for it. Which user
a request acts for comes from the session (see ``identity``).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from flask_login import UserMixin

from ...accounts.account_errors import AccountsUnavailable
from ...accounts.admin import UserAdmin
from ...accounts.first_admin import NO_USERS_MESSAGE, ensure_first_admin
from ...accounts.users import Account, UsersStore
from ...extensions import login_manager
from ...redis_door import current_door
from ...services import current_scanner

log = logging.getLogger(__name__)

#: Set once the first-admin check has run against a database that answered.
FIRST_ADMIN_CHECKED = "put_scanner.first_admin_checked"


class SignedInUser(UserMixin):
    """Flask-Login's view of an enabled account."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.id = account.id

    @property
    def is_admin(self) -> bool:
        """Whether the user manages the other users."""
        return self.account.is_admin


def current_users() -> UsersStore:
    """The users store of the current app."""
    return UsersStore(current_scanner().database)


def current_user_admin() -> UserAdmin:
    """The users store of the current app with the sessions they have in its Redis."""
    door = current_door()
    return UserAdmin.build(
        current_users(), door.write_client, door.keys, current_app.permanent_session_lifetime
    )


def load_user(user_id: str) -> SignedInUser | None:
    """Flask-Login's loader: the enabled account with id ``user_id`` (raises
    AccountsUnavailable when the database does not answer)."""
    try:
        account = current_users().get(int(user_id))
    except ValueError:
        return None
    return None if account is None or account.disabled else SignedInUser(account)


def check_first_admin(app: Flask) -> None:
    """Production start-up: the upgrade from SCANNER_PASSWORD_HASH, or the log's note on how
    to create the first admin (tried again at the next login when the database is down)."""
    with app.app_context():
        first_admin_checked()


def first_admin_note() -> str | None:
    """What the login page says when no user exists yet (None when the database is down)."""
    try:
        first_admin_checked()
        empty = current_users().count() == 0
    except AccountsUnavailable:
        return None
    return NO_USERS_MESSAGE if empty else None


def first_admin_checked() -> None:
    """Run the first-admin check unless it ran on an answering database already (a login
    calls it first, so the upgrade also happens when the database came up late)."""
    if current_app.extensions.get(FIRST_ADMIN_CHECKED):
        return
    password_hash = current_app.config.get("SCANNER_PASSWORD_HASH")
    if ensure_first_admin(current_users(), password_hash):
        current_app.extensions[FIRST_ADMIN_CHECKED] = True


def init_login_manager(app: Flask) -> None:
    """Flask-Login on ``app``: users from the database, no template helper (see above), and
    no cookie besides the session's (the session records in Redis make a session live)."""
    login_manager.init_app(app, add_context_processor=False)
    login_manager.user_loader(load_user)
    login_manager.session_protection = None
