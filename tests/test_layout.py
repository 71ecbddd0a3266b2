"""The whole-market store layout on a real Redis: contract keys, TTLs, writers, page cost."""

from __future__ import annotations

import threading
import time

import pytest

from scanner_app.extensions import cache
from scanner_app.scan.store import Progress, TickerResult

STARTED = "2026-11-18T16:00:00+00:00"


def _row(symbol: str, strike: float, annualized: float = 40.0) -> dict:
    return {
        "ticker": symbol,
        "strike": strike,
        "spot": strike * 1.1,
        "annualized": annualized,
        "delta": -0.1,
        "dte": 7,
    }


def _result(symbol: str, at: str = "2026-11-18T16:00:05+00:00", strike: float = 100.0):
    return TickerResult(symbol, at, [_row(symbol, strike)])


def _contract(app, name: str):
    with app.app_context():
        return app.extensions["cache"][cache].get(name)


def test_contract_keys_hold_the_full_result_after_a_scan(app):
    scanner = app.extensions["put_scanner"]
    assert scanner.store.acquire_lock("scan-1")
    summary = scanner.engine().run("scan-1")

    options = _contract(app, "ticker_options")
    times = _contract(app, "ticker_scan_times")
    assert sum(len(rows) for rows in options.values()) == summary.puts > 0
    assert set(times) == set(scanner.watchlist.symbols())
    for symbol, rows in options.items():
        assert scanner.reader.read_ticker(symbol).options == rows
    assert _contract(app, "last_run") == summary.message
    assert scanner.store.read_status().facts.puts == summary.puts


def test_contract_keys_keep_the_previous_scan_while_a_scan_runs(app):
    store = app.extensions["put_scanner"].store
    assert store.acquire_lock("old")
    store.publish("old", [_result("AAPL"), _result("KO")], None)
    store.assemble("old")
    store.release_lock("old")
    before = _contract(app, "ticker_options")

    assert store.acquire_lock("new")
    store.begin(Progress("new", 2, STARTED))
    store.publish("new", [_result("AAPL", strike=90.0)], "KO")

    assert _contract(app, "ticker_options") == before
    assert app.extensions["put_scanner"].reader.read_ticker("AAPL").options[0]["strike"] == 90.0
    store.assemble("new")
    assert _contract(app, "ticker_options")["AAPL"][0]["strike"] == 90.0


def test_results_outlive_a_scan_longer_than_their_ttl(make_app, redis_client, key_prefix):
    app = make_app(CACHE_TTL_OPTIONS=2, SCAN_LOCK_TTL=2)
    store = app.extensions["put_scanner"].store
    assert store.acquire_lock("old")
    store.publish("old", [_result("AAPL")], None)
    store.assemble("old")
    store.release_lock("old")

    assert store.acquire_lock("long")
    store.begin(Progress("long", 3, STARTED))
    for symbol in ("KO", "TSLA"):  # 3 s of scanning, 1.5 TTLs, the lock kept alive
        time.sleep(0.75)
        assert store.refresh_lock("long")
        time.sleep(0.75)
        store.publish("long", [_result(symbol)], None)
    reader = app.extensions["put_scanner"].reader
    assert reader.read_ticker("AAPL").options and reader.read_ticker("KO").options
    assert _contract(app, "ticker_options") is not None  # the previous scan's, still there
    store.assemble("long")
    store.release_lock("long")
    copies = {store.keys.universe.encode(), *redis_client.scan_iter(f"{key_prefix}user:*")}
    results = {key for key in redis_client.scan_iter(f"{key_prefix}*")} - copies
    ttls = {key: redis_client.ttl(key) for key in results}
    assert ttls and all(0 < ttl <= 2 for ttl in ttls.values()), ttls
    time.sleep(2.5)
    assert set(redis_client.scan_iter(f"{key_prefix}*")) <= copies  # the watchlists' copies


def test_two_writers_of_one_scan_lose_nothing(app):
    store = app.extensions["put_scanner"].store
    symbols = [f"W{index:03d}" for index in range(200)]
    assert store.acquire_lock("fan")
    store.begin(Progress("fan", len(symbols), STARTED))
    halves = (symbols[::2], symbols[1::2])
    errors: list[Exception] = []

    def write(part: list[str]) -> None:
        try:
            for symbol in part:
                store.publish("fan", [_result(symbol)], symbol)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(half,)) for half in halves]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors
    assert store.read_status().progress.done == len(symbols)
    store.assemble("fan")
    assert sorted(_contract(app, "ticker_options")) == symbols


def test_a_failed_ticker_keeps_its_rows_and_says_why(app):
    store, reader = app.extensions["put_scanner"].store, app.extensions["put_scanner"].reader
    assert store.acquire_lock("s")
    store.publish("s", [_result("AAPL")], None)
    store.publish("s", [TickerResult("AAPL", "2026-11-18T16:10:00+00:00", error="timeout")], None)

    view = reader.read_ticker("AAPL")
    assert view.options and view.error == "timeout"
    assert view.scanned_at == "2026-11-18T16:00:05+00:00"
    page = reader.read_page(None, 0, 10, False)
    assert page.failed == 1 and page.failed_sample == {"AAPL": "timeout"}
    assert store.read_status().progress is None  # begin was never called: nothing to count


def test_a_ticker_that_left_the_watchlist_is_forgotten_by_the_next_scan(app):
    scanner = app.extensions["put_scanner"]
    assert scanner.store.acquire_lock("s")
    scanner.store.publish("s", [_result("ZZZZ")], None)
    scanner.store.release_lock("s")

    assert scanner.store.acquire_lock("next")
    scanner.engine().run("next")

    assert "ZZZZ" not in scanner.store.listed_symbols()
    assert "ZZZZ" not in _contract(app, "ticker_options")


def _output_bytes(redis_client) -> int:
    return int(redis_client.info("stats")["total_net_output_bytes"])


@pytest.mark.parametrize("tickers", [100, 5000])
def test_the_unfiltered_first_page_reads_a_bounded_number_of_bytes(
    make_app, redis_client, tickers, tmp_path
):
    path = tmp_path / "many.toml"
    path.write_text("".join(f'[[tickers]]\nsymbol = "M{i:04d}"\n' for i in range(tickers)))
    app = make_app(WATCHLIST_FILE=path)
    store = app.extensions["put_scanner"].store
    assert store.acquire_lock("bulk")
    for start in range(0, tickers, 500):
        batch = [
            TickerResult(f"M{i:04d}", STARTED, [_row(f"M{i:04d}", 100.0 + i)] * 9)
            for i in range(start, min(start + 500, tickers))
        ]
        store.publish("bulk", batch, None)
    store.assemble("bulk")
    client = app.test_client()
    client.get("/")  # load the scripts once

    before = _output_bytes(redis_client)
    response = client.get("/")
    read = _output_bytes(redis_client) - before

    assert response.status_code == 200 and f"of {tickers} tickers" in response.get_data(True)
    # 50 summaries of ~200 bytes, whatever the watchlist (all rows would be ~1 KB a ticker)
    assert read < 20_000, read
