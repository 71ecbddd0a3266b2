"""Production-mode settings and a login helper, shared by the login and session tests.

``PRODUCTION`` keeps a SCANNER_PASSWORD_HASH, so a fresh database gets the user ``admin``
with ``PASSWORD`` (the upgrade path); ``log_in`` makes sure of that user in any database.
"""

from __future__ import annotations

from tests.accounts import PASSWORD, create_user, log_in_as, password_hash

ADMIN = "admin"
#: Overrides for ``make_app``: production mode, the old single password as the admin's.
PRODUCTION = {
    "SCANNER_ENV": "production",
    "SCANNER_PASSWORD_HASH": password_hash(PASSWORD),
}


def log_in(client, password: str = PASSWORD, address: str = "127.0.0.1"):
    """Post ``password`` as the user ``admin`` (made first, with ``PASSWORD``) from client
    address ``address``."""
    create_user(client.application, ADMIN, PASSWORD, role="admin")
    return log_in_as(client, ADMIN, password, address)
