"""The Yahoo provider, offline: yfinance's own code runs against a fake Yahoo session.

Expected values below are read off the fixture files in ``fixtures/yahoo``.
"""

from __future__ import annotations

import copy
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError
from curl_cffi.requests.exceptions import Timeout as CurlTimeout
from pytest_socket import SocketConnectBlockedError
from tenacity import RetryCallState, wait_none

from scanner_app.config import load_settings
from scanner_app.market.calendar import NY
from scanner_app.market.errors import (
    InvalidCrumb,
    MarketDataError,
    MarketTimeout,
    RateLimited,
    UnknownTicker,
    UnusableAnswer,
)
from scanner_app.market.models import PLACEHOLDER_IVS, OptionQuote
from scanner_app.market.registry import create_provider
from scanner_app.market.yahoo import YahooProvider, YahooSession
from scanner_app.scan.screen import Criteria, screen_chain
from scanner_app.valuation.methods import Fundamentals
from tests.yahoo_transport import (  # noqa: F401 - isolated_yfinance is autouse
    CRUMB,
    OPTIONS_PATH,
    FakeYahoo,
    RealNetworkBlocked,
    fixture_payload,
    isolated_yfinance,
)

NOV_20, NOV_27, DEC_04 = date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 4)
TODAY = date(2026, 11, 18)
RETRIES = 2


@pytest.fixture
def fake() -> FakeYahoo:
    """The fake Yahoo, with a timeout of its own to check that every request carries it."""
    return FakeYahoo(timeout=7.5)


def make_provider(fake: FakeYahoo, **overrides: Any) -> YahooProvider:
    """A provider on the fake Yahoo: no rate limit, no backoff sleeps, frozen on TODAY."""
    options: dict[str, Any] = {
        "max_concurrent": 3,
        "retries": RETRIES,
        "session": fake,
        "today": lambda: TODAY,
        "wait": wait_none(),
    }
    return YahooProvider(**(options | overrides))


def test_opening_a_feed_makes_no_request(fake: FakeYahoo) -> None:
    make_provider(fake).open("AAPL")
    assert fake.requests == []


def test_each_expiration_costs_exactly_one_options_request(fake: FakeYahoo) -> None:
    provider = make_provider(fake)
    feed = provider.open("AAPL")

    expirations = feed.expirations()
    chains = [feed.put_chain(expiration) for expiration in expirations]

    assert expirations == [NOV_20, NOV_27, DEC_04]
    assert [chain.expiration for chain in chains] == expirations
    assert fake.options_requests == ["AAPL", "AAPL_2026-11-27", "AAPL_2026-12-04"]
    assert provider.request_count == 3


def test_the_nearest_chain_comes_with_the_listing_and_is_never_fetched_again(
    fake: FakeYahoo,
) -> None:
    feed = make_provider(fake).open("AAPL")
    first = feed.put_chain(NOV_20)  # no expirations() call before: the listing is fetched
    again = feed.put_chain(NOV_20)

    assert fake.options_requests == ["AAPL"]
    assert first == again
    assert first.puts[0].contract_symbol == "AAPL261120P00200000"


def test_other_expirations_are_asked_for_by_date(fake: FakeYahoo) -> None:
    chain = make_provider(fake).open("aapl ").put_chain(NOV_27)

    dated = [request for request in fake.requests if OPTIONS_PATH in request.url][-1]
    assert urlsplit(dated.url).query == "date=1795737600"  # 2026-11-27 00:00 UTC
    assert chain.ticker == "AAPL"
    assert chain.spot == 231.25  # this answer's own quote
    assert [put.contract_symbol for put in chain.puts] == [
        "AAPL261127P00200000",
        "AAPL261127P00220000",
    ]


