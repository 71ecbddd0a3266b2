"""The Market Data provider, offline: httpx's mock transport answers in the API's
documented columnar shape (``fixtures/marketdata``), ``no_data`` and ``error`` bodies,
and the HTTP statuses the API uses for refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from tenacity import wait_none

from scanner_app.config import ConfigError, load_settings
from scanner_app.market.errors import (
    MarketDataError,
    MarketTimeout,
    ProviderRefused,
    RateLimited,
    UnknownTicker,
    UnusableAnswer,
)
from scanner_app.market.marketdata import MarketDataProvider
from scanner_app.market.models import OptionQuote
from scanner_app.market.registry import create_provider
from scanner_app.scan.screen import Criteria, screen_chain
from tests.marketdata_transport import Answer, FakeMarketData, chain_answer, fixture, ok

TODAY = date(2026, 11, 18)
NOV_20, NOV_27 = date(2026, 11, 20), date(2026, 11, 27)
TOKEN = "md-test-token"
RETRIES = 2
KEEP_ALL = Criteria(min_annualized=0.0, min_delta=-1.0)


@pytest.fixture
def fake() -> FakeMarketData:
    """A fake Market Data API."""
    return FakeMarketData()


def make_provider(fake: FakeMarketData, **overrides: Any) -> MarketDataProvider:
    """A provider on the fake API: no backoff sleeps, no rate limit, frozen on TODAY."""
    options: dict[str, Any] = {
        "token": TOKEN,
        "transport": httpx.MockTransport(fake),
        "today": lambda: TODAY,
        "wait": wait_none(),
        "retries": RETRIES,
    }
    return MarketDataProvider(**(options | overrides))


def test_opening_a_feed_makes_no_request(fake: FakeMarketData) -> None:
    make_provider(fake).open("AAPL")
    assert fake.requests == []


def test_one_request_asks_only_for_the_puts_the_screen_can_use(fake: FakeMarketData) -> None:
    feed = make_provider(fake).open(" aapl")

    assert feed.expirations() == [NOV_20, NOV_27]
    assert [len(feed.put_chain(day).puts) for day in (NOV_20, NOV_27)] == [3, 2]

    [request] = fake.requests  # every expiration came with the one request
    assert request.url.path == "/v1/options/chain/AAPL/"
    assert request.url.host == "api.marketdata.app"
    assert dict(request.url.params) == {
        "side": "put",
        "range": "otm",
        "minBid": "0.01",
        "from": "2026-11-18",
        "to": "2026-12-11",  # the fourth weekly expiration from TODAY; the API's `to` is inclusive
    }
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_minimum_dte_asks_only_for_expirations_that_far_out(fake: FakeMarketData) -> None:
    make_provider(fake, weeks=12, min_dte=30).open("AAPL").expirations()
    make_provider(fake, min_dte=1).open("AAPL").expirations()

    first, second = fake.requests
    assert (first.url.params["from"], first.url.params["to"]) == ("2026-12-18", "2027-02-05")
    assert second.url.params["from"] == "2026-11-18"  # today's expiration counts as 1 day


def test_min_dte_comes_from_the_settings() -> None:
    settings = load_settings(
        {"MARKET_DATA": "marketdata", "MARKETDATA_TOKEN": TOKEN, "MIN_DTE": "21", "WEEKS": "6"}
    )
    assert MarketDataProvider.from_settings(settings).min_dte == 21


def test_the_base_url_and_the_mode_are_honoured(fake: FakeMarketData) -> None:
    provider = make_provider(fake, base_url="http://127.0.0.1:8099/marketdata", mode="cached")
    provider.open("AAPL").expirations()

    [request] = fake.requests
    assert str(request.url).startswith("http://127.0.0.1:8099/marketdata/v1/options/chain/AAPL/?")
    assert request.url.params["mode"] == "cached"


def test_columns_become_cleaned_quotes_with_the_apis_delta(fake: FakeMarketData) -> None:
    chain = make_provider(fake).open("AAPL").put_chain(NOV_20)

    assert (chain.ticker, chain.expiration, chain.spot, chain.spot_source) == (
        "AAPL",
        NOV_20,
        230.5,
        "regular",
    )
    assert [put.strike for put in chain.puts] == [200.0, 210.0, 220.0]
    assert chain.puts[0] == OptionQuote(
        contract_symbol="AAPL261120P00200000",
        expiration=NOV_20,
        strike=200.0,
        bid=0.45,
        ask=0.5,
        last=0.48,
        volume=1520,
        open_interest=8800,
        implied_volatility=0.3125,
        last_trade=None,
        delta=-0.0482,
    )
    assert chain.puts[2].delta is None  # the API sent null


def test_rows_say_where_their_delta_came_from(fake: FakeMarketData) -> None:
    chain = make_provider(fake).open("AAPL").put_chain(NOV_20)

    rows = {row.strike: row.to_dict() for row in screen_chain(chain, TODAY, KEEP_ALL, 0.04)}

    assert (rows[200.0]["delta"], rows[200.0]["delta_source"]) == (-0.0482, "api")
    assert rows[220.0]["delta_source"] == "black_scholes"
    assert -1 < rows[220.0]["delta"] < 0


def test_calls_and_rows_without_a_strike_are_left_out(fake: FakeMarketData) -> None:
    body = chain_answer()
    body["side"][1] = "call"
    body["strike"][2] = None
    fake.answers.append(ok(body))

    chain = make_provider(fake).open("AAPL").put_chain(NOV_20)

    assert [put.contract_symbol for put in chain.puts] == ["AAPL261120P00200000"]


def test_each_feed_sums_the_credits_of_its_own_answers(fake: FakeMarketData) -> None:
    provider = make_provider(fake)
    fake.answers.extend([ok(credits=5), (429, {"s": "error", "errmsg": "busy"}, {}), ok(credits=3)])
    aapl, msft = provider.open("AAPL"), provider.open("MSFT")

    aapl.expirations()
    msft.expirations()

    assert (aapl.credits, msft.credits) == (5, 3)  # the refused answer cost nothing
    assert provider.request_count == 3


def test_no_data_is_an_unknown_ticker_and_not_retried(fake: FakeMarketData) -> None:
    provider = make_provider(fake)
    fake.answers.append((404, {"s": "no_data"}, {}))

    with pytest.raises(UnknownTicker, match="no puts for ZZZZ"):
        provider.open("ZZZZ").expirations()
    assert provider.request_count == 1


def test_an_error_answer_fails_the_ticker_with_its_message(fake: FakeMarketData) -> None:
    provider = make_provider(fake)
    fake.answers.append((400, {"s": "error", "errmsg": "Invalid parameter: from."}, {}))

    with pytest.raises(MarketDataError, match="AAPL: Invalid parameter: from.") as error:
        provider.open("AAPL").expirations()
    assert not isinstance(error.value, ProviderRefused | UnknownTicker)
    assert provider.request_count == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            (401, {"s": "error", "errmsg": "Invalid token."}, {}),
            "refused the token.*MARKETDATA_TOKEN",
        ),
        ((402, {"s": "error", "errmsg": "Upgrade required."}, {}), "not in the plan.*Upgrade"),
        (
            (
                429,
                {"s": "error", "errmsg": "API credit limit reached for current window."},
                {
                    "X-Api-Ratelimit-Remaining": "0",
                    "X-Api-Ratelimit-Reset": "1795098600",
                },  # 9:30 New York,
            ),
            "no API credits left until 2026-11-19 14:30 UTC",
        ),
    ],
    ids=["bad-token", "payment-required", "out-of-credits"],
)
def test_an_account_refusal_stops_at_once(
    fake: FakeMarketData, answer: Answer, message: str
) -> None:
    provider = make_provider(fake)
    fake.lasting = answer

    with pytest.raises(ProviderRefused, match=message):
        provider.open("AAPL").expirations()
    assert provider.request_count == 1


TRANSIENT: list[tuple[Callable[[], Answer], type[MarketDataError]]] = [
    (lambda: (429, {"s": "error", "errmsg": "Too many concurrent requests."}, {}), RateLimited),
    (lambda: httpx.ReadTimeout("timed out"), MarketTimeout),
    (lambda: httpx.ConnectError("connection refused"), MarketDataError),
    (lambda: (503, {"s": "error", "errmsg": "Service unavailable"}, {}), MarketDataError),
]
TRANSIENT_IDS = ["rate-limited", "timeout", "connection", "server-error"]


@pytest.mark.parametrize(("make_answer", "error_type"), TRANSIENT, ids=TRANSIENT_IDS)
def test_a_transient_failure_is_retried(
    fake: FakeMarketData, make_answer: Callable[[], Answer], error_type: type
) -> None:
    provider = make_provider(fake)
    fake.answers.append(make_answer())

    assert provider.open("AAPL").expirations() == [NOV_20, NOV_27]
    assert provider.request_count == 2


@pytest.mark.parametrize(("make_answer", "error_type"), TRANSIENT, ids=TRANSIENT_IDS)
def test_a_lasting_failure_gives_up_after_the_retries(
    fake: FakeMarketData, make_answer: Callable[[], Answer], error_type: type
) -> None:
    provider = make_provider(fake)
    fake.lasting = make_answer()

    with pytest.raises(MarketDataError, match=f"AAPL.*{RETRIES + 1} attempts") as error:
        provider.open("AAPL").expirations()
    assert type(error.value) is error_type
    assert provider.request_count == RETRIES + 1


def test_a_chain_without_bids_is_not_live(fake: FakeMarketData) -> None:
    body = chain_answer()
    body["bid"] = [0.0, 0.0, 0.0, 0.92, 2.55]
    fake.answers.append(ok(body))
    feed = make_provider(fake).open("AAPL")

    with pytest.raises(UnusableAnswer, match="not live"):
        feed.put_chain(NOV_20)
    assert feed.put_chain(NOV_27).puts[0].bid == 0.92  # the other expiration stands


def test_an_answer_without_usable_puts_is_unusable(fake: FakeMarketData) -> None:
    body = chain_answer()
    body["side"] = ["call"] * len(body["side"])
    fake.answers.append(ok(body))

    with pytest.raises(UnusableAnswer, match="no usable puts for AAPL"):
        make_provider(fake).open("AAPL").expirations()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda body: body["bid"].pop(), "columns bid are not 5 long"),
        (lambda body: body.pop("optionSymbol"), "no optionSymbol column"),
        (lambda body: body.update(underlyingPrice=[None] * 5), "no price for AAPL"),
    ],
    ids=["uneven-columns", "no-symbols", "no-price"],
)
def test_an_unreadable_answer_is_a_market_data_error(
    fake: FakeMarketData, change: Callable[[dict], Any], message: str
) -> None:
    body = chain_answer()
    change(body)
    fake.answers.append(ok(body))

    with pytest.raises(MarketDataError, match=message):
        make_provider(fake).open("AAPL").expirations()


def test_an_expiration_the_answer_lacks_is_a_clear_error(fake: FakeMarketData) -> None:
    with pytest.raises(MarketDataError, match="no 2026-12-04 puts for AAPL; sent: 2026-11-20"):
        make_provider(fake).open("AAPL").put_chain(date(2026, 12, 4))


@pytest.mark.parametrize("symbol", ["", "AA PL", "AAPL/../../user", "$$$"])
def test_a_malformed_symbol_is_refused_without_a_request(fake: FakeMarketData, symbol: str) -> None:
    with pytest.raises(UnknownTicker, match="not a Market Data ticker symbol"):
        make_provider(fake).open(symbol).expirations()
    assert fake.requests == []


def test_settings_make_a_market_data_provider() -> None:
    settings = load_settings(
        {
            "MARKET_DATA": "marketdata",
            "MARKETDATA_TOKEN": TOKEN,
            "MARKETDATA_MODE": "cached",
            "MARKETDATA_RETRIES": "1",
            "WEEKS": "2",
        }
    )
    provider = create_provider(settings)

    assert isinstance(provider, MarketDataProvider)
    assert (provider.name, provider.mode, provider.retries, provider.weeks) == (
        "marketdata",
        "cached",
        1,
        2,
    )
    assert settings["MARKETDATA_BASE_URL"] == "https://api.marketdata.app"


def test_requests_wait_for_the_shared_rate_limit_first(dead_redis_url: str) -> None:
    """The limiter is asked before the API is: with its Redis down, no request goes out."""
    settings = load_settings(
        {"MARKET_DATA": "marketdata", "MARKETDATA_TOKEN": TOKEN, "REDIS_URL": dead_redis_url}
    )
    provider = create_provider(settings)

    with pytest.raises(MarketDataError, match="marketdata rate limit could not be checked"):
        provider.open("AAPL").expirations()
    assert provider.request_count == 0


def test_start_up_refuses_market_data_without_a_token() -> None:
    with pytest.raises(ConfigError, match="MARKET_DATA=marketdata needs MARKETDATA_TOKEN"):
        create_provider(load_settings({"MARKET_DATA": "marketdata"}))


def test_a_bad_mode_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigError, match="MARKETDATA_MODE='fast' is not valid"):
        load_settings(
            {"MARKET_DATA": "marketdata", "MARKETDATA_TOKEN": TOKEN, "MARKETDATA_MODE": "fast"}
        )


# -- earnings ------------------------------------------------------------------------------

NOV_24 = date(2026, 11, 24)


def test_the_next_earnings_date_comes_from_the_earnings_endpoint(fake: FakeMarketData) -> None:
    feed = make_provider(fake).open("AAPL")

    assert feed.next_earnings() == NOV_24

    [request] = fake.requests
    assert request.url.path == "/v1/stocks/earnings/AAPL/"
    assert dict(request.url.params) == {"from": "2026-11-18", "to": "2027-02-26"}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert feed.credits == 1


def test_earnings_reports_before_today_are_not_the_next(fake: FakeMarketData) -> None:
    body = fixture("AAPL_earnings")
    for values in body.values():
        if isinstance(values, list):
            values.insert(0, values[0])  # a second report ...
    body["reportDate"][0] = 1793246400  # ... on Oct 29, already past
    fake.earnings.append(ok(body, credits=1))

    assert make_provider(fake).open("AAPL").next_earnings() == NOV_24


def test_no_earnings_ahead_is_no_date(fake: FakeMarketData) -> None:
    fake.earnings.append((404, {"s": "no_data"}, {}))

    assert make_provider(fake).open("AAPL").next_earnings() is None


def test_earnings_outside_the_plan_are_refused_like_any_request(fake: FakeMarketData) -> None:
    """The earnings endpoint is a premium one; what to do with that is the scan's choice."""
    fake.earnings.append((402, {"s": "error", "errmsg": "Premium endpoint."}, {}))

    with pytest.raises(ProviderRefused, match="not in the plan"):
        make_provider(fake).open("AAPL").next_earnings()


