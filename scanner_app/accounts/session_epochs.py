"""Ending every session of one user at once: a per-user count of revocations in Redis.

A session's record keeps the count its user had when they signed in; disabling, deleting or
giving a user a new password bumps the count, and every record holding the old count stops
being live. A user who was never revoked has count 0 (no key).

The count lives at least as long as any record that holds it: a bump, and every login
(``keep``), give it the session lifetime, never less than it has. Were it to expire first,
the count would drop back to 0 and a revoked session holding 0 would be live again.
"""

from __future__ import annotations

from datetime import timedelta

from redis import Redis

from ..redis_door import Keys

#: INCR and the TTL in one atomic step (a missing count becomes 1); ARGV[1] is the lifetime.
BUMP = """
local count = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""
#: The TTL alone, never shortened; a missing count stays missing (EXPIRE makes no key).
KEEP = """
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[1]) then
  return redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return 0
"""


class SessionEpochs:
    """The revocation counts of users, kept under ``Keys.session_epoch`` for at least
    ``lifetime`` (the session lifetime) after their last bump or login."""

    def __init__(self, client: Redis, keys: Keys, lifetime: timedelta) -> None:
        self.client = client
        self.keys = keys
        self.seconds = int(lifetime.total_seconds())
        self._bump = client.register_script(BUMP)
        self._keep = client.register_script(KEEP)

    def current(self, username: str) -> int:
        """The count of ``username`` now (raises RedisError when Redis does not answer)."""
        return epoch_value(self.client.get(self.keys.session_epoch(username)))

    def bump(self, username: str) -> None:
        """End every session ``username`` has (raises RedisError when Redis does not answer)."""
        self._bump(keys=[self.keys.session_epoch(username)], args=[self.seconds])

    def keep(self, username: str) -> None:
        """Make the count of ``username``, if any, outlive a session starting now (raises
        RedisError when Redis does not answer)."""
        self._keep(keys=[self.keys.session_epoch(username)], args=[self.seconds])


def epoch_value(raw: bytes | None) -> int:
    """A count as stored (None: no key, count 0); -1 for a value that is no count, which
    matches no record."""
    if raw is None:
        return 0
    try:
        return int(raw)
    except ValueError:
        return -1
