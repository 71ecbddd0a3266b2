"""The demo market: deterministic chains, request accounting, latency and injected failures."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from scanner_app.config import BUNDLED_WATCHLIST, load_settings
from scanner_app.market.calendar import weekly_expirations
from scanner_app.market.demo import (
    EARNINGS_CYCLE,
    DemoProvider,
    demo_chain,
    demo_earnings,
    demo_fundamentals,
)
from scanner_app.market.errors import MarketDataError, MarketTimeout, RateLimited, UnknownTicker
from scanner_app.market.models import PutChain
from scanner_app.market.pricing import bs_call_price
from scanner_app.scan.screen import Criteria, screen_chain
from scanner_app.watchlist import load_watchlist

MONDAY = date(2026, 3, 30)  # the week of Good Friday, 2026-04-03
GOOD_FRIDAY = date(2026, 4, 3)
SYMBOLS = ["AAPL", "KO", "SPY", "BRK.B", "ZZZZ", "X", "ABCDEFGHIJ"]


class FakeSleep:
    """Records the waits instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_provider(today: date = MONDAY, **options) -> DemoProvider:
    options.setdefault("latency_ms", 0)
    return DemoProvider(today=lambda: today, **options)


def chains(symbol: str, today: date = MONDAY) -> list[PutChain]:
    feed = make_provider(today).open(symbol)
    return [feed.put_chain(expiration) for expiration in feed.expirations()]


def test_same_symbol_and_date_give_identical_chains():
    assert chains("AAPL") == chains("AAPL")


def test_another_date_gives_another_chain():
    expiration = date(2026, 4, 17)
    before = demo_chain("AAPL", MONDAY, expiration, 0.04)
    after = demo_chain("AAPL", MONDAY + timedelta(days=1), expiration, 0.04)

    assert before.spot != after.spot
    assert before.puts != after.puts


def test_spot_drifts_only_a_little_from_day_to_day():
    spots = [
        demo_chain("NVDA", MONDAY + timedelta(days=n), date(2026, 6, 26), 0.04).spot
        for n in range(10)
    ]

    for yesterday, today in zip(spots, spots[1:], strict=False):
        assert abs(today / yesterday - 1) < 0.05


def test_different_symbols_get_different_markets():
    spots = {chains(symbol)[0].spot for symbol in SYMBOLS}

    assert len(spots) == len(SYMBOLS)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_any_symbol_gets_sane_quotes(symbol):
    for chain in chains(symbol):
        assert chain.ticker == symbol
        assert 5 <= chain.spot <= 1000
        strikes = [put.strike for put in chain.puts]
        assert strikes == sorted(strikes)
        assert len(strikes) >= 7
        assert 0.69 * chain.spot <= strikes[0] and strikes[-1] <= 1.11 * chain.spot
        assert len({round(b - a, 2) for a, b in zip(strikes, strikes[1:], strict=False)}) == 1
        for put in chain.puts:
            assert put.expiration == chain.expiration
            assert 0 <= put.bid <= put.ask and put.ask > 0
            assert put.volume >= 0 and put.open_interest >= 0
            assert put.implied_volatility > 0
            assert put.last is None or put.last > 0


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_contract_symbols_follow_the_occ_format(symbol):
    root = symbol.replace(".", "")
    for chain in chains(symbol):
        for put in chain.puts:
            match = re.fullmatch(r"([A-Z0-9]+)(\d{6})P(\d{8})", put.contract_symbol)
            assert match is not None
            assert match[1] == root
            assert match[2] == put.expiration.strftime("%y%m%d")
            assert int(match[3]) == round(put.strike * 1000)


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_the_chain_has_a_skew_and_trades_most_near_the_money(symbol):
    chain = chains(symbol)[1]
    lowest = chain.puts[0]
    at_the_money = min(chain.puts, key=lambda put: abs(put.strike - chain.spot))

    assert lowest.implied_volatility > at_the_money.implied_volatility
    assert lowest.open_interest < at_the_money.open_interest
    assert lowest.bid < at_the_money.bid


def test_cheap_contracts_have_relatively_wider_spreads_and_worthless_ones_no_bid():
    chain = chains("AAPL")[0]
    quoted = [put for put in chain.puts if put.bid > 0]

    def relative_spread(put):
        return (put.ask - put.bid) / ((put.ask + put.bid) / 2)

    assert relative_spread(quoted[0]) > relative_spread(quoted[-1])
    assert chain.puts[0].bid == 0


def test_expirations_are_fridays_or_the_thursday_before_a_holiday():
    expirations = make_provider(MONDAY).open("AAPL").expirations()

    assert len(expirations) == 12  # as many as WEEKS can ask for
    assert expirations == sorted(expirations)
    assert expirations[0] == date(2026, 4, 2)
    assert GOOD_FRIDAY not in expirations
    assert expirations[-1] == date(2026, 6, 18)  # Juneteenth is the third Friday
    assert all(day.weekday() == 4 for day in expirations[1:-1])


