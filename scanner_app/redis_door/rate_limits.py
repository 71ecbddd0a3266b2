"""Where the ``limits`` library keeps a rate-limit window: on the cache's Redis.

One builder for every limit the app keeps (the login throttle, the market's request rate):
the same Redis as the cache (one server, Sentinel or Cluster, from the same settings as
Flask-Caching's), or memory with the in-process cache. Each limit names its own key prefix
(``Keys.login_limits``, ``Keys.market_rate_limit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .backends import cache_backend

#: Seconds to wait for Redis before a limit check fails (the cache's own timeouts).
SOCKET_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2}


def limits_location(settings: Mapping[str, Any], key_prefix: str) -> tuple[str, dict[str, Any]]:
    """limits' storage URI and options for a window under ``key_prefix`` where the cache in
    ``settings`` is."""
    backend = cache_backend(settings)
    if backend == "memory":
        return "memory://", {}
    options: dict[str, Any] = {"key_prefix": key_prefix, "wrap_exceptions": True, **SOCKET_OPTIONS}
    url = settings["REDIS_URL"]
    if backend == "redis" and url:
        return ("redis+" + url if url.startswith("unix://") else url), options
    if settings.get("CACHE_REDIS_PASSWORD"):
        options["password"] = settings["CACHE_REDIS_PASSWORD"]
    if backend == "redis":
        return _flask_caching_default(settings), options
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


def _flask_caching_default(settings: Mapping[str, Any]) -> str:
    """The server Flask-Caching's Redis backend uses when it is given no URL."""
    host = settings.get("CACHE_REDIS_HOST", "localhost")
    port = settings.get("CACHE_REDIS_PORT", 6379)
    return f"redis://{host}:{port}/{settings.get('CACHE_REDIS_DB', 0)}"
