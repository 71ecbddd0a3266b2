"""The cache layout on a real Redis: lock, fencing, TTLs, one-round-trip reads, faults."""

from __future__ import annotations

import json
import pickle

import pytest
import redis

from scanner_app import create_app
from scanner_app.scan.store import (
    UNAVAILABLE_MESSAGE,
    CacheUnavailable,
    LockLost,
    Progress,
    ScanStore,
)


@pytest.fixture
def store(app) -> ScanStore:
    """The app's store, on the test Redis with the test's own prefix."""
    return app.extensions["put_scanner"].store


def _publish_one(store: ScanStore, scan_id: str, symbol: str = "AAPL") -> None:
    rows = [{"ticker": symbol, "strike": 100.0}]
    progress = Progress(scan_id=scan_id, total=1, started_at="2026-11-18T16:00:00+00:00", done=1)
    store.publish(progress, {symbol: rows}, {symbol: "2026-11-18T16:00:05+00:00"}, {}, [symbol])


class CountingClient:
    """Wraps a redis client and counts the commands sent (a pipeline counts once)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.calls = 0

    def __getattr__(self, name):
        self.calls += 1
        return getattr(self.client, name)


def test_keys_are_json_under_the_configured_prefix(store, redis_client, key_prefix):
    assert store.acquire_lock("scan-1")
    _publish_one(store, "scan-1")
    store.finish("scan-1", "Scan completed")

    assert json.loads(redis_client.get(f"{key_prefix}ticker_options")) == {
        "AAPL": [{"ticker": "AAPL", "strike": 100.0}]
    }
    assert json.loads(redis_client.get(f"{key_prefix}ticker_scan_times")) == {
        "AAPL": "2026-11-18T16:00:05+00:00"
    }
    assert json.loads(redis_client.get(f"{key_prefix}last_run")) == "Scan completed"
    assert json.loads(redis_client.get(f"{key_prefix}scan_in_progress")) == "scan-1"


def test_default_prefix_is_scanner(app_config):
    del app_config["CACHE_KEY_PREFIX"]
    store = create_app(app_config).extensions["put_scanner"].store
    assert store.key("ticker_options") == "scanner:ticker_options"
    assert store.key("scan_in_progress") == "scanner:scan_in_progress"


def test_every_key_has_a_ttl(store, redis_client, key_prefix):
    assert store.acquire_lock("scan-1")
    _publish_one(store, "scan-1")
    store.finish("scan-1", "done")

    keys = list(redis_client.scan_iter(match=f"{key_prefix}*"))
    assert len(keys) >= 7
    for key in keys:
        ttl = redis_client.ttl(key)
        limit = store.lock_ttl if key.endswith(b"scan_in_progress") else 2700
        assert 0 < ttl <= limit, key


def test_lock_is_exclusive_and_released_only_by_its_owner(store):
    assert store.acquire_lock("first")
    assert not store.acquire_lock("second")
    assert store.lock_owner() == "first"
    assert not store.release_lock("second")
    assert store.lock_owner() == "first"
    assert store.release_lock("first")
    assert store.lock_owner() is None
    assert store.acquire_lock("second")


def test_refresh_extends_only_the_owners_lock(store, redis_client, key_prefix):
    assert store.acquire_lock("owner")
    redis_client.expire(f"{key_prefix}scan_in_progress", 5)
    assert not store.refresh_lock("intruder")
    assert redis_client.ttl(f"{key_prefix}scan_in_progress") <= 5
    assert store.refresh_lock("owner")
    assert redis_client.ttl(f"{key_prefix}scan_in_progress") > 5


def test_a_scan_that_lost_its_lock_cannot_publish(store, redis_client, key_prefix):
    assert store.acquire_lock("old")
    redis_client.delete(f"{key_prefix}scan_in_progress")
    assert store.acquire_lock("new")
    _publish_one(store, "new", "MSFT")

    with pytest.raises(LockLost):
        _publish_one(store, "old", "AAPL")
    assert set(store.read_snapshot().options) == {"MSFT"}


def test_snapshot_is_one_round_trip(store):
    assert store.acquire_lock("scan-1")
    _publish_one(store, "scan-1")
    counting = CountingClient(store._read)
    store._read = counting

    snapshot = store.read_snapshot()

    assert counting.calls == 1
    assert snapshot.available and snapshot.state == "running"
    assert snapshot.options["AAPL"][0]["strike"] == 100.0
    assert snapshot.progress.done == 1 and snapshot.version == 1


def test_ticker_read_does_not_grow_with_the_watchlist(store):
    assert store.acquire_lock("scan-1")
    many = {f"T{i}": [{"strike": float(i)}] for i in range(500)}
    progress = Progress(scan_id="scan-1", total=500, started_at="2026-11-18T16:00:00+00:00")
    times = dict.fromkeys(many, "2026-11-18T16:00:01+00:00")
    store.publish(progress, many, times, {}, ["T7"])
    counting = CountingClient(store._read)
    store._read = counting

    view = store.read_ticker("T7")

    assert counting.calls == 1
    assert view.options == [{"strike": 7.0}]
    assert view.scanned_at == "2026-11-18T16:00:01+00:00"


@pytest.mark.parametrize(
    "garbage",
    [b"\x80\x81 not json", pickle.dumps({"AAPL": []}), b'["a", "list"]', b'{"AAPL": "x"}'],
)
def test_garbage_in_a_key_gives_safe_defaults(store, redis_client, key_prefix, garbage):
    redis_client.set(f"{key_prefix}ticker_options", garbage)
    snapshot = store.read_snapshot()
    assert snapshot.options == {} and snapshot.scan_times == {}
    assert snapshot.last_run == UNAVAILABLE_MESSAGE
    assert not snapshot.available


def test_redis_down_gives_defaults_and_refuses_the_lock(app_config):
    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    store = create_app(app_config).extensions["put_scanner"].store

    snapshot = store.read_snapshot()
    assert snapshot.last_run == UNAVAILABLE_MESSAGE and snapshot.options == {}
    assert store.read_version() is None
    assert not store.read_ticker("AAPL").available
    assert not store.ping()
    with pytest.raises(CacheUnavailable):
        store.acquire_lock("scan-1")


def test_set_last_run_bumps_the_version(store):
    before = store.read_version()
    store.set_last_run("Market is closed.")
    assert store.read_version() == before + 1
    assert store.read_snapshot().last_run == "Market is closed."
