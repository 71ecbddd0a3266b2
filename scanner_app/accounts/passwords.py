"""Password rules and hashes: at least 12 characters, hashed with werkzeug's scrypt.

A check against a user who does not exist still runs one full hash check (against a dummy
hash of the same kind), so the time a login takes does not tell names apart.
"""

from __future__ import annotations

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from .account_errors import BadPassword

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
#: The key derivations werkzeug checks (scrypt is its default).
HASH_METHODS = frozenset({"scrypt", "pbkdf2"})


def checked_password(password: str) -> str:
    """``password`` when it follows the rules; else BadPassword saying which rule it breaks."""
    if not password:
        raise BadPassword("The password is empty.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadPassword(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadPassword(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    """The scrypt hash of ``password`` (after checking the rules)."""
    return generate_password_hash(checked_password(password))


def is_password_hash(value: str) -> bool:
    """Whether ``value`` has the shape of a werkzeug hash (``scrypt:...$salt$hash`` or
    ``pbkdf2:...$salt$hash``)."""
    parts = value.split("$")
    return len(parts) == 3 and all(parts) and parts[0].split(":")[0] in HASH_METHODS


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; with no usable hash, the same work is
    done against a dummy one and the answer is False."""
    usable = password_hash is not None and is_password_hash(password_hash)
    try:
        matches = check_password_hash(password_hash if usable else _dummy_hash(), password)
    except ValueError:  # a hash of the right shape with parameters werkzeug refuses
        return False
    return usable and bool(password) and matches


@cache
def _dummy_hash() -> str:
    """A hash of a random password, made once per process, for checks without a user."""
    return generate_password_hash(secrets.token_urlsafe(16))
