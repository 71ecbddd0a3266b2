"""A Redis that fills up during a scan (maxmemory with noeviction set by CONFIG SET, on real
servers of the test's own): every write is refused, the scan stops and says so everywhere,
and nothing stored is lost or torn."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import redis

from scanner_app import create_app
from scanner_app.market.demo import DemoProvider
from scanner_app.redis_door.memory import RedisFull, full_text, read_memory
from scanner_app.redis_door.script_flags import FlaggedScript
from scanner_app.scan import scripts

from .conftest import FROZEN_NOW
from .rq_workers import WorkerProcess, process_env
from .test_rq import wait_for_workers

PREFIX = "full:"
FULL = "Redis is full (maxmemory"


def _watchlist(tmp_path, count: int, name: str = "watchlist.toml", new: int = 0):
    """A watchlist of ``count`` tickers T000 and up, and ``new`` more, A000 and up: a scan
    takes those first (it goes in symbol order)."""
    path = tmp_path / name
    symbols = [f"A{n:03d}" for n in range(new)] + [f"T{n:03d}" for n in range(count)]
    path.write_text("".join(f'[[tickers]]\nsymbol = "{symbol}"\n\n' for symbol in symbols))
    return path


def _app(app_config, url, watchlist, now=FROZEN_NOW):
    """An app on ``url`` whose scans run in the caller (``flask scan``) on day ``now``."""
    return create_app(
        {
            **app_config,
            "REDIS_URL": url,
            "CACHE_KEY_PREFIX": PREFIX,
            "WATCHLIST_FILE": watchlist,
            "MARKET_PROVIDER": DemoProvider(latency_ms=0, today=lambda: now.date()),
            "CLOCK": lambda: now,
            "EARNINGS": False,
        }
    )


def _stored_bytes(client) -> dict[str, int]:
    """Bytes each ticker's write stores (rows, summary, calls, time, partial)."""
    sizes: dict[str, int] = {}
    for name in ("puts", "summaries", "calls", "scan_times", "partial"):
        for symbol, value in client.hgetall(f"{PREFIX}{name}").items():
            sizes[symbol.decode()] = sizes.get(symbol.decode(), 0) + len(value) + len(symbol)
    return sizes


def _roomy_scan(app_config, url, watchlist) -> tuple[int, dict[str, int]]:
    """Scan ``watchlist`` into the empty Redis at ``url``, with room to spare: the bytes of
    memory it took, and what each ticker's write stores (``_stored_bytes``)."""
    client = redis.Redis.from_url(url)
    base = client.info("memory")["used_memory"]
    assert _app(app_config, url, watchlist).test_cli_runner().invoke(args=["scan"]).exit_code == 0
    return client.info("memory")["used_memory"] - base, _stored_bytes(client)


def test_a_scan_that_does_not_fit_stops_saying_redis_is_full_and_grows_it_by_one_ticker_at_most(
    app_config, tmp_path, start_redis
):
    watchlist = _watchlist(tmp_path, 120)
    whole, sizes = _roomy_scan(app_config, start_redis(), watchlist)
    # A ticker's write in memory: its bytes, scaled by what the whole scan took per byte.
    one_ticker = max(sizes.values()) * whole / sum(sizes.values())

    url = start_redis("--maxmemory-policy", "noeviction")
    client = redis.Redis.from_url(url)
    limit = client.info("memory")["used_memory"] + whole // 2
    client.config_set("maxmemory", limit)
    app = _app(app_config, url, watchlist)

    result = app.test_cli_runner().invoke(args=["scan"])

    memory = client.info("memory")
    over, peak = memory["used_memory"] - limit, memory["used_memory_peak"] - limit
    print(f"scan of {whole} bytes into {whole // 2} of room: {over} bytes over maxmemory after,")
    print(f"{peak} at the peak (with the clients' buffers); one ticker's write {one_ticker:.0f}")
    print(f"bytes (largest), {whole / 120:.0f} (mean)")
    assert over <= one_ticker
    assert full_text(read_memory(client)) in result.output
    _said_full(app, result)