def test_a_feed_sums_the_credits_of_its_chain_and_earnings(fake: FakeMarketData) -> None:
    feed = make_provider(fake).open("AAPL")

    feed.expirations()
    feed.next_earnings()

    assert feed.credits == 5 + 1


def call_answer() -> dict[str, Any]:
    """The fixture chain turned into calls above the price: two at 240 and 250 on NOV_20."""
    body = chain_answer()
    keep = [0, 1]
    body = {
        name: [values[i] for i in keep] if isinstance(values, list) else values
        for name, values in body.items()
    }
    body["side"] = ["call", "call"]
    body["strike"] = [240.0, 250.0]
    body["optionSymbol"] = ["AAPL261120C00240000", "AAPL261120C00250000"]
    body["delta"] = [0.21, None]
    return body


def test_a_feed_for_calls_asks_once_more_with_side_call(fake: FakeMarketData) -> None:
    fake.answers.extend([ok(), ok(call_answer(), credits=2)])
    feed = make_provider(fake).open("AAPL", calls=True)

    chain = feed.put_chain(NOV_20)

    puts_request, calls_request = fake.requests
    assert puts_request.url.params["side"] == "put"
    assert dict(calls_request.url.params) == {
        "side": "call",
        "range": "otm",
        "minBid": "0.01",
        "from": "2026-11-18",
        "to": "2026-12-11",
    }
    assert [(call.strike, call.delta) for call in chain.calls] == [(240.0, 0.21), (250.0, None)]
    assert [put.strike for put in chain.puts] == [200.0, 210.0, 220.0]
    assert feed.put_chain(NOV_27).calls == ()
    assert feed.credits == 7
    assert len(fake.requests) == 2  # both answers are kept for the whole scan


