"""The first admin: the upgrade from one shared password, or how to create one.

A deployment that still sets ``SCANNER_PASSWORD_HASH`` and has no users gets a user
``admin`` (role admin) with that hash, so the old password keeps working; with neither, the
log says how to create the first admin. Only the process whose insert wins logs the upgrade.
"""

from __future__ import annotations

import logging

from .account_errors import AccountError, UsernameTaken
from .passwords import is_password_hash
from .users import ADMIN, UsersStore

log = logging.getLogger(__name__)

UPGRADE_USERNAME = "admin"
CREATE_ADMIN_COMMAND = "flask --app wsgi users create NAME --admin"
NO_USERS_MESSAGE = f"No user can sign in yet: create the first admin with {CREATE_ADMIN_COMMAND}."
UPGRADED_MESSAGE = (
    "Created the user admin (role admin) with the password of SCANNER_PASSWORD_HASH: sign in "
    "as admin with the old password, then create everyone's own account at /admin/users."
)
BAD_HASH_MESSAGE = (
    "SCANNER_PASSWORD_HASH is not a password hash (make one with flask --app wsgi "
    "hash-password): no admin was created from it."
)


def ensure_first_admin(users: UsersStore, password_hash: str | None) -> bool:
    """Create ``admin`` from ``password_hash`` when there are no users yet (logged), or log
    how to create the first admin; False (logged) when the database did not answer."""
    try:
        if users.count():
            return True
        if not password_hash:
            log.warning(NO_USERS_MESSAGE)
            return True
        if not is_password_hash(password_hash):
            log.error(BAD_HASH_MESSAGE)
            return True
        users.create_with_hash(UPGRADE_USERNAME, password_hash, ADMIN)
    except UsernameTaken:  # another process made it first, and said so
        return True
    except AccountError as error:
        log.warning("the users could not be read (%s): checked again at the next login", error)
        return False
    log.warning(UPGRADED_MESSAGE)
    return True
