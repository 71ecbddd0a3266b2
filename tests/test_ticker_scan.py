"""One ticker's scan over the offline markets: partial and failed tickers, the credits a
ticker cost, and its rows marked against the next earnings date (cached on real Redis)."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
import redis
from tenacity import wait_none

from scanner_app.market.demo import DemoProvider
from scanner_app.market.errors import ProviderRefused
from scanner_app.market.marketdata import MarketDataProvider
from scanner_app.market.yahoo import YahooProvider
from scanner_app.redis_door import Keys
from scanner_app.scan.earnings import EarningsCalendar
from scanner_app.scan.json_cache import KEEP_SECONDS, RETRY_SECONDS
from scanner_app.scan.screen import Criteria
from scanner_app.scan.ticker_scan import TickerScanner
from tests.marketdata_transport import FakeMarketData, chain_answer, ok
from tests.yahoo_transport import (  # noqa: F401 - isolated_yfinance is autouse
    FakeYahoo,
    fixture_payload,
    isolated_yfinance,
)

from .conftest import FROZEN_NOW

TODAY = FROZEN_NOW.date()  # 2026-11-18, the day of the fixtures
RETRIES = 2
KEEP_ALL = Criteria(min_annualized=0.0, min_delta=-1.0)


@pytest.fixture
def fake() -> FakeYahoo:
    """The fake Yahoo."""
    return FakeYahoo()


@pytest.fixture
def calendar(redis_client: redis.Redis, key_prefix: str) -> EarningsCalendar:
    """Earnings dates cached on the test Redis under the test's prefix."""
    return EarningsCalendar(redis_client, Keys(key_prefix))


def yahoo(fake: FakeYahoo) -> YahooProvider:
    """Yahoo on the fake: fast, no backoff sleeps, frozen on TODAY."""
    return YahooProvider(
        session=fake,
        today=lambda: TODAY,
        retries=RETRIES,
        wait=wait_none(),
    )


def marketdata(fake: FakeMarketData) -> MarketDataProvider:
    """Market Data on the fake API."""
    return MarketDataProvider(
        token="md-test-token",
        transport=httpx.MockTransport(fake),
        today=lambda: TODAY,
        retries=RETRIES,
        wait=wait_none(),
    )


def scanner(provider, earnings: EarningsCalendar | None = None) -> TickerScanner:
    """A ticker scanner that keeps every out-of-the-money put with a bid."""
    return TickerScanner(
        provider=provider, criteria=KEEP_ALL, rate=0.04, clock=lambda: FROZEN_NOW, earnings=earnings
    )


def expirations(rows: list[dict]) -> set[str]:
    return {row["expiration"] for row in rows}


# -- partial and failed tickers --------------------------------------------------------------


def test_a_401_on_one_expiration_keeps_the_others_and_lists_the_failed_date(
    fake: FakeYahoo,
) -> None:
    fake.fail_key("AAPL_2026-11-27", 401)

    result = scanner(yahoo(fake)).scan("AAPL", TODAY)

    assert result.error is None
    assert result.partial_expirations == ["2026-11-27"]
    assert expirations(result.rows) == {"2026-11-20"}  # Dec 4 came back, with no puts
    assert fake.options_requests == [
        "AAPL",
        *["AAPL_2026-11-27"] * (RETRIES + 1),
        "AAPL_2026-12-04",
    ]


def test_a_401_on_the_first_request_fails_the_ticker_with_a_clear_message(
    fake: FakeYahoo,
) -> None:
    fake.fail_next(401, times=None)

    result = scanner(yahoo(fake)).scan("AAPL", TODAY)

    assert result.error == "Yahoo refused the request: invalid crumb"
    assert result.rows == [] and result.partial_expirations == []


def test_a_ticker_whose_every_chain_is_not_live_fails_and_is_not_empty(fake: FakeYahoo) -> None:
    """Outside regular hours every chain has zero bids: that is no answer, not "no puts"."""
    fake.payloads["MSFT_2026-11-27"] = fixture_payload("MSFT")

    result = scanner(yahoo(fake)).scan("MSFT", TODAY)

    assert result.error is not None and "not live" in result.error
    assert result.rows == []


def test_a_live_chain_without_a_qualifying_put_is_a_real_empty_answer(fake: FakeYahoo) -> None:
    strict = TickerScanner(
        provider=yahoo(fake),
        criteria=Criteria(min_annualized=10_000),
        rate=0.04,
        clock=lambda: FROZEN_NOW,
    )

    result = strict.scan("AAPL", TODAY)

    assert (result.error, result.rows, result.partial_expirations) == (None, [], [])


def test_an_account_refusal_is_not_the_tickers_to_keep() -> None:
    fake = FakeMarketData()
    fake.lasting = (401, {"s": "error", "errmsg": "Invalid token."}, {})

    with pytest.raises(ProviderRefused):
        scanner(marketdata(fake)).scan("AAPL", TODAY)


# -- credits -------------------------------------------------------------------------------


def test_a_ticker_reports_what_its_market_data_requests_cost(calendar) -> None:
    fake = FakeMarketData()
    fake.answers.append(ok(credits=5))

    result = scanner(marketdata(fake), calendar).scan("AAPL", TODAY)

    assert result.rows and result.credits == 5 + 1  # the chain, then the earnings date


def test_a_failed_ticker_still_reports_its_credits() -> None:
    fake = FakeMarketData()
    body = chain_answer()
    body["bid"] = [0.0] * len(body["bid"])
    fake.answers.append(ok(body, credits=4))

    result = scanner(marketdata(fake)).scan("AAPL", TODAY)

    assert "not live" in result.error and result.credits == 4