def test_rows_are_cleaned(fake: FakeYahoo) -> None:
    chain = make_provider(fake).open("AAPL").put_chain(NOV_20)
    puts = {put.contract_symbol: put for put in chain.puts}

    assert chain.spot == 230.5
    # The 230 put has no strike and the 235 put no contract symbol: both dropped.
    assert list(puts) == [
        "AAPL261120P00200000",
        "AAPL261120P00210000",
        "AAPL261120P00215000",
        "AAPL261120P00220000",
        "AAPL261120P00225000",
        "AAPL261120P00190000",
    ]
    assert puts["AAPL261120P00200000"] == OptionQuote(
        contract_symbol="AAPL261120P00200000",
        expiration=NOV_20,
        strike=200.0,
        bid=0.45,
        ask=0.5,
        last=0.48,
        volume=1520,
        open_interest=8800,
        implied_volatility=0.3125,
        last_trade=datetime(2026, 11, 17, 20, 59, tzinfo=UTC),
    )
    assert type(puts["AAPL261120P00200000"].volume) is int
    assert puts["AAPL261120P00200000"].last_trade.utcoffset().total_seconds() == 0
    assert (puts["AAPL261120P00210000"].volume, puts["AAPL261120P00210000"].open_interest) == (
        None,
        None,
    )
    assert puts["AAPL261120P00215000"].bid == 0.0
    assert puts["AAPL261120P00220000"].implied_volatility is None  # Yahoo sent 0
    assert puts["AAPL261120P00225000"].implied_volatility is None  # Yahoo sent 12.5
    assert puts["AAPL261120P00190000"].implied_volatility is None  # Yahoo's 1e-05 placeholder
    assert puts["AAPL261120P00190000"].last_trade is None  # no lastTradeDate
    assert puts["AAPL261120P00190000"].volume == 0


def test_an_empty_puts_list_is_an_empty_chain(fake: FakeYahoo) -> None:
    chain = make_provider(fake).open("AAPL").put_chain(DEC_04)
    assert chain.puts == ()
    assert chain.spot == 231.0


@pytest.mark.parametrize(
    ("dropped", "spot"),
    [
        (("regularMarketPrice",), 230.4),  # bid 230.3 / ask 230.5 midpoint
        (("regularMarketPrice", "bid"), 228.9),  # previous close
    ],
)
def test_spot_falls_back_to_the_midpoint_then_the_previous_close(
    fake: FakeYahoo, dropped: tuple[str, ...], spot: float
) -> None:
    payload = fixture_payload("AAPL")
    for field in dropped:
        del payload["optionChain"]["result"][0]["quote"][field]
    fake.payloads["AAPL"] = payload

    assert make_provider(fake).open("AAPL").put_chain(NOV_20).spot == pytest.approx(spot)


def test_a_chain_without_a_quote_uses_the_listings_spot(fake: FakeYahoo) -> None:
    payload = fixture_payload("AAPL_2026-11-27")
    del payload["optionChain"]["result"][0]["quote"]
    fake.payloads["AAPL_2026-11-27"] = payload

    assert make_provider(fake).open("AAPL").put_chain(NOV_27).spot == 230.5


def test_no_price_anywhere_is_a_market_data_error(fake: FakeYahoo) -> None:
    payload = fixture_payload("AAPL")
    payload["optionChain"]["result"][0]["quote"] = {"symbol": "AAPL", "currency": "USD"}
    fake.payloads["AAPL"] = payload

    with pytest.raises(MarketDataError, match="no price for AAPL"):
        make_provider(fake).open("AAPL").put_chain(NOV_20)


def test_an_unknown_ticker_costs_one_request(fake: FakeYahoo) -> None:
    with pytest.raises(UnknownTicker, match="NOPE"):
        make_provider(fake).open("NOPE").expirations()
    assert fake.options_requests == ["NOPE"]


def test_a_result_without_expiration_dates_is_an_unknown_ticker(fake: FakeYahoo) -> None:
    with pytest.raises(UnknownTicker, match="GONE"):
        make_provider(fake).open("GONE").expirations()


def test_an_empty_expiration_list_is_an_unknown_ticker(fake: FakeYahoo) -> None:
    payload = copy.deepcopy(fixture_payload("GONE"))
    payload["optionChain"]["result"][0]["expirationDates"] = []
    fake.payloads["GONE"] = payload

    with pytest.raises(UnknownTicker, match="GONE"):
        make_provider(fake).open("GONE").put_chain(NOV_20)


