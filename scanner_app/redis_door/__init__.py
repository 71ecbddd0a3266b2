"""The one door to Redis, as flaskr's ``get_db()`` is to its database.

It owns the clients (``RedisDoor``: the only code that reads Flask-Caching's private
attributes), the names (``Keys``: every key, prefix and queue derived from
``CACHE_KEY_PREFIX``), the errors (``REDIS_ERRORS``, ``CacheUnavailable`` and the plain words
for a failure), the cache backends that store JSON, where rate-limit windows are kept, and
the eviction policy ``/healthz`` reports. Nothing else touches the clients' internals or
reads the prefix.
"""

from .backends import (
    CACHE_BACKENDS,
    InProcessRedisCache,
    JsonRedisCache,
    JsonRedisClusterCache,
    JsonRedisSentinelCache,
    JsonRedisSerializer,
    cache_backend,
)
from .client import RedisDoor, current_door
from .failures import (
    REDIS_ERRORS,
    TRANSIENT_ERRORS,
    CacheUnavailable,
    describe_error,
    redis_error_text,
)
from .keys import LOCK, Keys
from .policy import REQUIRED_POLICY, MaxmemoryPolicy
from .rate_limits import SOCKET_OPTIONS, limits_location

__all__ = [
    "CACHE_BACKENDS",
    "LOCK",
    "REDIS_ERRORS",
    "REQUIRED_POLICY",
    "SOCKET_OPTIONS",
    "TRANSIENT_ERRORS",
    "CacheUnavailable",
    "InProcessRedisCache",
    "JsonRedisCache",
    "JsonRedisClusterCache",
    "JsonRedisSentinelCache",
    "JsonRedisSerializer",
    "Keys",
    "MaxmemoryPolicy",
    "RedisDoor",
    "cache_backend",
    "current_door",
    "describe_error",
    "limits_location",
    "redis_error_text",
]
