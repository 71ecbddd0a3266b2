"""Which rate a provider gets from the settings, and where its window is kept."""

from __future__ import annotations

import pytest
from limits.storage import MemoryStorage, RedisSentinelStorage, RedisStorage

from scanner_app.config import ConfigError, load_settings
from scanner_app.market.limiter_settings import (
    limits_storage,
    market_rate_limiter,
    storage_location,
)
from scanner_app.redis_door import SOCKET_OPTIONS


@pytest.mark.parametrize(
    ("environ", "name", "alias", "amount"),
    [
        ({}, "yahoo", "YAHOO_REQUESTS_PER_SECOND", 2),
        ({}, "marketdata", "MARKETDATA_REQUESTS_PER_SECOND", 10),
        ({"YAHOO_REQUESTS_PER_SECOND": "5"}, "yahoo", "YAHOO_REQUESTS_PER_SECOND", 5),
        (
            {"MARKETDATA_REQUESTS_PER_SECOND": "20"},
            "marketdata",
            "MARKETDATA_REQUESTS_PER_SECOND",
            20,
        ),
        ({"MARKET_REQUESTS_PER_SECOND": "7"}, "yahoo", "YAHOO_REQUESTS_PER_SECOND", 7),
        (
            {"MARKET_REQUESTS_PER_SECOND": "7", "YAHOO_REQUESTS_PER_SECOND": "5"},
            "yahoo",
            "YAHOO_REQUESTS_PER_SECOND",
            7,
        ),
        ({"MARKET_REQUESTS_PER_SECOND": "40"}, "demo", None, 40),
    ],
)
def test_market_requests_per_second_wins_over_the_providers_alias(environ, name, alias, amount):
    limiter = market_rate_limiter(load_settings(environ), name, alias)
    assert limiter is not None
    assert (limiter.name, limiter.limit.amount) == (name, amount)


def test_the_demo_market_has_no_limit_unless_one_is_set():
    assert market_rate_limiter(load_settings({}), "demo") is None


def test_without_redis_the_window_is_kept_in_memory():
    assert isinstance(limits_storage(load_settings({})), MemoryStorage)


def test_with_redis_the_window_is_kept_in_the_caches_redis(redis_url):
    settings = load_settings({"REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "app1:"})
    storage = limits_storage(settings)
    assert isinstance(storage, RedisStorage)
    assert storage.key_prefix == "app1:ratelimit"


def test_the_redis_location_is_the_redis_url():
    settings = load_settings({"REDIS_URL": "unix:///run/redis.sock"})
    uri, options = storage_location(settings)
    assert uri == "redis+unix:///run/redis.sock"
    assert options == {"key_prefix": "scanner:ratelimit", "wrap_exceptions": True, **SOCKET_OPTIONS}


def test_the_redis_backend_without_a_redis_url_is_a_config_error():
    with pytest.raises(ConfigError, match="CACHE_BACKEND=redis needs REDIS_URL"):
        storage_location(load_settings({"CACHE_BACKEND": "redis"}))


def test_a_sentinel_location_comes_from_the_caches_sentinel_settings():
    settings = {
        **load_settings({"CACHE_BACKEND": "redis_sentinel"}),
        "CACHE_REDIS_SENTINELS": [["10.0.0.5", 26379], ["10.0.0.6", 26379]],
        "CACHE_REDIS_SENTINEL_MASTER": "scanner",
        "CACHE_REDIS_PASSWORD": "secret",
        "CACHE_REDIS_DB": 2,
    }
    uri, options = storage_location(settings)
    assert uri == "redis+sentinel://10.0.0.5:26379,10.0.0.6:26379/scanner"
    assert (options["password"], options["db"]) == ("secret", 2)
    assert options["sentinel_kwargs"] == {"password": None, **SOCKET_OPTIONS}
    assert isinstance(limits_storage(settings), RedisSentinelStorage)  # connects lazily


def test_a_cluster_location_comes_from_the_caches_cluster_settings():
    settings = {
        **load_settings({"CACHE_BACKEND": "redis_cluster", "CACHE_KEY_PREFIX": "{scanner}:"}),
        "CACHE_REDIS_CLUSTER": "host1:6379,host2:6379",
    }
    uri, options = storage_location(settings)
    assert uri == "redis+cluster://host1:6379,host2:6379"
    assert options["key_prefix"] == "{scanner}:ratelimit"
    assert "password" not in options