@pytest.mark.parametrize("symbol", ["", "   ", "AA PL", "$$$", "US0378331005"])
def test_a_malformed_symbol_is_refused_without_a_request(fake: FakeYahoo, symbol: str) -> None:
    with pytest.raises(UnknownTicker, match="not a Yahoo ticker symbol"):
        make_provider(fake).open(symbol).expirations()
    assert fake.requests == []


def test_an_unlisted_expiration_is_a_clear_error_without_a_request(fake: FakeYahoo) -> None:
    feed = make_provider(fake).open("AAPL")
    with pytest.raises(MarketDataError, match="no 2026-11-21 expiration for AAPL") as error:
        feed.put_chain(date(2026, 11, 21))
    assert "listed: 2026-11-20, 2026-11-27, 2026-12-04" in str(error.value)
    assert fake.options_requests == ["AAPL"]


def test_expirations_already_past_are_left_out(fake: FakeYahoo) -> None:
    feed = make_provider(fake, today=lambda: date(2026, 11, 21)).open("AAPL")
    assert feed.expirations() == [NOV_27, DEC_04]


@pytest.mark.parametrize(
    "payload",
    [
        b"<html><body>Something went wrong</body></html>",
        {"optionChain": {"result": [{"expirationDates": [1795132800], "options": [{}]}]}},
    ],
    ids=["not-json", "chain-without-puts"],
)
def test_an_unreadable_answer_is_a_market_data_error_and_not_retried(
    fake: FakeYahoo, payload: bytes | dict
) -> None:
    fake.payloads["AAPL"] = payload
    provider = make_provider(fake)
    with pytest.raises(MarketDataError, match="AAPL"):
        provider.open("AAPL").put_chain(NOV_20)
    assert provider.request_count == 1


def test_every_request_carries_the_session_timeout(fake: FakeYahoo) -> None:
    """yfinance passes timeout=30 to the session itself; YahooSession puts its own in."""
    make_provider(fake).open("AAPL").put_chain(NOV_27)

    hosts = {urlsplit(request.url).hostname for request in fake.requests}
    assert {"fc.yahoo.com", "query1.finance.yahoo.com", "query2.finance.yahoo.com"} <= hosts
    assert {request.timeout for request in fake.requests} == {7.5}
    options = [request for request in fake.requests if OPTIONS_PATH in request.url]
    assert [request.params for request in options] == [{"crumb": CRUMB}] * 2


class RecordingWait:
    """A tenacity wait that records each backoff it is asked for and waits 0 s."""

    def __init__(self) -> None:
        self.attempts: list[int] = []

    def __call__(self, retry_state: RetryCallState) -> float:
        self.attempts.append(retry_state.attempt_number)
        return 0.0


# yfinance retries a refused (HTTP 4xx) request once itself, with its other cookie
# strategy, so one of our attempts fails on 429 only after two refusals.
TRANSIENT_FAULTS: list[tuple[Callable[[], int | Exception], int]] = [
    (lambda: 429, 2),
    (lambda: CurlTimeout("Operation timed out after 7500 milliseconds"), 1),
    (lambda: CurlConnectionError("Could not resolve host: query2.finance.yahoo.com"), 1),
    (lambda: 503, 1),
]


@pytest.mark.parametrize(
    ("make_fault", "failures"),
    TRANSIENT_FAULTS,
    ids=["rate-limited", "timeout", "connection", "server-error"],
)
def test_a_transient_failure_is_retried_after_a_backoff(
    fake: FakeYahoo, make_fault: Callable[[], int | Exception], failures: int
) -> None:
    backoff = RecordingWait()
    provider = make_provider(fake, wait=backoff)
    fake.fail_next(make_fault(), times=failures)

    chain = provider.open("AAPL").put_chain(NOV_20)

    assert chain.puts[0].contract_symbol == "AAPL261120P00200000"
    assert provider.request_count == 2
    assert backoff.attempts == [1]


