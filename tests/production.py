"""Production-mode settings and a login helper, shared by the login and session tests."""

from __future__ import annotations

from werkzeug.security import generate_password_hash

PASSWORD = "pw"
#: Overrides for ``make_app``: production mode with the password "pw".
PRODUCTION = {
    "SCANNER_ENV": "production",
    "SCANNER_PASSWORD_HASH": generate_password_hash(PASSWORD),
}


def log_in(client, password: str = PASSWORD, address: str = "127.0.0.1"):
    """Post ``password`` to the login form from client address ``address``."""
    return client.post("/login", data={"password": password}, environ_base={"REMOTE_ADDR": address})
