"""Which Redis the app's cache is on (``CACHE_BACKEND``), and the Flask-Caching backends that
store JSON instead of pickle.

A pickle read back from Redis runs code chosen by whoever can write to Redis; JSON
cannot, and ``redis-cli`` shows it as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cachelib.serializers import RedisSerializer
from flask_caching.backends.rediscache import RedisCache, RedisClusterCache, RedisSentinelCache

from ..stored_json import load_json

#: ``CACHE_BACKEND``'s values, each with the Flask-Caching backend (``CACHE_TYPE``) it selects.
CACHE_BACKENDS = {
    "redis": "scanner_app.redis_door.backends.JsonRedisCache",
    "redis_sentinel": "scanner_app.redis_door.backends.JsonRedisSentinelCache",
    "redis_cluster": "scanner_app.redis_door.backends.JsonRedisClusterCache",
    "memory": "scanner_app.redis_door.backends.InProcessRedisCache",
}


def cache_backend(settings: Mapping[str, Any]) -> str:
    """The cache backend in use: ``CACHE_BACKEND``, else ``redis`` with a ``REDIS_URL`` and
    ``memory`` (in-process) without one."""
    if settings["CACHE_BACKEND"] is not None:
        return settings["CACHE_BACKEND"]
    return "redis" if settings["REDIS_URL"] else "memory"


class JsonRedisSerializer(RedisSerializer):
    """Values as compact UTF-8 JSON; what is not JSON reads back as None."""

    def dumps(self, value: Any, protocol: int | None = None) -> bytes:
        """Encode ``value`` (plain ints stay plain so INCR keeps working)."""
        if type(value) is int:
            return str(value).encode("ascii")
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")

    def loads(self, value: bytes | None) -> Any:
        """Decode ``value``; None for a missing key or for anything that is not strict JSON."""
        return load_json(value)


class JsonRedisCache(RedisCache):
    """Flask-Caching's Redis backend with JSON values."""

    serializer = JsonRedisSerializer()


class JsonRedisSentinelCache(RedisSentinelCache):
    """Flask-Caching's Redis Sentinel backend with JSON values."""

    serializer = JsonRedisSerializer()


class JsonRedisClusterCache(RedisClusterCache):
    """Flask-Caching's Redis Cluster backend with JSON values."""

    serializer = JsonRedisSerializer()


class InProcessRedisCache(JsonRedisCache):
    """A Redis-compatible cache inside this process (fakeredis), for a machine with no Redis.

    Single process only: a second worker would not see the first one's scans.
    """

    @classmethod
    def factory(cls, app, config, args, kwargs):  # noqa: ANN001 - Flask-Caching's signature
        """Build the cache on an in-process fakeredis server."""
        import fakeredis

        return cls(
            host=fakeredis.FakeStrictRedis(),
            key_prefix=config.get("CACHE_KEY_PREFIX"),
            default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300),
        )