@pytest.mark.parametrize(
    ("make_fault", "error_type"),
    [
        (lambda: 429, RateLimited),
        (lambda: CurlTimeout("Operation timed out after 7500 milliseconds"), MarketTimeout),
        (lambda: CurlConnectionError("Connection refused"), MarketDataError),
        (lambda: 503, MarketDataError),
    ],
    ids=["rate-limited", "timeout", "connection", "server-error"],
)
def test_a_lasting_failure_gives_up_after_the_retries(
    fake: FakeYahoo, make_fault: Callable[[], int | Exception], error_type: type[Exception]
) -> None:
    provider = make_provider(fake)
    fake.fail_next(make_fault(), times=None)

    with pytest.raises(MarketDataError, match=f"AAPL.*{RETRIES + 1} attempts") as error:
        provider.open("AAPL").expirations()

    assert type(error.value) is error_type
    assert provider.request_count == RETRIES + 1


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.005)


def test_concurrent_requests_never_exceed_max_concurrent(fake: FakeYahoo) -> None:
    """Six feeds ask at once; the fake holds every options request until the gate opens."""
    provider = make_provider(fake, max_concurrent=2)
    fake.gate = threading.Event()

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(lambda: provider.open("AAPL").expirations()) for _ in range(6)]
        try:
            _wait_until(lambda: fake.in_flight >= 2)
            time.sleep(0.05)  # a broken bound would let a third request in within this window
            in_flight_while_held = fake.in_flight
        finally:
            fake.gate.set()
        listings = [future.result(timeout=10) for future in futures]

    assert in_flight_while_held == 2
    assert fake.peak == 2
    assert listings == [[NOV_20, NOV_27, DEC_04]] * 6
    assert provider.request_count == 6


def test_settings_tune_the_provider() -> None:
    settings = load_settings(
        {
            "MARKET_DATA": "yahoo",
            "YAHOO_MAX_CONCURRENT": "5",
            "YAHOO_REQUESTS_PER_SECOND": "3",
            "YAHOO_TIMEOUT": "9",
            "YAHOO_RETRIES": "1",
        }
    )
    provider = create_provider(settings)

    assert isinstance(provider, YahooProvider)
    assert provider.name == "yahoo"
    assert provider.retries == 1
    assert isinstance(provider.session, YahooSession)
    assert provider.session.timeout == 9.0


def test_requests_wait_for_the_shared_rate_limit_first(dead_redis_url: str) -> None:
    """The limiter is asked before Yahoo is: with its Redis down, no request goes out."""
    settings = load_settings({"MARKET_DATA": "yahoo", "REDIS_URL": dead_redis_url})
    provider = create_provider(settings)

    with pytest.raises(MarketDataError, match="yahoo rate limit could not be checked"):
        provider.open("AAPL").expirations()
    assert provider.request_count == 0


def _first_put(payload: dict[str, Any]) -> dict[str, Any]:
    """The first put of an options answer, to edit in place."""
    return payload["optionChain"]["result"][0]["options"][0]["puts"][0]


def test_a_stale_crumb_is_dropped_and_a_fresh_one_fetched(fake: FakeYahoo) -> None:
    """Yahoo rotates its crumb; yfinance would reuse the stale one on every retry."""
    provider = make_provider(fake)
    feed = provider.open("AAPL")
    feed.expirations()
    fake.rotate_crumb()

    chain = feed.put_chain(NOV_27)

    assert chain.puts[0].contract_symbol == "AAPL261127P00200000"
    assert provider.request_count == 3  # listing, the refused request, its retry
    assert fake.crumb_requests == 2


def test_a_rate_limited_crumb_request_is_retried_with_a_fresh_crumb(fake: FakeYahoo) -> None:
    """After a 429 on the crumb request yfinance keeps "Too Many Requests" as its crumb,
    sends the options request without a crumb and gets 401 Invalid Crumb."""
    provider = make_provider(fake)
    fake.fail_crumb_next(429, times=1)

    assert provider.open("AAPL").expirations() == [NOV_20, NOV_27, DEC_04]
    assert provider.request_count == 2
    options = [request for request in fake.requests if OPTIONS_PATH in request.url]
    assert options[-1].params == {"crumb": CRUMB}