def test_each_ticker_keeps_its_new_or_its_old_rows_and_earlier_rows_stay_readable(
    app_config, tmp_path, start_redis
):
    url = start_redis("--maxmemory-policy", "noeviction")
    client = redis.Redis.from_url(url)
    empty = client.info("memory")["used_memory"]
    first = _app(app_config, url, _watchlist(tmp_path, 60, "first.toml"))
    assert first.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    stored = client.info("memory")["used_memory"]
    # The next day, three times as many new tickers, scanned first, and room for a third of
    # what they add: more than Redis's passing reply buffers (a reply can hold a whole
    # hash of rows for a moment), so some are written before the scan stops.
    later = FROZEN_NOW + timedelta(days=1)
    client.config_set("maxmemory", stored + (stored - empty))
    second_list = _watchlist(tmp_path, 60, new=180)
    second = _app(app_config, url, second_list, now=later)
    imported = second.test_cli_runner().invoke(args=["watchlist", "import", str(second_list)])
    assert imported.exit_code == 0, imported.output  # the database is the source

    assert second.test_cli_runner().invoke(args=["scan"]).exit_code == 1

    times = {k.decode(): v.decode() for k, v in client.hgetall(f"{PREFIX}scan_times").items()}
    summaries = client.hgetall(f"{PREFIX}summaries")
    puts = client.hgetall(f"{PREFIX}puts")
    old, new = FROZEN_NOW.isoformat(timespec="seconds"), later.isoformat(timespec="seconds")
    assert set(times.values()) == {old, new}, "the scan should have stopped midway"
    for symbol, raw in summaries.items():
        summary = json.loads(raw)
        assert summary["scanned_at"] == times[symbol.decode()]
        assert summary["puts"] == len(json.loads(puts[symbol]))
    for symbol in ("T000", "T030", "T059"):  # stored by the first scan
        response = second.test_client().get(f"/api/options/{symbol}").get_json()
        assert response["options"], symbol


def test_every_write_script_is_refused_on_a_full_redis(start_redis):
    """Redis 7 refuses a flagged script before it runs; the release of the lock, which only
    deletes, still runs."""
    url = start_redis("--maxmemory-policy", "noeviction")
    client = redis.Redis.from_url(url)
    client.set("lock", "scan")
    client.config_set("maxmemory", 1)
    refresh = FlaggedScript(client, "redis.call('EXPIRE', KEYS[1], 60) return 1")
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        refresh(keys=["lock"])
    release = FlaggedScript(client, scripts.RELEASE, "allow-oom")
    assert release(keys=["lock"], args=["scan"]) == 1


def test_a_script_without_flags_checks_memory_itself(start_redis):
    """Redis 6's kind of script (no #!lua line): once it has written (an EXPIRE), Redis lets
    its later writes through; the scripts' own check refuses them."""
    url = start_redis("--maxmemory-policy", "noeviction")
    client = redis.Redis.from_url(url)
    client.set("k", "v")
    client.config_set("maxmemory", 1)
    legacy = client.register_script(
        "redis.call('EXPIRE', KEYS[1], 60) return redis.call('SET', KEYS[1], 'w')"
    )
    assert legacy(keys=["k"]) == b"OK"  # what the issue found: written past maxmemory
    checked = client.register_script(
        scripts._MEMORY + scripts._REFUSE_WHEN_FULL + "return redis.call('SET', KEYS[1], 'x')"
    )
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        checked(keys=["k"])
    assert client.get("k") == b"w"


def test_the_in_process_redis_runs_the_scripts_without_their_flags(make_app):
    app = make_app(REDIS_URL=None, CACHE_BACKEND="memory")
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    assert app.test_client().get("/api/scan").get_json()["outcome"] == "completed"


def test_a_full_redis_refusing_a_fair_value_stops_the_scan(make_app, start_redis):
    url = start_redis("--maxmemory-policy", "noeviction")
    app = make_app(REDIS_URL=url)
    scanner = app.extensions["put_scanner"]
    estimator = scanner._fair_values(scanner.known_universe)
    assert estimator is not None
    redis.Redis.from_url(url).config_set("maxmemory", 1)
    with pytest.raises(RedisFull, match="maxmemory"):
        estimator.update("TSLA")


