"""Ending every session of one user at once: a per-user count of revocations in Redis.

A session's record keeps the count its user had when they signed in; disabling, deleting or
giving a user a new password bumps the count (``INCR``, one atomic step), and every record
holding the old count stops being live. A user who was never revoked has count 0 (no key).
"""

from __future__ import annotations

from redis import Redis

from ..redis_door import Keys


class SessionEpochs:
    """The revocation counts of users, kept under ``Keys.session_epoch``."""

    def __init__(self, client: Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    def current(self, username: str) -> int:
        """The count of ``username`` now (raises RedisError when Redis does not answer)."""
        return epoch_value(self.client.get(self.keys.session_epoch(username)))

    def bump(self, username: str) -> None:
        """End every session ``username`` has (raises RedisError when Redis does not answer)."""
        self.client.incr(self.keys.session_epoch(username))


def epoch_value(raw: bytes | None) -> int:
    """A count as stored (None: no key, count 0); -1 for a value that is no count, which
    matches no record."""
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        return -1
