"""The JSON serializer and the choice of Flask-Caching Redis backend."""

from __future__ import annotations

import json
import pickle

import pytest

from scanner_app import create_app
from scanner_app.extensions import cache
from scanner_app.redis_door import (
    CACHE_BACKENDS,
    JsonRedisClusterCache,
    JsonRedisSentinelCache,
    JsonRedisSerializer,
)


def test_values_are_json_and_ints_stay_plain_for_incr():
    serializer = JsonRedisSerializer()
    assert serializer.dumps({"AAPL": [{"strike": 100.0}]}) == b'{"AAPL":[{"strike":100.0}]}'
    assert serializer.dumps(7) == b"7"
    assert serializer.loads(b'{"a":1}') == {"a": 1}


def test_a_pickle_is_never_unpickled():
    payload = pickle.dumps({"AAPL": []})
    assert JsonRedisSerializer().loads(payload) is None


def test_nan_is_refused_rather_than_written_as_invalid_json():
    with pytest.raises(ValueError):
        JsonRedisSerializer().dumps({"iv": float("nan")})


def test_flask_caching_reads_back_what_it_wrote(app, redis_client, key_prefix):
    with app.app_context():
        cache.set("probe", {"x": [1, 2]})
        assert cache.get("probe") == {"x": [1, 2]}
    assert json.loads(redis_client.get(f"{key_prefix}probe")) == {"x": [1, 2]}


def test_sentinel_is_a_setting_away(app_config):
    """Sentinel connects lazily, so its backend can be built with no sentinel running."""
    sentinels = {"CACHE_REDIS_SENTINELS": [("127.0.0.1", 26379)]}
    app = create_app({**app_config, "CACHE_BACKEND": "redis_sentinel", **sentinels})
    backend_cache = app.extensions["cache"][cache]
    assert isinstance(backend_cache, JsonRedisSentinelCache)
    assert isinstance(backend_cache.serializer, JsonRedisSerializer)


def test_the_cluster_backend_stores_json_too():
    """A cluster client asks its nodes for their slots as it is built; there is no cluster
    here, so this checks the class the CACHE_BACKEND=redis_cluster setting selects."""
    assert isinstance(JsonRedisClusterCache.serializer, JsonRedisSerializer)
    assert CACHE_BACKENDS["redis_cluster"].endswith(".JsonRedisClusterCache")
