"""Redis failures: the errors that mean Redis could not be used, and what they say in plain
words, for whatever people read: pages, JSON, stored messages.

Redis's own text ("OOM command not allowed when used memory > 'maxmemory'.", "Error 111
connecting to 10.0.0.5:6379") names hosts and internals and tells a user nothing they
can act on; the exception itself still goes to the logs where it is caught.
"""

from __future__ import annotations

import re

import redis
from redis import exceptions

OUT_OF_MEMORY = "Redis is full (maxmemory reached, noeviction)"
UNREACHABLE = "Redis is unreachable"
TIMED_OUT = "Redis did not answer in time"
LOADING = "Redis is loading its data after a restart"
READ_ONLY = "Redis is read-only (a replica, or a failover is under way)"
REFUSED_LOGIN = "Redis refused the app's credentials"
REFUSED_COMMAND = "Redis refused the app a command it needs (ACL permissions)"
NOT_SAVING = "Redis refuses writes because it could not save its data to disk"
BUSY = "Redis is busy running a slow script"
WRONG_TYPE = "A Redis key holds a value of the wrong type (was it changed by hand?)"
CLUSTER_DOWN = "The Redis cluster is down"
OTHER = "Redis answered with an error"

#: Errors that mean Redis could not be used (down, timed out, answered with an error).
REDIS_ERRORS = (redis.RedisError, OSError)
#: Errors that may pass: Redis unreachable or slow, not refusing the command.
TRANSIENT_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)

#: Checked in order: a subclass comes before its base class.
_BY_CLASS: tuple[tuple[type[Exception], str], ...] = (
    (exceptions.OutOfMemoryError, OUT_OF_MEMORY),
    (exceptions.BusyLoadingError, LOADING),
    (exceptions.ReadOnlyError, READ_ONLY),
    (exceptions.AuthenticationError, REFUSED_LOGIN),
    (exceptions.AuthorizationError, REFUSED_COMMAND),
    (exceptions.NoPermissionError, REFUSED_COMMAND),
    (exceptions.ClusterDownError, CLUSTER_DOWN),
    (exceptions.TimeoutError, TIMED_OUT),
    (exceptions.ConnectionError, UNREACHABLE),
)
#: Error codes that redis-py leaves in the message (no class of their own), or that a
#: script or a pipeline wraps in its own text.
_BY_CODE = {
    "OOM": OUT_OF_MEMORY,
    "MISCONF": NOT_SAVING,
    "BUSY": BUSY,
    "WRONGTYPE": WRONG_TYPE,
    "READONLY": READ_ONLY,
    "LOADING": LOADING,
    "NOPERM": REFUSED_COMMAND,
}
_CODE = re.compile(r"\b(" + "|".join(_BY_CODE) + r")\b")


def redis_error_text(error: BaseException) -> str:
    """A failure to use Redis (a RedisError, or a socket error under one) in plain words."""
    for kind, words in _BY_CLASS:
        if isinstance(error, kind):
            return words
    if not isinstance(error, exceptions.RedisError):
        return UNREACHABLE  # a socket error that redis-py did not wrap
    code = _CODE.search(str(error))
    return _BY_CODE[code.group(1)] if code else OTHER


def describe_error(error: BaseException) -> str:
    """How any ``error`` reads for people: a Redis failure in plain words, anything else
    as its own message."""
    return redis_error_text(error) if isinstance(error, exceptions.RedisError) else str(error)


class CacheUnavailable(Exception):
    """Redis could not be used (down, timed out, out of memory...); the message says why in
    plain words, never in Redis's own text."""

    @classmethod
    def because(cls, error: BaseException) -> CacheUnavailable:
        """The exception for a failure to use Redis, ``error``."""
        return cls(redis_error_text(error))