def test_no_calls_in_the_window_leave_the_puts_standing(fake: FakeMarketData) -> None:
    fake.answers.extend([ok(), (200, {"s": "no_data"}, {})])
    chain = make_provider(fake).open("AAPL", calls=True).put_chain(NOV_20)
    assert chain.calls == () and len(chain.puts) == 3


def test_a_feed_without_shares_asks_for_puts_only(fake: FakeMarketData) -> None:
    make_provider(fake).open("AAPL").put_chain(NOV_20)
    assert [request.url.params["side"] for request in fake.requests] == ["put"]


def test_a_year_of_daily_closes_comes_from_one_candles_request(fake: FakeMarketData) -> None:
    """The daily candles' closes, each dated by its session (the candle's time is midnight in
    New York), from the first day asked for to the last."""
    provider = make_provider(fake)
    feed = provider.open("AAPL")
    sent = fixture("AAPL_candles")

    bars = feed.daily_closes(date(2025, 11, 18), date(2026, 11, 17))

    assert [request.url.path for request in fake.requests] == ["/v1/stocks/candles/D/AAPL/"]
    assert dict(fake.requests[0].url.params) == {"from": "2025-11-18", "to": "2026-11-17"}
    assert feed.credits == 1
    assert bars[0].day == date(2025, 11, 18) and bars[-1].day == date(2026, 11, 17)
    assert date(2025, 11, 27) not in {bar.day for bar in bars}  # Thanksgiving
    assert [bar.close for bar in bars] == sent["c"][1:]  # the candle of 2025-11-17 left out
    assert all(bar.iv30 is None for bar in bars)


