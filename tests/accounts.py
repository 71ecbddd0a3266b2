"""Users for tests: make one (or bring an existing one back to a password and role), and
log in as them through the login form.

Hashes are made once per password and process, so making a user costs one database write.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from scanner_app.db.account_tables import User
from scanner_app.scan.parts import APP_EXTENSION

#: The password the helpers use unless told otherwise (it follows the password rules).
PASSWORD = "correct horse battery"


@cache
def password_hash(password: str) -> str:
    """The scrypt hash of ``password``, made once per process."""
    return generate_password_hash(password)


def create_user(app, username: str, password: str = PASSWORD, role: str = "member") -> int:
    """The id of the enabled user ``username`` of ``app``'s database with ``password`` and
    ``role``: created, or brought back to them (unchanged when they match already)."""
    wanted_hash = password_hash(password)
    with Session(app.extensions[APP_EXTENSION].database) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, created_at=datetime.now(UTC))
            session.add(user)
        if (user.password_hash, user.role, user.disabled) != (wanted_hash, role, False):
            user.password_hash, user.role, user.disabled = wanted_hash, role, False
            session.commit()
        return user.id


def log_in_as(client, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    """Post ``username`` and ``password`` to the login form from client address ``address``."""
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