def test_a_date_that_is_not_listed_is_a_clear_error():
    feed = make_provider().open("AAPL")

    with pytest.raises(MarketDataError, match="AAPL: no options expire on 2026-04-03"):
        feed.put_chain(GOOD_FRIDAY)


def test_expirations_bring_the_nearest_chain_and_every_other_chain_is_one_request():
    provider = make_provider()
    feed = provider.open("AAPL")
    assert provider.request_count == 0

    expirations = feed.expirations()
    feed.expirations()
    feed.put_chain(expirations[0])
    assert provider.request_count == 1

    for expiration in expirations[1:4]:
        feed.put_chain(expiration)
    feed.put_chain(expirations[1])
    assert provider.request_count == 4

    provider.open("MSFT").expirations()
    assert provider.request_count == 5


def test_request_count_is_exact_under_concurrency():
    provider = make_provider()
    symbols = [f"T{n}" for n in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda symbol: provider.open(symbol).expirations(), symbols))

    assert provider.request_count == 40


def test_each_request_waits_the_latency():
    sleep = FakeSleep()
    provider = make_provider(latency_ms=250, sleep=sleep)
    feed = provider.open("AAPL")

    expirations = feed.expirations()
    feed.put_chain(expirations[0])
    feed.put_chain(expirations[1])

    assert sleep.calls == [0.25, 0.25]


def test_no_latency_means_no_waiting():
    sleep = FakeSleep()
    provider = make_provider(latency_ms=0, sleep=sleep)

    provider.open("AAPL").expirations()

    assert sleep.calls == []


@pytest.mark.parametrize(
    ("kind", "error"),
    [("rate_limit", RateLimited), ("timeout", MarketTimeout), ("unknown", UnknownTicker)],
)
def test_injected_failure_hits_the_first_request_of_that_ticker_only(kind, error):
    provider = make_provider(failures={"tsla": kind})
    feed = provider.open("TSLA")

    with pytest.raises(error, match="TSLA"):
        feed.expirations()
    assert provider.request_count == 1
    assert len(feed.expirations()) == 12
    assert len(provider.open("AAPL").expirations()) == 12
    with pytest.raises(error):
        provider.open("TSLA").expirations()


def test_from_settings_reads_latency_rate_and_failures():
    settings = load_settings(
        {
            "DEMO_LATENCY_MS": "0",
            "RISK_FREE_RATE": "0.05",
            "DEMO_FAILURES": "TSLA:rate_limit, nflx:timeout ,ZZZZ:unknown",
        }
    )

    provider = DemoProvider.from_settings(settings)

    assert provider.latency_ms == 0
    assert provider.rate == 0.05
    assert provider.failures == {"TSLA": "rate_limit", "NFLX": "timeout", "ZZZZ": "unknown"}


def test_from_settings_without_failures_injects_none():
    provider = DemoProvider.from_settings(load_settings({}))

    assert provider.failures == {}
    assert provider.latency_ms == 150


def test_without_a_rate_limit_the_demo_market_never_touches_redis(dead_redis_url):
    settings = load_settings({"DEMO_LATENCY_MS": "0", "REDIS_URL": dead_redis_url})

    assert len(DemoProvider.from_settings(settings).open("AAPL").expirations()) == 12


def test_with_a_rate_limit_the_demo_market_waits_for_it(dead_redis_url):
    settings = load_settings(
        {"DEMO_LATENCY_MS": "0", "REDIS_URL": dead_redis_url, "MARKET_REQUESTS_PER_SECOND": "5"}
    )
    provider = DemoProvider.from_settings(settings)

    with pytest.raises(MarketDataError, match="demo rate limit could not be checked"):
        provider.open("AAPL").expirations()
    assert provider.request_count == 0


def test_the_demo_market_takes_its_places_in_the_shared_window(redis_url, key_prefix, redis_client):
    settings = load_settings(
        {
            "DEMO_LATENCY_MS": "0",
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": key_prefix,
            "MARKET_REQUESTS_PER_SECOND": "40",
        }
    )
    feed = DemoProvider.from_settings(settings).open("AAPL")
    feed.put_chain(feed.expirations()[1])

    assert redis_client.llen(f"{key_prefix}ratelimit:demo/40/1/second") == 2


@pytest.mark.parametrize("raw", ["TSLA:explode", "TSLA", "TSLA:"])
def test_an_unknown_failure_kind_names_the_accepted_kinds(raw):
    settings = load_settings({"DEMO_FAILURES": raw})

    with pytest.raises(ValueError, match="rate_limit, timeout, unknown"):
        DemoProvider.from_settings(settings)


