"""A Redis that refuses writes or loses data: plain words everywhere, never Redis's own text.

The full and the evicting Redis are real servers of the test's own, with a tiny
``maxmemory``.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis
from redis import exceptions

from scanner_app import create_app
from scanner_app.market.demo import DemoProvider
from scanner_app.redis_door import CacheUnavailable
from scanner_app.redis_door.failures import OUT_OF_MEMORY, TIMED_OUT, UNREACHABLE
from scanner_app.scan.engine import DEAD_REASON
from scanner_app.scan.executors import ThreadExecutor
from scanner_app.scan.launch import Outcome, launch_scan
from scanner_app.scan.liveness import settled_status
from scanner_app.web.dashboard.routes import DATA_LOST_NOTE

from .conftest import FROZEN_NOW
from .rq_workers import wait_until
from .scan_results import publish_scan, sample_row

HX = {"HX-Request": "true"}
#: Words of Redis's own error texts, which no answer may show.
RAW_WORDS = ("OOM command", "'maxmemory'", "Error 104", "Connection reset", "Traceback")
ROUTES = [
    "/",
    "/?min_annualized=1",
    "/ticker/AAPL",
    "/scan/status",
    "/api/scan",
    "/api/options",
    "/options.csv",
    "/healthz",
]
TINY_MEMORY = ("--maxmemory", "2mb")


def _scanned_app(app_config: dict, watchlist, url: str):
    app = create_app({**app_config, "REDIS_URL": url, "WATCHLIST_FILE": watchlist})
    rows = {"AAPL": [sample_row()], "KO": [sample_row(ticker="KO")]}
    publish_scan(app.extensions["put_scanner"].store, rows)
    return app


def _fill(url: str) -> None:
    """Write twice ``maxmemory`` in keys without a TTL, until Redis refuses more."""
    client = redis.Redis.from_url(url)
    for number in range(40):
        try:
            client.set(f"filler:{number}", b"x" * 100_000)
        except exceptions.OutOfMemoryError:
            break
    client.close()


def _overfill(url: str) -> None:
    """Take Redis past ``maxmemory``: it accepts a write only when the write fits, so the
    limit is lifted for one big write and put back."""
    client = redis.Redis.from_url(url)
    limit = client.config_get("maxmemory")["maxmemory"]
    client.config_set("maxmemory", 0)
    client.set("filler", b"x" * 2 * int(limit))
    client.config_set("maxmemory", limit)
    client.close()


def _assert_plain(text: str) -> None:
    for word in RAW_WORDS:
        assert word not in text


@pytest.fixture
def full_app(app_config, small_watchlist, start_redis):
    """The app after a scan, on a Redis that has reached maxmemory with noeviction."""
    url = start_redis(*TINY_MEMORY, "--maxmemory-policy", "noeviction")
    app = _scanned_app(app_config, small_watchlist, url)
    _overfill(url)
    with pytest.raises(exceptions.OutOfMemoryError):
        redis.Redis.from_url(url).set("one more", 1)
    return app


def test_a_scan_on_a_full_redis_says_why_and_starts_nothing(full_app):
    client = full_app.test_client()
    for headers in (HX, {}):
        response = client.post("/scan", headers=headers)
        assert response.status_code == 503
        assert "The scan was not started: Redis is full (maxmemory 2 MB, noeviction)." in (
            response.text
        )
        _assert_plain(response.text)
    assert full_app.extensions["put_scanner"].store.lock_owner() is None


def test_a_full_redis_still_shows_the_results(full_app):
    client = full_app.test_client()
    for path in ROUTES:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_plain(response.get_data(as_text=True))
    assert set(client.get("/api/options").get_json()["options"]) == {"AAPL", "KO"}
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded" and health["memory"]["percent"] >= 100
    assert health["memory"]["maxmemory_bytes"] == 2 * 2**20


def test_a_redis_that_evicts_is_degraded_and_its_losses_read_as_missing(
    app_config, small_watchlist, start_redis
):
    # volatile-ttl evicts only keys with a TTL: here, every key of the app and nothing else
    url = start_redis(*TINY_MEMORY, "--maxmemory-policy", "volatile-ttl")
    app = _scanned_app(app_config, small_watchlist, url)
    prefix = app_config["CACHE_KEY_PREFIX"]
    before = set(redis.Redis.from_url(url).keys(f"{prefix}*"))

    _fill(url)

    assert set(redis.Redis.from_url(url).keys(f"{prefix}*")) < before, "nothing was evicted"
    client = app.test_client()
    for path in ROUTES:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_plain(response.get_data(as_text=True))
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.get_json()
    assert body.pop("memory")["maxmemory_bytes"] == 2 * 2**20
    assert body == {
        "status": "degraded",
        "redis": True,
        "maxmemory_policy": "volatile-ttl",
        "workers": None,
        "database": "ok",
    }


def test_a_poll_after_redis_lost_its_data_says_so(make_app, redis_client, key_prefix):
    app = make_app()
    publish_scan(app.extensions["put_scanner"].store, {"AAPL": [sample_row()]})
    version = app.extensions["put_scanner"].store.read_status().version
    redis_client.delete(*redis_client.keys(f"{key_prefix}*"))  # a restart without persistence

    response = app.test_client().get(f"/scan/status?v={version}&s=AAPL&n=1", headers=HX)

    assert response.status_code == 200
    assert DATA_LOST_NOTE in response.text
    assert "No qualifying puts yet" in response.text  # the whole table, now empty


def _resetting_writes(store, monkeypatch) -> threading.Event:
    """While the returned event is set, every write after the scan's first fails with a
    connection reset (Redis going away); clear it and Redis is back."""
    real_evalsha, calls, down = store.write_client.evalsha, [], threading.Event()
    down.set()

    def reset(*args):
        calls.append(args)
        if len(calls) >= 2 and down.is_set():
            raise exceptions.ConnectionError("Error 104 while reading: Connection reset by peer")
        return real_evalsha(*args)

    monkeypatch.setattr(store.write_client, "evalsha", reset)
    return down


def test_a_scan_rides_out_a_connection_reset(make_app, monkeypatch):
    app = make_app()
    store = app.extensions["put_scanner"].store
    down = _resetting_writes(store, monkeypatch)
    threading.Timer(0.5, down.clear).start()  # Redis is back within half a second
    assert store.acquire_lock("scan-1")

    summary = app.extensions["put_scanner"].engine().run("scan-1")

    assert summary.tickers == 3 and summary.failed == 0
    assert store.read_status().facts.outcome == "completed"


def test_a_scan_cut_short_by_redis_records_a_plain_reason(make_app, monkeypatch):
    app = make_app(SCAN_LOCK_TTL=2)  # writes are retried for half the lock's TTL: 1 s
    scanner = app.extensions["put_scanner"]
    store = scanner.store
    down = _resetting_writes(store, monkeypatch)
    engine = scanner.engine()
    give_up = engine.fail

    def fail_once_redis_is_back(scan_id, error):
        down.clear()
        give_up(scan_id, error)

    monkeypatch.setattr(engine, "fail", fail_once_redis_is_back)
    assert store.acquire_lock("scan-1")
    with pytest.raises(CacheUnavailable, match=f"^{UNREACHABLE}$"):
        engine.run("scan-1")

    status = store.read_status()
    assert status.facts.outcome == "failed" and status.facts.reason == UNREACHABLE
    assert status.last_run.endswith(f": {UNREACHABLE}")
    client = app.test_client()
    for path in ("/", "/api/scan", "/ticker/AAPL"):
        text = client.get(path).get_data(as_text=True)
        _assert_plain(text)
    assert f"Scan failed at Wed Nov 18, 2026 11:00 AM EST: {UNREACHABLE}" in client.get("/").text


def test_a_redis_error_that_reaches_the_engine_is_recorded_plainly(make_app, monkeypatch):
    scanner = make_app().extensions["put_scanner"]
    engine = scanner.engine()

    def out_of_memory(*args, **kwargs):
        raise exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'.")

    monkeypatch.setattr(engine.store, "begin", out_of_memory)
    assert scanner.store.acquire_lock("scan-1")
    with pytest.raises(exceptions.OutOfMemoryError):
        engine.run("scan-1")

    assert scanner.store.read_status().facts.reason == OUT_OF_MEMORY


def test_during_a_redis_stall_the_scan_status_is_503_with_the_reason(make_app, start_redis):
    url = start_redis("--enable-debug-command", "yes")
    app = make_app(REDIS_URL=url)
    client = app.test_client()
    assert client.post("/scan").status_code in (200, 303)
    stall = threading.Thread(
        target=lambda: redis.Redis.from_url(url).execute_command("DEBUG", "SLEEP", 3)
    )
    stall.start()
    try:
        time.sleep(0.5)  # DEBUG SLEEP has the server by now
        response = client.get("/api/scan")
    finally:
        stall.join()
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "Redis did not answer in time",
        "cache_available": False,
    }
    assert client.get("/api/scan").get_json()["state"] == "idle"  # back once Redis is


def test_expired_results_say_when_they_were_made_and_how_long_they_lived(
    make_app, redis_client, key_prefix
):
    app = make_app()
    client = app.test_client()
    assert client.post("/scan").status_code in (200, 303)
    known = client.get("/api/scan").get_json()["version"]
    expected = (
        "Results from the scan at Wed Nov 18, 2026 11:00 AM EST expired after 45 minutes; "
        "press Scan"
    )
    # the results expire: every key of the scan but the record of it
    scan_keys = [key for key in redis_client.keys(f"{key_prefix}*") if b"last_scan" not in key]
    assert redis_client.ttl(f"{key_prefix}last_scan") > redis_client.ttl(f"{key_prefix}puts")
    redis_client.delete(*scan_keys)

    assert client.get("/api/scan").get_json()["last_run"] == expected
    page = client.get("/").get_data(as_text=True)
    assert expected in page and "Last scan: Never" not in page
    poll = client.get(f"/scan/status?v={known}", headers=HX).get_data(as_text=True)
    assert expected in poll and DATA_LOST_NOTE not in poll


def test_a_scan_a_reader_ends_during_a_redis_stall_names_redis(tmp_path, app_config, start_redis):
    """Redis stalls longer than SCAN_DEAD_SECONDS while a live process scans: a reader takes
    the scan for dead, and the scan's own process then says what really happened. The
    reader's clock runs an hour ahead, so that it ends the scan whichever of the two reaches
    Redis first after the stall."""
    url = start_redis("--enable-debug-command", "local")
    symbols = [f"S{number:03d}" for number in range(30)]
    watchlist = tmp_path / "stall.toml"
    watchlist.write_text("".join(f'[[tickers]]\nsymbol = "{symbol}"\n' for symbol in symbols))
    settings = {
        **app_config,
        "REDIS_URL": url,
        "WATCHLIST_FILE": watchlist,
        "MARKET_PROVIDER": DemoProvider(latency_ms=150, today=lambda: FROZEN_NOW.date()),
        "SCAN_RUNNER": ThreadExecutor(),
        "CLOCK": None,
        "SCAN_CONCURRENCY": 1,
        "SCAN_LOCK_TTL": 20,
        "SCAN_HEARTBEAT_SECONDS": 0.5,
        "SCAN_DEAD_SECONDS": 2,
    }
    scanner = create_app(settings).extensions["put_scanner"]
    ahead = create_app({**settings, "CLOCK": lambda: datetime.now(UTC) + timedelta(hours=1)})
    reader = ahead.extensions["put_scanner"]
    launch = launch_scan(scanner)
    assert launch.outcome is Outcome.STARTED
    wait_until(lambda: len(scanner.reader.read_hash("scan_times")) >= 3, 20, "three tickers")

    stall = redis.Redis.from_url(url, socket_timeout=10)
    stall.execute_command("DEBUG", "SLEEP", 3)
    stall.close()
    stored = len(scanner.reader.read_hash("scan_times"))
    wait_until(lambda: settled_status(reader).running_scan is None, 20, "the reader's report")
    status = wait_until(
        lambda: (status := reader.store.read_status()).facts.reason != DEAD_REASON and status,
        30,
        "the scan's own word",
    )

    assert status.facts.scan_id == launch.scan_id and status.facts.outcome == "interrupted"
    reason = status.facts.reason
    assert reason.startswith("Redis failed the scan's writes for ") and reason.endswith(
        f" s ({TIMED_OUT})"
    ), reason
    assert status.last_run.endswith(f": {reason}") and DEAD_REASON not in status.last_run
    assert reader.store.lock_owner() is None
    assert len(scanner.reader.read_hash("scan_times")) >= stored >= 3
