"""The rate limiter a market provider gets from the settings: its rate, and the storage that
shares it between processes (the cache's Redis; memory with the in-process cache)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from limits.storage import Storage, storage_from_string

from ..config import ConfigError
from ..redis_door import Keys, cache_backend, limits_location
from .throttle import RateLimiter


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
    """limits' storage URI and options for the market's window, where the cache in
    ``settings`` is (``limits_location``); a Redis backend must be given its URL."""
    if cache_backend(settings) == "redis" and not settings["REDIS_URL"]:
        raise ConfigError("CACHE_BACKEND=redis needs REDIS_URL for the market rate limit.")
    return limits_location(settings, Keys.from_settings(settings).market_rate_limit)
