"""Covered calls through a scan on a real Redis: screened for held shares only, published
per ticker with fenced, idempotent writes, and assembled into ``ticker_calls``."""

from __future__ import annotations

import json

import pytest
from tenacity import wait_none

from scanner_app.market.yahoo import YahooProvider
from scanner_app.scan.screen import Criteria, call_delta_target
from scanner_app.scan.store import LockLost, Progress, TickerResult
from scanner_app.scan.ticker_scan import TickerScanner
from scanner_app.watchlist import Position
from tests.yahoo_transport import FakeYahoo, isolated_yfinance  # noqa: F401 - autouse

from .conftest import FROZEN_NOW
from .scan_results import SCANNED_AT, STARTED_AT, sample_row

#: No put qualifies: only the calls can fill a ticker.
STRICT_PUTS = Criteria(min_annualized=10_000)

HELD_WATCHLIST = (
    '[[tickers]]\nsymbol = "AAPL"\nshares = 350\n\n'
    '[[tickers]]\nsymbol = "TSLA"\nshares = 99\n\n'
    '[[tickers]]\nsymbol = "KO"\n'
)


@pytest.fixture
def held_scanner(make_app, tmp_path):
    """A scanner whose watchlist holds 350 AAPL shares and 99 TSLA shares."""
    path = tmp_path / "held.toml"
    path.write_text(HELD_WATCHLIST)
    return make_app(WATCHLIST_FILE=path).extensions["put_scanner"]


def _calls_hash(redis_client, key_prefix) -> dict[str, list[dict]]:
    raw = redis_client.hgetall(f"{key_prefix}calls")
    return {symbol.decode(): json.loads(rows) for symbol, rows in raw.items()}


def test_a_scan_screens_and_assembles_the_calls_of_held_shares(
    held_scanner, redis_client, key_prefix
):
    assert held_scanner.store.acquire_lock("scan-1")
    held_scanner.engine().run("scan-1")

    calls = _calls_hash(redis_client, key_prefix)
    assert list(calls) == ["AAPL"]  # 99 TSLA shares cover no contract; KO holds none
    rows = calls["AAPL"]
    assert rows
    for row in rows:
        assert row["contracts"] == 3
        assert row["strike"] > row["spot"]
        assert row["annualized"] >= 20
        assert 0 < row["delta"] <= call_delta_target(row["dte"])
        assert "C" in row["contract_symbol"]
    assert json.loads(redis_client.get(f"{key_prefix}ticker_calls")) == calls
    # the puts are screened as before
    assert "AAPL" in json.loads(redis_client.get(f"{key_prefix}ticker_options"))


def test_ticker_calls_is_an_empty_dict_without_held_shares(make_app, redis_client, key_prefix):
    scanner = make_app().extensions["put_scanner"]
    assert scanner.store.acquire_lock("scan-1")
    scanner.engine().run("scan-1")
    assert json.loads(redis_client.get(f"{key_prefix}ticker_calls")) == {}


def _publish(store, *results, scan_id="s"):
    return store.publish(scan_id, list(results), None)


def test_calls_are_kept_through_a_failure_and_replaced_or_dropped_by_a_fetch(
    held_scanner, redis_client, key_prefix
):
    store = held_scanner.store
    assert store.acquire_lock("s")
    store.begin(Progress(scan_id="s", total=2, started_at=STARTED_AT))
    call = sample_row(strike=170.0, delta=0.2, contracts=3)
    with_calls = TickerResult("AAPL", SCANNED_AT, [sample_row()], calls=[call])

    _publish(store, with_calls)
    _publish(store, with_calls)  # a retried batch writes the same again
    assert _calls_hash(redis_client, key_prefix) == {"AAPL": [call]}

    _publish(store, TickerResult("AAPL", SCANNED_AT, error="timed out"))
    assert _calls_hash(redis_client, key_prefix) == {"AAPL": [call]}  # stale, kept

    # calls without puts stay: the calls do not depend on the put listing
    _publish(store, TickerResult("AAPL", SCANNED_AT, [], calls=[call]))
    assert _calls_hash(redis_client, key_prefix) == {"AAPL": [call]}

    _publish(store, TickerResult("AAPL", SCANNED_AT, [sample_row()]))
    assert _calls_hash(redis_client, key_prefix) == {}

    _publish(store, with_calls)
    store.begin(Progress(scan_id="s", total=0, started_at=STARTED_AT), forget=["AAPL"])
    assert _calls_hash(redis_client, key_prefix) == {}


def test_a_scan_that_lost_the_lock_writes_no_calls(held_scanner, redis_client, key_prefix):
    store = held_scanner.store
    assert store.acquire_lock("s")
    store.begin(Progress(scan_id="s", total=1, started_at=STARTED_AT))
    assert store.release_lock("s")
    result = TickerResult("AAPL", SCANNED_AT, [sample_row()], calls=[sample_row(contracts=1)])
    with pytest.raises(LockLost):
        _publish(store, result)
    assert _calls_hash(redis_client, key_prefix) == {}


# -- one ticker, over the offline Yahoo ---------------------------------------------------------


def _yahoo_scanner(fake: FakeYahoo, positions, criteria=STRICT_PUTS) -> TickerScanner:
    provider = YahooProvider(
        session=fake, today=lambda: FROZEN_NOW.date(), retries=0, wait=wait_none()
    )
    return TickerScanner(
        provider=provider,
        criteria=criteria,
        rate=0.04,
        clock=lambda: FROZEN_NOW,
        positions=positions,
    )


def test_a_held_ticker_gets_its_calls_even_when_no_put_qualifies():
    fake = FakeYahoo()
    fake.fail_key("AAPL_2026-11-27", 401)

    result = _yahoo_scanner(fake, {"AAPL": Position(200)}).scan("AAPL", FROZEN_NOW.date())

    # 1.08 / 235 x 365 / 2 x 100 = 83.9 % a year, Black-Scholes delta 0.15 <= 0.20 at 2 DTE
    assert result.error is None and result.rows == []
    assert result.partial_expirations == ["2026-11-27"]  # not a failure: calls came back
    assert result.calls[0]["contract_symbol"] == "AAPL261120C00235000"
    assert result.calls[0]["annualized"] == pytest.approx(1.08 / 235 * 365 / 2 * 100)
    assert all(call["contracts"] == 2 for call in result.calls)


def test_a_ticker_without_shares_gets_no_calls():
    result = _yahoo_scanner(FakeYahoo(), {"MSFT": Position(500)}).scan("AAPL", FROZEN_NOW.date())
    assert result.calls == []
