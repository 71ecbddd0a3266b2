"""Fair values estimated as tickers are scanned: fundamentals cached a day on real Redis,
the watchlist's own figures and assumptions, failures, and the stored estimates."""

from __future__ import annotations

import json

import pytest
import redis
from tenacity import wait_none

from scanner_app.config import load_settings
from scanner_app.market.demo import DemoProvider, demo_fundamentals
from scanner_app.market.registry import create_provider, fundamentals_source
from scanner_app.market.yahoo import YahooProvider
from scanner_app.redis_door import Keys
from scanner_app.scan.fair_values import FairValueEstimator, read_estimates
from scanner_app.scan.json_cache import KEEP_SECONDS, RETRY_SECONDS
from scanner_app.scan.screen import Criteria
from scanner_app.scan.ticker_scan import TickerScanner
from scanner_app.valuation.assumptions import Assumptions
from scanner_app.valuation.methods import estimate
from scanner_app.watchlist import parse_watchlist
from tests.yahoo_transport import (  # noqa: F401 - isolated_yfinance is autouse
    FakeYahoo,
    isolated_yfinance,
)

from .conftest import FROZEN_NOW

TODAY = FROZEN_NOW.date()
WATCHLIST = parse_watchlist(
    """
    [[tickers]]
    symbol = "AAPL"

    [[tickers]]
    symbol = "KO"
    fair_value = 62.5

    [[tickers]]
    symbol = "MSFT"
    eps_multiple = 10
    projection_years = 3
    """
)


def estimator(source, redis_client, key_prefix, assumptions=None) -> FairValueEstimator:
    return FairValueEstimator(
        redis_client, Keys(key_prefix), source, assumptions or Assumptions(), WATCHLIST
    )


def yahoo(fake: FakeYahoo) -> YahooProvider:
    return YahooProvider(session=fake, today=lambda: TODAY, retries=0, wait=wait_none())


def test_yahoos_fundamentals_are_asked_for_once_a_day_and_kept_in_redis(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    fake = FakeYahoo()
    fair_values = estimator(yahoo(fake), redis_client, key_prefix)

    first = fair_values.update("AAPL")
    second = fair_values.update("AAPL")

    assert fake.summary_requests == ["AAPL_fundamentals"]
    assert first == second and first.method == "eps"
    assert first.value == pytest.approx(7.46 * 101.99291896 / 5)  # linear in EPS
    key = f"{key_prefix}fundamentals:AAPL"
    assert json.loads(redis_client.get(key)) == {
        "eps": 7.46,
        "free_cash_flow": 78862254080,
        "shares": 14776353000,
    }
    assert KEEP_SECONDS - 5 < redis_client.ttl(key) <= KEEP_SECONDS
    assert read_estimates(redis_client, Keys(key_prefix), ["AAPL", "KO"]) == {"AAPL": first}


def test_a_failure_leaves_no_value_with_the_reason_and_is_retried_within_the_hour(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    fake = FakeYahoo()
    fake.fail_next(404, times=None)
    fair_values = estimator(yahoo(fake), redis_client, key_prefix)

    found = fair_values.update("AAPL")
    asked = len(fake.summary_requests)  # yfinance tries a 404 twice, with two cookie kinds
    fair_values.update("AAPL")

    assert found.value is None
    assert found.reason == "no fundamentals: Yahoo has no fundamentals for AAPL"
    assert len(fake.summary_requests) == asked  # the failure is remembered
    assert 0 < redis_client.ttl(f"{key_prefix}fundamentals:AAPL") <= RETRY_SECONDS
    stored = read_estimates(redis_client, Keys(key_prefix), ["AAPL"])["AAPL"]
    assert stored.reason == found.reason


def test_a_fair_value_in_the_watchlist_is_not_estimated(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    demo = DemoProvider(latency_ms=0)

    assert estimator(demo, redis_client, key_prefix).update("KO") is None
    assert demo.request_count == 0
    assert read_estimates(redis_client, Keys(key_prefix), ["KO"]) == {}


def test_the_tickers_own_assumptions_override_the_global_ones(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    settings = Assumptions(desired_return=10, eps_multiple=30)
    found = estimator(DemoProvider(latency_ms=0), redis_client, key_prefix, settings).update("MSFT")

    expected = Assumptions(desired_return=10, eps_multiple=10, projection_years=3)
    assert found == estimate(demo_fundamentals("MSFT"), expected)
    assert found.inputs["multiple"] == 10 and found.inputs["desired_return"] == 10


def test_garbage_in_the_cache_is_asked_for_again(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    redis_client.set(f"{key_prefix}fundamentals:AAPL", '{"eps": "lots"}')
    demo = DemoProvider(latency_ms=0)

    found = estimator(demo, redis_client, key_prefix).update("AAPL")

    assert demo.request_count == 1
    assert found == estimate(demo_fundamentals("AAPL"), Assumptions())


def test_garbage_in_the_stored_estimates_is_left_out(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    key = f"{key_prefix}fair_values"
    redis_client.hset(key, "A", '{"value": -3, "method": "eps", "inputs": {}, "skipped": {}}')
    redis_client.hset(key, "B", "not json")
    redis_client.hset(key, "C", '{"value": 5, "method": "dcf", "inputs": {}, "skipped": {}}')
    redis_client.hset(key, "D", '{"value": 5, "method": "eps", "inputs": {}, "skipped": {}}')
    good = estimate(demo_fundamentals("KO"), Assumptions()).to_dict()
    redis_client.hset(key, "E", json.dumps({**good, "inputs": {**good["inputs"], "eps": "x"}}))
    redis_client.hset(key, "KO", json.dumps(good))

    found = read_estimates(redis_client, Keys(key_prefix), ["A", "B", "C", "D", "E", "F", "KO"])
    assert list(found) == ["KO"]


def test_a_scanned_ticker_gets_its_fair_value_estimated(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    demo = DemoProvider(latency_ms=0, today=lambda: TODAY)
    scanner = TickerScanner(
        provider=demo,
        criteria=Criteria(min_annualized=0.0, min_delta=-1.0),
        rate=0.04,
        clock=lambda: FROZEN_NOW,
        fair_values=estimator(demo, redis_client, key_prefix),
    )

    assert scanner.scan("AAPL", TODAY).error is None

    stored = read_estimates(redis_client, Keys(key_prefix), ["AAPL"])
    assert stored == {"AAPL": estimate(demo_fundamentals("AAPL"), Assumptions())}


def test_fundamentals_come_from_yahoo_whichever_market_serves_the_chains() -> None:
    settings = load_settings({"MARKET_DATA": "marketdata", "MARKETDATA_TOKEN": "md-test"})
    demo = DemoProvider(latency_ms=0)

    assert isinstance(fundamentals_source(settings, create_provider(settings)), YahooProvider)
    assert fundamentals_source(settings, demo) is demo
    assert fundamentals_source(settings, object()) is None  # a stand-in market without any