def test_no_candles_are_no_closes_and_uneven_columns_an_error(fake: FakeMarketData) -> None:
    provider = make_provider(fake)
    fake.candles.append(ok({"s": "no_data"}, 1))
    assert provider.open("AAPL").daily_closes(date(2026, 1, 1), date(2026, 11, 17)) == []

    fake.candles.append(ok({"s": "ok", "t": [1795208400], "c": []}, 1))
    with pytest.raises(MarketDataError, match="candles of AAPL could not be read"):
        provider.open("AAPL").daily_closes(date(2026, 1, 1), date(2026, 11, 17))


def test_the_30_day_expiration_costs_two_requests_and_three_credits(fake: FakeMarketData) -> None:
    """The expirations' list, then the two put strikes nearest the money of the first
    expiration at or past the day: what the ATM IV needs, and nothing more."""
    provider = make_provider(fake)
    feed = provider.open("AAPL")
    fake.answers.append(ok(fixture("AAPL_atm"), 2))

    chain = feed.chain_from(date(2026, 12, 18))

    paths = [request.url.path for request in fake.requests]
    assert paths == ["/v1/options/expirations/AAPL/", "/v1/options/chain/AAPL/"]
    assert dict(fake.requests[1].url.params) == {
        "expiration": "2026-12-18",
        "side": "put",
        "strikeLimit": "2",
    }
    assert feed.credits == 3
    assert chain.expiration == date(2026, 12, 18) and chain.spot == 230.5
    assert [(put.strike, put.implied_volatility) for put in chain.puts] == [
        (230.0, 0.2741),
        (235.0, 0.2688),
    ]


def test_the_first_expiration_on_or_after_the_day_is_the_one_asked_for(
    fake: FakeMarketData,
) -> None:
    provider = make_provider(fake, mode="cached")
    fake.answers.append(ok(fixture("AAPL_atm"), 1))

    provider.open("AAPL").chain_from(date(2026, 12, 12))

    assert dict(fake.requests[1].url.params)["expiration"] == "2026-12-18"
    assert dict(fake.requests[1].url.params)["mode"] == "cached"


def test_no_expiration_that_far_out_asks_for_no_chain(fake: FakeMarketData) -> None:
    provider = make_provider(fake)

    assert provider.open("AAPL").chain_from(date(2028, 6, 1)) is None
    assert [request.url.path for request in fake.requests] == ["/v1/options/expirations/AAPL/"]