def test_results_stay_readable_when_redis_is_full(app_config, tmp_path, start_redis):
    url = start_redis("--maxmemory-policy", "noeviction")
    app = _app(app_config, url, _watchlist(tmp_path, 10))
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    client = redis.Redis.from_url(url)
    client.config_set("maxmemory", 1)
    web = app.test_client()
    assert web.get("/api/options").get_json()["options"]
    response = web.post("/scan", headers={"HX-Request": "true"})
    assert response.status_code == 503 and FULL in response.get_data(as_text=True)


def test_with_rq_the_batch_redis_refuses_fails_the_scan_at_once(app_config, tmp_path, start_redis):
    """SCAN_EXECUTOR=rq on a real worker: the batch that meets a full Redis ends the scan
    itself, with no retry, and ``flask scan``, the page and /api/scan say Redis is full."""
    watchlist = _watchlist(tmp_path, 120)
    whole, _sizes = _roomy_scan(app_config, start_redis(), watchlist)
    url = start_redis("--maxmemory-policy", "noeviction")
    client = redis.Redis.from_url(url)
    settings = {"SCAN_EXECUTOR": "rq", "SCAN_RUNNER": None, "CLOCK": None}
    app = _app({**app_config, **settings}, url, watchlist)
    env = process_env(
        REDIS_URL=url,
        CACHE_KEY_PREFIX=PREFIX,
        WATCHLIST_FILE=str(watchlist),
        DEMO_LATENCY_MS="0",
        EARNINGS="off",
    )
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        wait_for_workers(app, 1)
        client.config_set("maxmemory", client.info("memory")["used_memory"] + whole // 2)

        result = app.test_cli_runner().invoke(args=["scan"])
    finally:
        worker.stop()

    status = _said_full(app, result)
    # no batch raised, so RQ retried none (RQ's own bookkeeping may fail on a full Redis)
    batch_raised = re.compile(
        rf"job scan-{status['last_run_facts']['scan_id']}-\d+: exception raised"
    )
    assert not batch_raised.search(worker.output()), worker.output()


def test_a_scan_redis_refuses_records_why_in_the_room_its_contract_keys_would_take(
    app_config, tmp_path, start_redis
):
    """Rebuilding the contract keys would not fit; the few bytes saying why the scan failed
    do, so they are written instead."""
    url = start_redis("--maxmemory-policy", "noeviction")
    app = _app(app_config, url, _watchlist(tmp_path, 10))
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    client = redis.Redis.from_url(url)
    contract = [f"{PREFIX}{name}" for name in ("ticker_options", "ticker_calls")]
    rebuild = sum(client.strlen(key) for key in contract)
    client.delete(*contract)  # as if the last scan had left none: rebuilding them takes room
    scanner = app.extensions["put_scanner"]
    engine = scanner.engine()
    assert scanner.store.acquire_lock("second")
    engine.begin("second")
    client.config_set("maxmemory", client.info("memory")["used_memory"] + rebuild // 2)

    engine.fail("second", RedisFull.on(client))

    status = app.test_client().get("/api/scan").get_json()
    assert status["last_run_facts"]["scan_id"] == "second"
    assert status["last_run"].startswith("Scan failed at ") and FULL in status["last_run"]
    assert client.exists(*contract) == 0


def _said_full(app, result) -> dict:
    """Assert that ``flask scan`` failed saying Redis is full, that /api/scan and the page
    say it too, that the scan stopped part-way and freed its lock; /api/scan's answer."""
    assert result.exit_code == 1, result.output
    assert FULL in result.output and "noeviction)" in result.output
    status = app.test_client().get("/api/scan").get_json()
    assert status["state"] == "idle" and status["outcome"] in ("failed", "interrupted")
    assert FULL in status["last_run"] and FULL in status["last_run_facts"]["reason"]
    assert 0 < status["progress"]["done"] < 120
    assert FULL in app.test_client().get("/").get_data(as_text=True)
    assert app.extensions["put_scanner"].store.lock_owner() is None
    return status