@pytest.mark.parametrize("refuse", ["options-401", "crumb-429"])
def test_a_lasting_crumb_refusal_is_a_clear_error_not_an_unknown_ticker(
    fake: FakeYahoo, refuse: str
) -> None:
    provider = make_provider(fake)
    if refuse == "options-401":
        fake.fail_next(401, times=None)
    else:
        fake.fail_crumb_next(429, times=None)

    with pytest.raises(InvalidCrumb) as error:
        provider.open("AAPL").expirations()

    assert str(error.value) == "Yahoo refused the request: invalid crumb"
    assert not isinstance(error.value, UnknownTicker)
    assert provider.request_count == RETRIES + 1
    assert fake.crumb_requests >= RETRIES + 1  # a fresh crumb asked for on every attempt


def test_a_refused_later_expiration_fails_alone(fake: FakeYahoo) -> None:
    """A 401 on one dated request fails that expiration; the others still come back."""
    provider = make_provider(fake)
    feed = provider.open("AAPL")
    feed.expirations()
    fake.fail_next(401, times=RETRIES + 1)

    with pytest.raises(InvalidCrumb, match="invalid crumb"):
        feed.put_chain(NOV_27)
    nearest, last = feed.put_chain(NOV_20), feed.put_chain(DEC_04)

    assert nearest.puts and last.spot == 231.0
    assert fake.options_requests == ["AAPL"] + ["AAPL_2026-11-27"] * (RETRIES + 1) + [
        "AAPL_2026-12-04"
    ]


@pytest.mark.parametrize(
    "options",
    [[], [{"expirationDate": 1795737600, "hasMiniOptions": False, "calls": [], "puts": []}]],
    ids=["no-options-entry", "no-contracts"],
)
def test_an_empty_answer_for_an_expiration_is_unusable_not_an_empty_chain(
    fake: FakeYahoo, options: list
) -> None:
    payload = fixture_payload("AAPL_2026-11-27")
    payload["optionChain"]["result"][0]["options"] = options
    fake.payloads["AAPL_2026-11-27"] = payload

    with pytest.raises(UnusableAnswer, match="no contracts for AAPL 2026-11-27"):
        make_provider(fake).open("AAPL").put_chain(NOV_27)


def test_a_chain_with_zero_bids_and_placeholder_volatilities_is_not_live(
    fake: FakeYahoo,
) -> None:
    feed = make_provider(fake).open("MSFT")

    assert feed.expirations() == [NOV_20, NOV_27]  # the listing itself is fine
    with pytest.raises(UnusableAnswer, match="not live: none of its 4 puts has a bid"):
        feed.put_chain(NOV_20)


@pytest.mark.parametrize("placeholder", PLACEHOLDER_IVS)
def test_a_placeholder_volatility_is_a_missing_one(fake: FakeYahoo, placeholder: float) -> None:
    payload = fixture_payload("AAPL")
    _first_put(payload)["impliedVolatility"] = placeholder
    fake.payloads["AAPL"] = payload

    first = make_provider(fake).open("AAPL").put_chain(NOV_20).puts[0]

    assert (first.contract_symbol, first.bid) == ("AAPL261120P00200000", 0.45)
    assert first.implied_volatility is None


def test_a_zero_ask_beside_a_bid_gives_a_missing_ask_and_no_spread(fake: FakeYahoo) -> None:
    payload = fixture_payload("AAPL")
    _first_put(payload)["ask"] = 0.0
    fake.payloads["AAPL"] = payload
    chain = make_provider(fake).open("AAPL").put_chain(NOV_20)

    rows = screen_chain(chain, TODAY, Criteria(min_annualized=0, min_delta=-1), 0.04)

    row = next(row for row in rows if row.contract_symbol == "AAPL261120P00200000")
    assert (row.bid, row.ask, row.spread_pct) == (0.45, None, None)


def _quote(payload: dict[str, Any]) -> dict[str, Any]:
    """The quote of an options answer, to edit in place."""
    return payload["optionChain"]["result"][0]["quote"]