def test_a_bad_failure_symbol_is_rejected():
    with pytest.raises(ValueError, match="<b>"):
        DemoProvider(failures={"<b>": "timeout"})


def test_opening_junk_is_an_unknown_ticker():
    with pytest.raises(UnknownTicker, match="not a valid ticker"):
        make_provider().open("<script>")


@pytest.mark.parametrize(
    "today", [MONDAY, GOOD_FRIDAY, date(2026, 6, 18), date(2026, 11, 27), date(2027, 1, 4)]
)
def test_most_bundled_tickers_have_a_put_worth_selling(today):
    criteria = Criteria()
    provider = make_provider(today)
    symbols = load_watchlist(BUNDLED_WATCHLIST).symbols()

    def qualifies(symbol: str) -> bool:
        feed = provider.open(symbol)
        window = weekly_expirations(today, criteria.weeks)
        return any(screen_chain(feed.put_chain(day), today, criteria, 0.04) for day in window)

    passing = sum(qualifies(symbol) for symbol in symbols)

    assert passing >= 0.8 * len(symbols)


def test_earnings_are_a_weekday_once_a_quarter_and_stay_put_as_days_pass():
    for symbol in ("AAPL", "KO", "TSLA", "SPY"):
        day, seen = date(2026, 1, 1), []
        while day < date(2027, 1, 1):
            report = demo_earnings(symbol, day)
            assert day <= report < day + timedelta(days=EARNINGS_CYCLE + 3)
            assert report.weekday() < 5
            if seen and seen[-1] >= day:
                assert report == seen[-1]  # the next report does not move until it is past
            seen.append(report)
            day += timedelta(days=1)
        assert len(set(seen)) in (4, 5)  # one a quarter


def test_symbols_report_on_different_days_and_the_feed_pays_a_request():
    today = date(2026, 11, 18)
    provider = DemoProvider(latency_ms=0, today=lambda: today)

    dates = {symbol: provider.open(symbol).next_earnings() for symbol in ("AAPL", "KO", "TSLA")}

    assert len(set(dates.values())) == 3
    assert dates["AAPL"] == demo_earnings("AAPL", today)
    assert provider.request_count == 3


def test_calls_are_priced_by_black_scholes_on_the_puts_smile():
    expiration = date(2026, 4, 17)
    with_calls = demo_chain("AAPL", MONDAY, expiration, 0.04, calls=True)
    plain = demo_chain("AAPL", MONDAY, expiration, 0.04)

    assert with_calls.puts == plain.puts and plain.calls == ()
    assert with_calls.calls and all(call.strike >= with_calls.spot for call in with_calls.calls)
    assert all(re.fullmatch(r"AAPL260417C\d{8}", c.contract_symbol) for c in with_calls.calls)
    t_years = (expiration - MONDAY).days / 365
    for call in with_calls.calls:
        theo = bs_call_price(with_calls.spot, call.strike, t_years, 0.04, call.implied_volatility)
        assert call.bid <= theo + 0.01 and call.ask >= theo - 0.01
    bids = [call.bid for call in with_calls.calls]
    assert bids == sorted(bids, reverse=True)  # cheaper as the strike rises


def test_a_feed_for_calls_costs_no_extra_request():
    provider = make_provider()
    feed = provider.open("AAPL", calls=True)
    chains = [feed.put_chain(expiration) for expiration in feed.expirations()[:2]]
    assert provider.request_count == 2
    assert all(chain.calls for chain in chains)


def test_demo_fundamentals_are_deterministic_and_consistent_with_the_price():
    figures = [demo_fundamentals(symbol) for symbol in SYMBOLS]
    assert figures == [demo_fundamentals(symbol) for symbol in SYMBOLS]
    assert len({figure.eps for figure in figures}) == len(SYMBOLS)
    for symbol, figure in zip(SYMBOLS, figures, strict=True):
        spot = demo_chain(symbol, MONDAY, weekly_expirations(MONDAY, 1)[0], 0.04).spot
        assert 4 <= spot / abs(figure.eps) <= 200  # a price-to-earnings ratio, give or take
        assert figure.shares >= 1e8 and figure.free_cash_flow != 0


def test_some_demo_tickers_lose_money_so_a_method_is_skipped():
    watchlist = load_watchlist(BUNDLED_WATCHLIST).symbols()
    losses = [symbol for symbol in watchlist if demo_fundamentals(symbol).eps < 0]
    assert 0 < len(losses) < len(watchlist) / 2


def test_demo_fundamentals_cost_a_request_and_honour_injected_failures():
    provider = DemoProvider(latency_ms=0, failures={"TSLA": "timeout"})
    assert provider.fundamentals("ko") == demo_fundamentals("KO")
    with pytest.raises(MarketTimeout):
        provider.fundamentals("TSLA")
    assert provider.request_count == 2