def test_a_provider_that_bills_nothing_reports_no_credits(fake: FakeYahoo) -> None:
    assert scanner(yahoo(fake)).scan("AAPL", TODAY).credits is None


# -- earnings ------------------------------------------------------------------------------


def test_rows_expiring_on_or_after_the_next_earnings_are_marked(fake: FakeYahoo, calendar) -> None:
    result = scanner(yahoo(fake), calendar).scan("AAPL", TODAY)

    marked = {row["expiration"]: row["earnings_before_expiry"] for row in result.rows}
    assert marked == {"2026-11-20": False, "2026-11-27": True}  # earnings on Nov 24
    assert {row["earnings_date"] for row in result.rows} == {"2026-11-24"}


def test_the_earnings_date_is_asked_for_once_a_day_and_kept_in_redis(
    fake: FakeYahoo, calendar, redis_client, key_prefix
) -> None:
    ticker_scanner = scanner(yahoo(fake), calendar)

    first = ticker_scanner.scan("AAPL", TODAY)
    second = ticker_scanner.scan("AAPL", TODAY)

    assert fake.calendar_requests == ["AAPL_calendar"]
    assert first.rows == second.rows
    key = f"{key_prefix}earnings:AAPL"
    assert redis_client.get(key) == b'{"next": "2026-11-24"}'
    assert 0 < redis_client.ttl(key) <= KEEP_SECONDS


def test_a_past_cached_date_is_asked_for_again(fake: FakeYahoo, calendar, redis_client, key_prefix):
    redis_client.set(f"{key_prefix}earnings:AAPL", '{"next": "2026-11-17"}', ex=KEEP_SECONDS)

    result = scanner(yahoo(fake), calendar).scan("AAPL", TODAY)

    assert fake.calendar_requests == ["AAPL_calendar"]
    assert {row["earnings_date"] for row in result.rows} == {"2026-11-24"}


def test_a_failed_earnings_request_leaves_the_rows_unmarked_and_is_retried_later(
    calendar, redis_client, key_prefix
) -> None:
    fake = FakeMarketData()
    fake.earnings.append((402, {"s": "error", "errmsg": "Premium endpoint."}, {}))

    result = scanner(marketdata(fake), calendar).scan("AAPL", TODAY)

    assert result.error is None and result.rows  # earnings alone never fail a ticker
    assert all(row["earnings_date"] is None for row in result.rows)
    assert not any(row["earnings_before_expiry"] for row in result.rows)
    assert 0 < redis_client.ttl(f"{key_prefix}earnings:AAPL") <= RETRY_SECONDS


def test_no_earnings_request_without_the_calendar(fake: FakeYahoo) -> None:
    result = scanner(yahoo(fake)).scan("AAPL", TODAY)

    assert fake.calendar_requests == []
    assert all(row["earnings_date"] is None for row in result.rows)


def test_no_earnings_request_for_a_ticker_without_rows(fake: FakeYahoo, calendar) -> None:
    fake.fail_next(401, times=None)

    scanner(yahoo(fake), calendar).scan("AAPL", TODAY)

    assert fake.calendar_requests == []


def test_a_failed_expiration_beside_answers_without_qualifying_puts_fails_the_ticker(
    fake: FakeYahoo,
) -> None:
    """Nothing qualifies in what came back, but the failed one might have held some: that is
    no answer, and the ticker's earlier rows must stay."""
    fake.fail_key("AAPL_2026-11-27", 401)
    strict = TickerScanner(
        provider=yahoo(fake),
        criteria=Criteria(min_annualized=10_000),
        rate=0.04,
        clock=lambda: FROZEN_NOW,
    )

    result = strict.scan("AAPL", TODAY)

    assert result.error == "Yahoo refused the request: invalid crumb"
    assert result.rows == [] and result.partial_expirations == []


@pytest.mark.parametrize("garbage", [b"\x80 not json", b'{"next": "soon"}', b"[1, 2]"])
def test_garbage_in_the_earnings_cache_is_asked_for_again(
    fake: FakeYahoo, calendar, redis_client, key_prefix, garbage
) -> None:
    redis_client.set(f"{key_prefix}earnings:AAPL", garbage)

    assert calendar.next_date("AAPL", yahoo(fake).open("AAPL"), TODAY).isoformat() == "2026-11-24"
    assert fake.calendar_requests == ["AAPL_calendar"]


def test_without_redis_the_earnings_date_is_still_fetched(fake: FakeYahoo) -> None:
    down = EarningsCalendar(redis.Redis.from_url("redis://127.0.0.1:1/0"), Keys("down:"))

    assert down.next_date("AAPL", yahoo(fake).open("AAPL"), TODAY).isoformat() == "2026-11-24"


# -- the expiration window -------------------------------------------------------------------


def test_min_dte_leaves_sooner_expirations_unfetched_and_keeps_the_monthly():
    today = date(2026, 12, 2)
    provider = DemoProvider(today=lambda: today, latency_ms=0)
    criteria = Criteria(min_annualized=0.0, min_delta=-1.0, weeks=7, min_dte=30)
    ticker_scanner = TickerScanner(
        provider=provider, criteria=criteria, rate=0.04, clock=lambda: FROZEN_NOW
    )

    result = ticker_scanner.scan("AAPL", today)

    # the 30-45 day view: the weekly of Jan 8 and the monthly of Jan 15 (third Friday)
    assert expirations(result.rows) == {"2027-01-08", "2027-01-15"}
    assert all(30 <= row["dte"] <= 45 for row in result.rows)
    assert provider.request_count == 3  # the listing (with the nearest chain) and two chains