@pytest.mark.parametrize(
    ("extended", "spot", "source"),
    [
        (
            {"marketState": "PRE", "preMarketPrice": 232.15, "preMarketTime": 1794990600},
            232.15,
            "pre",
        ),
        (
            {"marketState": "POST", "postMarketPrice": 229.8, "postMarketTime": 1794943800},
            229.8,
            "post",
        ),
        ({"postMarketPrice": 229.8, "postMarketTime": 1794850000}, 230.5, "regular"),  # older
    ],
    ids=["pre-market", "post-market", "stale-post-market"],
)
def test_the_spot_is_the_newest_of_the_sessions_prices(
    fake: FakeYahoo, extended: dict[str, Any], spot: float, source: str
) -> None:
    payload = fixture_payload("AAPL")
    _quote(payload).update(extended)
    fake.payloads["AAPL"] = payload

    chain = make_provider(fake).open("AAPL").put_chain(NOV_20)

    assert (chain.spot, chain.spot_source) == (spot, source)
    [row, *_] = screen_chain(chain, TODAY, Criteria(min_annualized=0, min_delta=-1), 0.04)
    assert (row.spot, row.spot_source) == (spot, source)


def test_a_regular_session_quote_says_so(fake: FakeYahoo) -> None:
    assert make_provider(fake).open("AAPL").put_chain(NOV_20).spot_source == "regular"


@pytest.mark.parametrize("with_dates", [False, True], ids=["no-dates", "dates-but-no-options"])
def test_a_quote_without_an_options_list_is_no_options_listed(
    fake: FakeYahoo, with_dates: bool
) -> None:
    if with_dates:
        payload = fixture_payload("BRK-A")
        payload["optionChain"]["result"][0]["expirationDates"] = [1795132800]
        fake.payloads["BRK-A"] = payload

    with pytest.raises(UnknownTicker) as error:
        make_provider(fake).open("BRK-A").put_chain(NOV_20)

    assert str(error.value) == "Yahoo: no options listed for BRK-A"
    assert fake.options_requests == ["BRK-A"]


def test_no_test_here_can_reach_the_network() -> None:
    """Proves both offline guards of this module are armed.

    pytest-socket (``--disable-socket --allow-hosts=127.0.0.1,...`` in pyproject.toml)
    guards Python's ``socket`` module: connecting to a non-local address raises (it also
    warns, which ``pytest.warns`` absorbs). curl_cffi, which yfinance uses, opens its
    sockets inside libcurl, out of pytest-socket's sight; so ``isolated_yfinance`` also
    makes ``Curl.perform`` raise, and a provider on its real default session stops there
    instead of reaching Yahoo. Every other test uses the fake session, which never
    reaches curl at all.
    """
    with socket.socket() as sock, pytest.raises(SocketConnectBlockedError):
        with pytest.warns(UserWarning, match="203.0.113.1"):
            sock.connect(("203.0.113.1", 80))

    provider = YahooProvider(retries=0, today=lambda: TODAY)
    with pytest.raises(RealNetworkBlocked):
        provider.open("AAPL").expirations()


# -- the calendar: next earnings date -----------------------------------------------------

NOV_24 = date(2026, 11, 24)


