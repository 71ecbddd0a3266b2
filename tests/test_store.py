"""The cache layout on a real Redis: lock, fencing, TTLs, one-round-trip reads, faults."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import pytest
import redis

from scanner_app import create_app
from scanner_app.extensions import cache
from scanner_app.redis_door import CacheUnavailable
from scanner_app.scan.store import (
    NEVER_RUN_MESSAGE,
    RECORD,
    RECORD_SECONDS,
    UNAVAILABLE_MESSAGE,
    LockLost,
    Progress,
    Pulse,
    RunFacts,
    ScanStore,
    TickerResult,
)
from scanner_app.user_watchlists.copies import COPY_TTL
from scanner_app.web.dashboard.ticker_summaries import TickerSummary

from .scan_results import SCANNED_AT, STARTED_AT


@pytest.fixture
def scanner(app):
    """The app's scanner, on the test Redis with the test's own prefix."""
    return app.extensions["put_scanner"]


@pytest.fixture
def store(scanner) -> ScanStore:
    """The app's store."""
    return scanner.store


def _begin(store: ScanStore, scan_id: str, total: int = 1) -> None:
    store.begin(Progress(scan_id=scan_id, total=total, started_at=STARTED_AT))


def _publish_one(store: ScanStore, scan_id: str, symbol: str = "AAPL") -> int:
    rows = [{"ticker": symbol, "strike": 100.0}]
    return store.publish(scan_id, [TickerResult(symbol, SCANNED_AT, rows)], None)


def _facts(scan_id: str, puts: int = 1) -> RunFacts:
    return RunFacts(scan_id, "completed", SCANNED_AT, tickers=1, puts=puts, failed=0)


