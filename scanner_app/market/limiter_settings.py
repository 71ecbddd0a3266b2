"""The rate limiter a market provider gets from the settings: its rate, and the storage that
shares it between processes (the cache's Redis; memory with the in-process cache)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from limits.storage import Storage, storage_from_string

from ..config import ConfigError, cache_backend
from .throttle import RateLimiter

#: Seconds to wait for Redis before a slot request fails (the cache's own timeouts).
SOCKET_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2}


def market_rate_limiter(
    settings: Mapping[str, Any], name: str, alias: str | None = None
) -> RateLimiter | None:
    """The limiter of provider ``name``: ``MARKET_REQUESTS_PER_SECOND``, else the setting
    ``alias`` (the provider's own, with its default). None when neither is set: no limit,
    and no storage is touched."""
    per_second = settings["MARKET_REQUESTS_PER_SECOND"]
    if per_second is None and alias is not None:
        per_second = settings[alias]
    if per_second is None:
        return None
    return RateLimiter(per_second, limits_storage(settings), name)


def limits_storage(settings: Mapping[str, Any]) -> Storage:
    """limits' storage where the cache is, with its keys under
    ``<CACHE_KEY_PREFIX>ratelimit:``."""
    uri, options = storage_location(settings)
    return storage_from_string(uri, **options)


def storage_location(settings: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """limits' storage URI and options for the cache backend in ``settings``: its Redis
    (one server, Sentinel or Cluster, from the same settings as Flask-Caching's), or memory."""
    backend = cache_backend(settings)
    if backend == "memory":
        return "memory://", {}
    options: dict[str, Any] = {
        "key_prefix": f"{settings['CACHE_KEY_PREFIX']}ratelimit",
        "wrap_exceptions": True,
        **SOCKET_OPTIONS,
    }
    if backend == "redis":
        url = settings["REDIS_URL"]
        if not url:
            raise ConfigError("CACHE_BACKEND=redis needs REDIS_URL for the market rate limit.")
        return ("redis+" + url if url.startswith("unix://") else url), options
    if settings.get("CACHE_REDIS_PASSWORD"):
        options["password"] = settings["CACHE_REDIS_PASSWORD"]
    if backend == "redis_sentinel":
        sentinels = settings.get("CACHE_REDIS_SENTINELS", [("127.0.0.1", 26379)])
        nodes = ",".join(f"{host}:{port}" for host, port in sentinels)
        master = settings.get("CACHE_REDIS_SENTINEL_MASTER", "mymaster")
        options["db"] = settings.get("CACHE_REDIS_DB", 0)
        options["sentinel_kwargs"] = {
            "password": settings.get("CACHE_REDIS_SENTINEL_PASSWORD"),
            **SOCKET_OPTIONS,
        }
        return f"redis+sentinel://{nodes}/{master}", options
    return f"redis+cluster://{settings.get('CACHE_REDIS_CLUSTER', '')}", options
