"""The one Redis door: every name from one prefix, the app's clients, and nothing around it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import scanner_app
from scanner_app.config import load_settings
from scanner_app.redis_door import (
    SOCKET_OPTIONS,
    InProcessRedisCache,
    Keys,
    RedisDoor,
    current_door,
    limits_location,
)
from tests.production import PRODUCTION, log_in

PACKAGE = Path(scanner_app.__file__).parent
DOOR = PACKAGE / "redis_door"


def test_every_namespace_comes_from_the_one_prefix_byte_for_byte():
    keys = Keys("app1:")

    assert [
        keys("puts"),
        keys.index("premium"),
        keys.earnings("AAPL"),
        keys.fundamentals("KO"),
        keys.lock,
        keys.session("abc123"),
        keys.login_limits,
        keys.market_rate_limit,
        keys.queue,
    ] == [
        "app1:puts",
        "app1:idx:premium",
        "app1:earnings:AAPL",
        "app1:fundamentals:KO",
        "app1:scan_in_progress",
        "app1:session:abc123",
        "app1:limits",
        "app1:ratelimit",
        "app1",
    ]


@pytest.mark.parametrize(
    ("prefix", "queue"),
    [("scanner:", "scanner"), ("{scanner}:", "{scanner}"), ("a:b::", "a:b"), (":", "scanner")],
)
def test_the_queue_is_the_prefix_without_its_trailing_colons(prefix, queue):
    assert Keys(prefix).queue == queue


def test_the_keys_come_from_cache_key_prefix():
    assert Keys.from_settings(load_settings({})) == Keys("scanner:")
    assert Keys.from_settings(load_settings({"CACHE_KEY_PREFIX": "x:"})).prefix == "x:"


def test_one_door_per_app_on_the_caches_own_clients(app, redis_client, key_prefix):
    door = RedisDoor.of(app)
    with app.app_context():
        assert current_door() is door
    assert RedisDoor.of(app) is door
    assert door.keys == Keys(key_prefix)

    door.write_client.set(door.keys("door-probe"), b"1")
    assert redis_client.get(f"{key_prefix}door-probe") == b"1"
    assert door.read_client.get(door.keys("door-probe")) == b"1"


def test_the_store_reader_and_policy_use_the_doors_clients_and_keys(app):
    door = RedisDoor.of(app)
    scanner = app.extensions["put_scanner"]

    assert scanner.store.write_client is door.write_client
    assert scanner.store.read_client is door.read_client
    assert scanner.store.keys.prefix == door.keys.prefix
    assert scanner.reader.client is door.read_client
    assert scanner.reader.keys is door.keys
    assert scanner.redis_policy.client is door.write_client


def test_the_in_process_cache_has_a_door_too(make_app):
    app = make_app(CACHE_BACKEND="memory")
    door = RedisDoor.of(app)

    assert isinstance(app.extensions["cache"][scanner_app.extensions.cache], InProcessRedisCache)
    door.write_client.set(door.keys("probe"), b"1")
    assert door.read_client.get(door.keys("probe")) == b"1"


def test_sessions_login_limits_and_the_queue_live_where_keys_says(make_app, redis_client):
    app = make_app(**PRODUCTION, SCAN_EXECUTOR="rq")
    keys = RedisDoor.of(app).keys

    assert log_in(app.test_client()).status_code == 302
    assert log_in(app.test_client(), "guess").status_code == 401

    assert list(redis_client.scan_iter(match=keys.session("*")))
    assert list(redis_client.scan_iter(match=f"{keys.login_limits}:*"))
    assert app.config["RQ_QUEUES"] == [keys.queue]


def test_both_rate_limits_are_kept_where_the_cache_is_each_under_its_own_prefix(redis_url):
    settings = load_settings({"REDIS_URL": redis_url, "CACHE_KEY_PREFIX": "app1:"})
    keys = Keys.from_settings(settings)

    for key_prefix in (keys.login_limits, keys.market_rate_limit):
        uri, options = limits_location(settings, key_prefix)
        assert uri == redis_url
        assert options == {"key_prefix": key_prefix, "wrap_exceptions": True, **SOCKET_OPTIONS}
    assert limits_location(load_settings({}), keys.login_limits) == ("memory://", {})


def test_a_redis_backend_without_a_url_is_where_flask_caching_puts_the_cache():
    settings = load_settings({"CACHE_BACKEND": "redis"})
    assert limits_location(settings, "p:limits")[0] == "redis://localhost:6379/0"

    settings |= {
        "CACHE_REDIS_HOST": "10.0.0.5",
        "CACHE_REDIS_PORT": 6380,
        "CACHE_REDIS_DB": 3,
        "CACHE_REDIS_PASSWORD": "secret",
    }
    uri, options = limits_location(settings, "p:limits")
    assert (uri, options["password"]) == ("redis://10.0.0.5:6380/3", "secret")


def _modules_outside_the_door() -> list[Path]:
    return [path for path in PACKAGE.rglob("*.py") if DOOR not in path.parents]


def test_only_the_door_reaches_into_flask_caching_for_its_clients():
    private = re.compile(r"_(read|write)_client\b")
    assert [path.name for path in DOOR.glob("*.py") if private.search(path.read_text())] == [
        "client.py"
    ]
    assert [path for path in _modules_outside_the_door() if private.search(path.read_text())] == []


def test_nothing_outside_the_door_reads_the_key_prefix():
    read = re.compile(r"""(\[|get\()\s*["']CACHE_KEY_PREFIX["']""")
    assert [path for path in _modules_outside_the_door() if read.search(path.read_text())] == []