class CountingClient:
    """Wraps a redis client and counts the commands sent (a pipeline counts once)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.client, name)


def test_keys_are_json_under_the_configured_prefix(app, store, redis_client, key_prefix):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1")
    _publish_one(store, "scan-1")
    assert store.assemble("scan-1") == (1, 1)
    store.finish("scan-1", "Scan completed", _facts("scan-1"))

    assert json.loads(redis_client.get(f"{key_prefix}ticker_options")) == {
        "AAPL": [{"ticker": "AAPL", "strike": 100.0}]
    }
    assert json.loads(redis_client.get(f"{key_prefix}ticker_scan_times")) == {"AAPL": SCANNED_AT}
    assert json.loads(redis_client.get(f"{key_prefix}last_run")) == "Scan completed"
    assert json.loads(redis_client.get(f"{key_prefix}scan_in_progress")) == "scan-1"
    assert json.loads(redis_client.get(f"{key_prefix}last_run_facts")) == _facts("scan-1").__dict__
    # the contract keys stay readable with Flask-Caching itself
    with app.app_context():
        assert cache.get("ticker_options") == {"AAPL": [{"ticker": "AAPL", "strike": 100.0}]}
        assert cache.get("ticker_scan_times") == {"AAPL": SCANNED_AT}
        assert cache.get("last_run") == "Scan completed"


def test_the_working_set_is_a_fixed_set_of_keys(store, redis_client, key_prefix):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1", total=50)
    results = [TickerResult(f"T{i}", SCANNED_AT, [{"strike": float(i)}]) for i in range(50)]
    store.publish("scan-1", results, None)
    store.assemble("scan-1")
    store.finish("scan-1", "done", _facts("scan-1", puts=50))

    names = {key.decode()[len(key_prefix) :] for key in redis_client.scan_iter(f"{key_prefix}*")}
    assert not any(name.startswith("ticker:") for name in names)
    assert "ticker_errors" not in names
    assert len(names) < 50
    assert redis_client.hlen(f"{key_prefix}puts") == 50
    assert redis_client.zcard(f"{key_prefix}listed") == 50


def test_default_prefix_is_scanner(app_config):
    del app_config["CACHE_KEY_PREFIX"]
    store = create_app(app_config).extensions["put_scanner"].store
    assert store.key("ticker_options") == "scanner:ticker_options"
    assert store.key("scan_in_progress") == "scanner:scan_in_progress"


def test_every_key_has_a_ttl(store, redis_client, key_prefix):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1")
    _publish_one(store, "scan-1")
    store.publish("scan-1", [TickerResult("KO", SCANNED_AT, [], error="timed out")], None)
    store.assemble("scan-1")
    store.finish("scan-1", "done", _facts("scan-1"))

    keys = list(redis_client.scan_iter(match=f"{key_prefix}*"))
    assert len(keys) >= 12
    known = {*store.keys.results(), store.key("scan_in_progress"), store.key(RECORD)}
    # the watchlists' copies, written when the app started (see test_user_watchlists)
    copies = {
        store.keys.universe,
        *(key.decode() for key in redis_client.scan_iter(match=f"{key_prefix}user:*")),
    }
    known |= copies
    assert {key.decode() for key in keys} <= known
    for key in keys:
        ttl = redis_client.ttl(key)
        limit = store.lock_ttl if key.endswith(b"scan_in_progress") else 2700
        if key.endswith(RECORD.encode()):  # outlives the results, to say they expired
            limit = 2700 + RECORD_SECONDS
        if key.decode() in copies:
            limit = COPY_TTL
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


def test_a_scan_that_lost_its_lock_cannot_write(scanner, store, redis_client, key_prefix):
    assert store.acquire_lock("old")
    redis_client.delete(f"{key_prefix}scan_in_progress")
    assert store.acquire_lock("new")
    _begin(store, "new")
    _publish_one(store, "new", "MSFT")

    with pytest.raises(LockLost):
        _publish_one(store, "old", "AAPL")
    with pytest.raises(LockLost):
        _begin(store, "old")
    with pytest.raises(LockLost):
        store.assemble("old")
    with pytest.raises(LockLost):
        store.finish("old", "old scan done", _facts("old"))
    puts, _times, _errors, _partial = scanner.reader.read_everything()
    assert set(puts) == {"MSFT"}
    assert store.read_status().progress.scan_id == "new"
    assert store.read_status().last_run == NEVER_RUN_MESSAGE


def test_status_is_one_round_trip(store):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1", total=2)
    version = _publish_one(store, "scan-1")
    counting = CountingClient(store.read_client)
    store.read_client = counting

    status = store.read_status()

    assert counting.calls == ["mget"]
    assert status.available and status.state == "running"
    assert status.running_scan == "scan-1"
    assert status.progress.done == 1 and status.progress.total == 2
    assert status.version == version == 2  # begin, then one publish


def test_the_pulse_is_one_round_trip_with_the_extra_keys(store, redis_client, key_prefix):
    assert store.acquire_lock("scan-1")
    version = _publish_one(store, "scan-1")
    redis_client.set(f"{key_prefix}extra", b"raw")
    counting = CountingClient(store.read_client)
    store.read_client = counting

    pulse, extra = store.read_pulse(f"{key_prefix}extra", f"{key_prefix}missing")
    version_only, _ = store.read_pulse(heartbeat=False)

    assert counting.calls == ["mget", "get"]  # a single key is a GET
    assert (pulse.version, pulse.running_scan) == (version, "scan-1")
    assert pulse.heartbeat.scan_id == "scan-1" and extra == [b"raw", None]
    assert version_only == Pulse(version, None, None)


def test_publish_counts_its_tickers_in_the_stored_progress(store):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1", total=5)
    store.publish(
        "scan-1",
        [
            TickerResult("AAPL", SCANNED_AT, [{"strike": 1.0}]),
            TickerResult("KO", SCANNED_AT, [], error="timed out"),
        ],
        "TSLA",
    )
    store.publish("scan-1", [TickerResult("MSFT", SCANNED_AT, [])], None)

    progress = store.read_status().progress
    assert (progress.done, progress.failed, progress.current) == (3, 1, None)
    assert (progress.scan_id, progress.total, progress.started_at) == ("scan-1", 5, STARTED_AT)


def test_a_page_is_one_round_trip(scanner, store):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1")
    _publish_one(store, "scan-1")
    scanner.reader.read_page(None, 0, 50, descending=False)  # Redis now caches the script
    counting = CountingClient(scanner.reader.client)
    scanner.reader.client = counting
    scanner.reader._page.registered_client = counting

    listing = scanner.reader.read_page(None, 0, 50, descending=False)

    assert len(counting.calls) == 1
    assert listing.available and listing.symbols == ["AAPL"] and listing.listed == 1
    assert listing.summaries["AAPL"]["lowest_strike"] == 100.0


def test_ticker_read_does_not_grow_with_the_watchlist(scanner, store):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1", total=500)
    many = [
        TickerResult(f"T{i}", "2026-11-18T16:00:01+00:00", [{"strike": float(i)}])
        for i in range(500)
    ]
    store.publish("scan-1", many, None)
    counting = CountingClient(scanner.reader.client)
    scanner.reader.client = counting

    view = scanner.reader.read_ticker("T7")

    assert counting.calls == ["pipeline"]
    assert view.options == [{"strike": 7.0}]
    assert view.scanned_at == "2026-11-18T16:00:01+00:00"
    assert view.available and view.error is None


GARBAGE = [b"\x80\x81 not json", pickle.dumps({"AAPL": []}), b'["a", "list"]', b'{"AAPL": "x"}']


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_in_a_status_key_gives_safe_defaults(store, redis_client, key_prefix, garbage):
    for name in ("scan_progress", "last_run", "last_run_facts", "version", "scan_in_progress"):
        redis_client.set(f"{key_prefix}{name}", garbage)

    status = store.read_status()

    # a malformed value reads as missing, never as an exception (Redis itself did answer)
    assert status.available
    assert status.last_run == NEVER_RUN_MESSAGE
    assert status.facts is None and status.progress is None
    assert status.running_scan is None and status.state == "idle"
    assert status.version == 0


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_in_a_tickers_fields_reads_as_missing(scanner, redis_client, key_prefix, garbage):
    redis_client.hset(f"{key_prefix}puts", "AAPL", garbage)
    redis_client.hset(f"{key_prefix}summaries", "AAPL", garbage)
    redis_client.hset(f"{key_prefix}partial", "AAPL", garbage)
    redis_client.zadd(f"{key_prefix}listed", {"AAPL": 0})

    view = scanner.reader.read_ticker("AAPL")
    listing = scanner.reader.read_page(None, 0, 50, descending=False)

    assert view.available and view.options == [] and view.partial_expirations == []
    assert listing.available and listing.symbols == ["AAPL"] and listing.partial == {}
    row = TickerSummary.of("AAPL", listing.summaries["AAPL"], None, fair_value=100.0)
    assert (row.puts, row.spot, row.best_annualized, row.lowest_strike) == (0, None, None, None)
    assert row.scanned_at is None and row.badge == "n/a"
    assert list(scanner.reader.stream_rows()) == []


def test_odd_members_and_scores_read_as_text_and_as_missing(
    scanner, store, redis_client, key_prefix
):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1")
    _publish_one(store, "scan-1")
    redis_client.zadd(f"{key_prefix}listed", {b"\xff": 0})
    redis_client.zadd(f"{key_prefix}changes", {"AAPL": float("inf"), b"\xff": -1})

    listing = scanner.reader.read_page(None, 0, 50, descending=False)

    assert listing.symbols == ["AAPL", "\ufffd"]
    assert listing.changed_at == {}
    assert scanner.reader.change_versions(["AAPL"]) == {}


PROGRESS = Progress("scan-1", total=3, started_at=STARTED_AT, done=1, current="KO", failed=1)
FACTS = RunFacts("scan-1", "failed", SCANNED_AT, tickers=3, puts=2, failed=1, reason="refused")


@pytest.mark.parametrize(
    ("stored", "field", "value", "expected"),
    [
        (PROGRESS, "scan_id", 7, None),
        (PROGRESS, "total", "3", None),
        (PROGRESS, "total", -1, None),
        (PROGRESS, "started_at", None, None),
        (PROGRESS, "done", 10**400, replace(PROGRESS, done=0)),
        (PROGRESS, "failed", True, replace(PROGRESS, failed=0)),
        (PROGRESS, "current", {"symbol": "KO"}, replace(PROGRESS, current=None)),
        (PROGRESS, "finished_at", 5, PROGRESS),
        (FACTS, "outcome", "exploded", None),
        (FACTS, "tickers", 2.5, None),
        (FACTS, "puts", 2**53, None),
        (FACTS, "finished_at", ["2026"], None),
        (FACTS, "reason", {"error": "refused"}, replace(FACTS, reason=None)),
    ],
)
def test_a_malformed_stored_field_drops_the_value_or_takes_its_default(
    stored, field, value, expected
):
    data = {**stored.__dict__, field: value}
    assert type(stored).from_dict(data) == expected


def test_progress_past_its_total_shows_as_complete():
    assert replace(PROGRESS, done=5).percent == 100


def test_a_version_beyond_any_count_reads_as_zero(store, redis_client, key_prefix):
    redis_client.set(f"{key_prefix}version", 2**63 - 1)
    assert store.read_status().version == 0
    assert store.read_pulse()[0].version == 0


def test_redis_down_gives_defaults_and_refuses_the_lock(app_config):
    app_config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    scanner = create_app(app_config).extensions["put_scanner"]
    store, reader = scanner.store, scanner.reader

    status = store.read_status()
    assert status.last_run == UNAVAILABLE_MESSAGE and not status.available
    assert status.progress is None and status.state == "idle"
    assert store.read_pulse() is None
    assert not reader.read_ticker("AAPL").available
    assert not reader.read_page(None, 0, 50, descending=False).available
    assert reader.read_everything() is None
    assert reader.lowest_strikes() is None
    assert not store.ping()
    with pytest.raises(CacheUnavailable):
        store.acquire_lock("scan-1")
    with pytest.raises(CacheUnavailable):
        store.listed_symbols()
    with pytest.raises(CacheUnavailable):
        list(reader.stream_rows())


def test_set_last_run_bumps_the_version_and_drops_the_stale_facts(store):
    assert store.acquire_lock("scan-1")
    _begin(store, "scan-1")
    store.finish("scan-1", "Scan completed", _facts("scan-1"))
    assert store.release_lock("scan-1")
    before = store.read_status()
    assert before.facts == _facts("scan-1")

    store.set_last_run("Market is closed.")

    status = store.read_status()
    assert status.version == before.version + 1
    assert status.last_run == "Market is closed."
    assert status.facts is None  # the facts were those of a message that is gone


def test_a_failed_ticker_keeps_its_rows_until_it_is_fetched_again(scanner, store):
    assert store.acquire_lock("first")
    _begin(store, "first")
    _publish_one(store, "first")
    store.publish(
        "first", [TickerResult("AAPL", "2026-11-18T17:00:00+00:00", [], "timed out")], None
    )

    puts, times, errors, _partial = scanner.reader.read_everything()
    assert puts == {"AAPL": [{"ticker": "AAPL", "strike": 100.0}]}
    assert times == {"AAPL": SCANNED_AT} and errors == {"AAPL": "timed out"}
    assert store.release_lock("first")

    # a new scan does not clear the errors when it begins: only fetching the ticker does
    assert store.acquire_lock("second")
    _begin(store, "second")
    assert scanner.reader.read_everything()[2] == {"AAPL": "timed out"}
    _publish_one(store, "second")
    assert scanner.reader.read_everything()[2] == {}
    assert scanner.reader.read_ticker("AAPL").error is None


def test_begin_forgets_the_tickers_it_is_told_to(scanner, store):
    assert store.acquire_lock("first")
    _begin(store, "first", total=2)
    _publish_one(store, "first", "AAPL")
    store.publish("first", [TickerResult("GONE", SCANNED_AT, [], "timed out")], None)
    assert store.listed_symbols() == {"AAPL", "GONE"}
    assert store.release_lock("first")

    assert store.acquire_lock("second")
    store.begin(Progress(scan_id="second", total=1, started_at=STARTED_AT), forget=["GONE"])

    assert store.listed_symbols() == {"AAPL"}
    puts, times, errors, _partial = scanner.reader.read_everything()
    assert set(puts) == set(times) == {"AAPL"} and errors == {}
    assert scanner.reader.read_page(None, 0, 50, descending=False).failed == 0