def _earnings(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``calendarEvents.earnings`` of a calendar answer, to edit in place."""
    return payload["quoteSummary"]["result"][0]["calendarEvents"]["earnings"]


def test_the_next_earnings_date_comes_from_yfinances_calendar(fake: FakeYahoo) -> None:
    provider = make_provider(fake)

    assert provider.open("AAPL").next_earnings() == NOV_24

    assert fake.calendar_requests == ["AAPL_calendar"] and fake.options_requests == []
    assert provider.request_count == 1
    [request] = [seen for seen in fake.requests if "quoteSummary" in seen.url]
    assert request.params["modules"] == "calendarEvents" and request.params["crumb"] == CRUMB


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ([1795525200, 1795784400], NOV_24),  # an estimate: Nov 24-27, its first day
        ([1794920400, 1795525200], NOV_24),  # Nov 17 is past
        ([1794920400], None),  # only a past report
        ([], None),  # none scheduled
    ],
    ids=["estimated-range", "past-and-next", "only-past", "none"],
)
def test_the_next_earnings_date_is_the_first_from_today_on(
    fake: FakeYahoo, dates: list[int], expected: date | None
) -> None:
    payload = fixture_payload("AAPL_calendar")
    _earnings(payload)["earningsDate"] = dates
    fake.payloads["AAPL_calendar"] = payload

    assert make_provider(fake).open("AAPL").next_earnings() == expected


def test_a_fund_without_earnings_has_no_earnings_date(fake: FakeYahoo) -> None:
    payload = fixture_payload("AAPL_calendar")
    del payload["quoteSummary"]["result"][0]["calendarEvents"]["earnings"]
    fake.payloads["SPY_calendar"] = payload

    assert make_provider(fake).open("SPY").next_earnings() is None


def test_a_refused_calendar_request_is_retried_with_a_fresh_crumb(fake: FakeYahoo) -> None:
    """yfinance turns the 401 into an empty calendar; the provider sees the raw answer."""
    provider = make_provider(fake)
    fake.fail_next(401, times=1)

    assert provider.open("AAPL").next_earnings() == NOV_24
    assert fake.calendar_requests == ["AAPL_calendar"] * 2
    assert fake.crumb_requests == 2


@pytest.mark.parametrize(
    ("fault", "error_type", "message"),
    [
        (401, InvalidCrumb, "Yahoo refused the request: invalid crumb"),
        (503, MarketDataError, "Yahoo failed to answer for AAPL, 3 attempts in a row"),
    ],
    ids=["invalid-crumb", "server-error"],
)
def test_a_lasting_calendar_refusal_is_an_error_not_an_empty_calendar(
    fake: FakeYahoo, fault: int, error_type: type, message: str
) -> None:
    provider = make_provider(fake)
    fake.fail_next(fault, times=None)

    with pytest.raises(error_type, match=message):
        provider.open("AAPL").next_earnings()
    assert provider.request_count == RETRIES + 1


def test_a_symbol_yahoo_has_no_calendar_for_has_no_earnings_date(fake: FakeYahoo) -> None:
    fake.fail_next(404, times=None)  # Yahoo's "Quote not found for symbol"

    assert make_provider(fake).open("AAPL").next_earnings() is None


def test_calls_come_in_the_same_answers_when_asked_for(fake: FakeYahoo) -> None:
    provider = make_provider(fake)
    feed = provider.open("AAPL", calls=True)

    chains = [feed.put_chain(expiration) for expiration in feed.expirations()]

    assert fake.options_requests == ["AAPL", "AAPL_2026-11-27", "AAPL_2026-12-04"]
    call = chains[0].calls[0]
    assert (call.contract_symbol, call.strike, call.bid, call.ask) == (
        "AAPL261120C00235000",
        235.0,
        1.08,
        1.12,
    )
    assert (call.volume, call.open_interest, call.implied_volatility) == (4210, 15020, 0.2451)


def test_a_feed_not_asked_for_calls_leaves_them_out(fake: FakeYahoo) -> None:
    assert make_provider(fake).open("AAPL").put_chain(NOV_20).calls == ()


# -- fundamentals: trailing EPS, free cash flow, shares --------------------------------------


def _statistics(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``defaultKeyStatistics`` of a fundamentals answer, to edit in place."""
    return payload["quoteSummary"]["result"][0]["defaultKeyStatistics"]


def test_fundamentals_come_from_one_quote_summary_request(fake: FakeYahoo) -> None:
    provider = make_provider(fake)

    figures = provider.fundamentals("aapl")

    assert figures == Fundamentals(eps=7.46, free_cash_flow=78862254080, shares=14776353000)
    assert figures.fcf_per_share == pytest.approx(5.33706, abs=1e-5)
    assert fake.summary_requests == ["AAPL_fundamentals"] and provider.request_count == 1
    [request] = [seen for seen in fake.requests if "quoteSummary" in seen.url]
    assert request.params["modules"] == "financialData,defaultKeyStatistics"
    assert request.params["formatted"] == "false" and request.params["crumb"] == CRUMB


def test_fundamentals_read_raw_and_formatted_pairs_and_leave_missing_ones_unknown(
    fake: FakeYahoo,
) -> None:
    payload = fixture_payload("AAPL_fundamentals")
    _statistics(payload)["trailingEps"] = {"raw": -1.25, "fmt": "-1.25"}
    del payload["quoteSummary"]["result"][0]["financialData"]["freeCashflow"]
    fake.payloads["RIVN_fundamentals"] = payload

    figures = make_provider(fake).fundamentals("RIVN")

    assert figures.eps == -1.25 and figures.free_cash_flow is None
    assert figures.fcf_per_share is None


def test_a_refused_fundamentals_request_is_retried_with_a_fresh_crumb(fake: FakeYahoo) -> None:
    provider = make_provider(fake)
    fake.fail_next(401, times=1)

    assert provider.fundamentals("AAPL").eps == 7.46
    assert fake.summary_requests == ["AAPL_fundamentals"] * 2


def test_fundamentals_of_a_symbol_yahoo_does_not_know_are_an_error(fake: FakeYahoo) -> None:
    fake.fail_next(404, times=None)  # Yahoo's "Quote not found for symbol"

    with pytest.raises(MarketDataError, match="Yahoo has no fundamentals for NOPE"):
        make_provider(fake).fundamentals("NOPE")


def test_fundamentals_of_a_malformed_symbol_are_refused_without_a_request(fake: FakeYahoo) -> None:
    with pytest.raises(UnknownTicker):
        make_provider(fake).fundamentals("<script>")
    assert fake.requests == []


def test_a_year_of_daily_closes_comes_from_one_chart_request(fake: FakeYahoo) -> None:
    """yfinance's price history parses Yahoo's chart answer: one request for a year, the
    dates in New York, Yahoo's closes (not the dividend-adjusted ones), days without a close
    left out, and only the days asked for."""
    provider = make_provider(fake)
    payload = fixture_payload("AAPL_chart")["chart"]["result"][0]
    sent = dict(zip(payload["timestamp"], payload["indicators"]["quote"][0]["close"], strict=True))

    bars = provider.open("AAPL").daily_closes(date(2025, 11, 18), date(2026, 11, 17))

    assert provider.request_count == 1
    assert [params["range"] for params in fake.chart_requests] == ["1y"]
    assert fake.chart_requests[0]["interval"] == "1d"
    assert bars[0].day == date(2025, 11, 18) and bars[-1].day == date(2026, 11, 17)
    assert date(2025, 11, 27) not in {bar.day for bar in bars}  # Thanksgiving: no session
    assert date(2026, 3, 12) not in {bar.day for bar in bars}  # Yahoo sent no close that day
    expected = {
        datetime.fromtimestamp(stamp, NY).date(): close
        for stamp, close in sent.items()
        if close is not None
    }
    del expected[date(2026, 11, 18)]  # today: after the last day asked for
    assert {bar.day: bar.close for bar in bars} == expected
    assert all(bar.iv30 is None for bar in bars)


def test_daily_closes_are_retried_and_a_lasting_failure_is_an_error(fake: FakeYahoo) -> None:
    """yfinance's history swallows refusals and timeouts (an empty frame); the provider
    retries them as it does the chains, and says so when they last."""
    provider = make_provider(fake)
    fake.fail_next(CurlTimeout("Operation timed out after 7500 milliseconds"), times=1)
    assert len(provider.open("AAPL").daily_closes(date(2026, 11, 1), date(2026, 11, 17))) == 12
    assert provider.request_count == 2

    fake.fail_next(401, times=None)
    with pytest.raises(InvalidCrumb):
        provider.open("AAPL").daily_closes(date(2026, 11, 1), date(2026, 11, 17))


def test_a_chart_without_closes_is_an_error_not_an_empty_year(fake: FakeYahoo) -> None:
    fake.payloads["AAPL_chart"] = {
        "chart": {"result": None, "error": {"code": "Not Found", "description": "No data found"}}
    }
    with pytest.raises(MarketDataError, match="Yahoo sent no daily closes for AAPL"):
        make_provider(fake).open("AAPL").daily_closes(date(2026, 11, 1), date(2026, 11, 17))
