"""A deterministic synthetic options market: any symbol, no network, same day -> same chains.

Every random-looking number is drawn from a SHA-256 hash of the symbol, the date and
what the number is for, so runs, processes and machines all agree.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..valuation.methods import Fundamentals
from ..watchlist import normalize_symbol
from .base import BaseProvider
from .calendar import NY, market_today, sessions_between, weekly_expirations
from .errors import MarketDataError, MarketTimeout, RateLimited, UnknownTicker
from .models import DailyBar, OptionQuote, PutChain
from .pricing import bs_call_price, bs_put_price, days_to_expiry
from .throttle import RateLimiter

#: failure kind (as written in DEMO_FAILURES) -> the error the ticker's first request raises
FAILURE_KINDS: dict[str, type[MarketDataError]] = {
    "rate_limit": RateLimited,
    "timeout": MarketTimeout,
    "unknown": UnknownTicker,
}

LISTED_WEEKS = 12  # the most WEEKS allows
#: Days between two earnings reports of a demo ticker (a quarter).
EARNINGS_CYCLE = 91
LOWEST_STRIKE = 0.70  # of spot
HIGHEST_STRIKE = 1.10  # of spot
HIGHEST_CALL_STRIKE = 1.30  # of spot; calls are listed from the spot up to this

#: Usual prices of well-known symbols, so the demo's are of the same order as the real ones
#: (synthetic all the same: each swings around its usual price). Other symbols get one of
#: their own, from 10 to 800.
USUAL_PRICES = {
    "AAPL": 230.0, "MSFT": 420.0, "AMD": 160.0, "NVDA": 135.0, "TSLA": 250.0, "AMZN": 200.0,
    "GOOGL": 170.0, "GOOG": 172.0, "META": 580.0, "INTC": 22.0, "F": 10.5, "BAC": 42.0,
    "T": 22.0, "KO": 63.0, "PFE": 26.0, "SOFI": 14.0, "PLTR": 60.0, "NIO": 5.0,
    "SPY": 600.0, "QQQ": 510.0, "IWM": 225.0, "XOM": 115.0, "DIS": 110.0, "UBER": 75.0,
    "C": 68.0, "WFC": 70.0, "JPM": 240.0, "NFLX": 900.0, "BRK.B": 470.0, "V": 310.0,
    "WMT": 90.0, "COST": 950.0, "JNJ": 155.0, "PG": 170.0, "HD": 400.0, "CSCO": 58.0,
    "ORCL": 170.0, "CRM": 330.0, "ADBE": 450.0, "MU": 100.0, "SMCI": 40.0, "COIN": 260.0,
    "HOOD": 40.0, "RIVN": 13.0, "LCID": 3.0, "AMC": 4.5, "GME": 27.0, "MARA": 19.0,
    "DIA": 440.0, "GLD": 245.0, "SLV": 29.0, "TLT": 92.0, "XLF": 48.0, "XLE": 92.0,
    "VZ": 42.0, "MO": 55.0, "ABBV": 180.0, "CVX": 155.0, "BABA": 90.0, "SHOP": 100.0,
}  # fmt: skip
#: Days of one swing of a symbol's volatility between calm and nervous.
VOL_CYCLE = 150.0
#: Half the range of that swing, in log terms (0.25: about 0.78x to 1.28x the usual).
VOL_SWING = 0.25
#: Calendar days of synthetic closes (and IV30) a demo symbol has before today.
SYNTHETIC_DAYS = 366

#: (spot below, strike increment), checked in order
STRIKE_STEPS = ((30.0, 0.5), (150.0, 1.0), (300.0, 2.5), (600.0, 5.0), (math.inf, 10.0))


def _unit(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``parts``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _between(low: float, high: float, *parts: object) -> float:
    """A uniform number in [low, high) fixed by ``parts``."""
    return low + (high - low) * _unit(*parts)


@dataclass(frozen=True)
class _Profile:
    """What a symbol is like, whatever the day."""

    base_spot: float
    base_vol: float
    skew: float
    liquidity: float  # scales open interest, volume and (inversely) spreads
    wave_phase: float
    vol_phase: float


def _profile(symbol: str) -> _Profile:
    """The lasting character of ``symbol``."""
    return _Profile(
        base_spot=USUAL_PRICES.get(symbol) or 10.0 * 80.0 ** _unit(symbol, "spot"),
        base_vol=0.30 + 0.50 * math.sqrt(_unit(symbol, "vol")),  # leaning to the high end
        skew=_between(0.6, 1.6, symbol, "skew"),
        liquidity=_between(0.3, 3.0, symbol, "liquidity"),
        wave_phase=_between(0.0, 2.0 * math.pi, symbol, "phase"),
        vol_phase=_between(0.0, 2.0 * math.pi, symbol, "vol phase"),
    )


def _vol_level(symbol: str, profile: _Profile, day: date) -> float:
    """The at-the-money volatility of ``symbol`` on ``day``: its usual one, swinging slowly
    between calm and nervous spells, with a small daily wiggle. It is also the synthetic
    IV30 of that day."""
    swing = VOL_SWING * math.sin(2.0 * math.pi * day.toordinal() / VOL_CYCLE + profile.vol_phase)
    wiggle = _between(-0.03, 0.03, symbol, day, "vol")
    return profile.base_vol * math.exp(swing + wiggle)


def _spot(symbol: str, profile: _Profile, day: date) -> float:
    """The price of ``symbol`` on ``day``: a slow swing plus a small daily wiggle."""
    swing = 0.08 * math.sin(2.0 * math.pi * day.toordinal() / 90.0 + profile.wave_phase)
    wiggle = _between(-0.015, 0.015, symbol, day, "spot")
    return round(profile.base_spot * math.exp(swing + wiggle), 2)


def _strike_step(spot: float) -> float:
    return next(step for below, step in STRIKE_STEPS if spot < below)


def _strikes(
    spot: float, lowest: float = LOWEST_STRIKE, highest: float = HIGHEST_STRIKE
) -> list[float]:
    """The listed strikes from ``lowest`` to ``highest`` times ``spot`` (puts: about 70 % to
    110 %) on the usual grid."""
    step = _strike_step(spot)
    first = math.ceil(spot * lowest / step)
    last = math.floor(spot * highest / step)
    return [round(k * step, 2) for k in range(first, last + 1)]


def _implied_vol(
    profile: _Profile, level: float, moneyness: float, t_years: float, term_factor: float
) -> float:
    """The smile around the day's at-the-money ``level``: higher volatility for lower
    strikes (``moneyness`` = ln(strike / spot)).

    The skew is set per standard deviation of the move to expiration, so it is steeper
    for near expirations, as in real weekly chains.
    """
    deviations = moneyness / (level * math.sqrt(t_years))
    deviations = min(3.0, max(-5.0, deviations))
    smile = 1.0 - 0.07 * profile.skew * deviations + 0.015 * deviations * deviations
    return level * term_factor * smile


def _tick(price: float) -> float:
    """The quoting increment: pennies under $3, nickels above."""
    return 0.01 if price < 3.0 else 0.05


def _bid_ask(theo: float, liquidity: float) -> tuple[float, float]:
    """A quote around ``theo``; relatively wider for cheap contracts, bid 0 when worthless."""
    half_spread = (0.02 + 0.04 * theo) / math.sqrt(liquidity) / 2.0
    low, high = theo - half_spread, theo + half_spread
    bid_tick, ask_tick = _tick(low), _tick(high)
    # rounding to 9 places first keeps 0.29 / 0.01 from flooring to 28 ticks
    bid = max(0.0, math.floor(round(low / bid_tick, 9)) * bid_tick)
    ask = max(bid + ask_tick, math.ceil(round(high / ask_tick, 9)) * ask_tick)
    return round(bid, 2), round(ask, 2)


def _previous_weekday(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _last_trade(theo: float, today: date, key: tuple[object, ...]) -> tuple[float, datetime]:
    """A last price near ``theo``, traded during the previous weekday's session."""
    last = round(max(0.01, theo * _between(0.94, 1.06, *key, "last")), 2)
    day = _previous_weekday(today)
    market_open = datetime(day.year, day.month, day.day, 9, 30, tzinfo=NY)
    return last, market_open + timedelta(minutes=int(_between(0, 390, *key, "time")))


def _occ_symbol(symbol: str, expiration: date, strike: float, kind: str = "P") -> str:
    """The OCC contract symbol, e.g. AAPL250117P00150000 (``kind`` P or C)."""
    root = re.sub(r"[^A-Z0-9]", "", symbol)
    return f"{root}{expiration:%y%m%d}{kind}{round(strike * 1000):08d}"


@dataclass(frozen=True)
class _ChainSetting:
    """What every contract of one chain shares."""

    symbol: str
    profile: _Profile
    today: date
    expiration: date
    spot: float
    t_years: float
    rate: float
    level: float  # the day's at-the-money volatility
    term_factor: float  # this expiration's volatility relative to the day's level


def _contract(chain: _ChainSetting, strike: float, kind: str = "P") -> OptionQuote:
    """One put (``kind`` P) or call (C) with its quote, activity and last trade, both
    priced by Black-Scholes on the same volatility smile."""
    key: tuple[object, ...] = (chain.symbol, chain.today, chain.expiration, strike)
    if kind == "C":  # the puts' draws stay as they were before calls existed
        key += (kind,)
    moneyness = math.log(strike / chain.spot)
    iv = _implied_vol(chain.profile, chain.level, moneyness, chain.t_years, chain.term_factor)
    price = bs_call_price if kind == "C" else bs_put_price
    theo = price(chain.spot, strike, chain.t_years, chain.rate, iv)
    bid, ask = _bid_ask(theo, chain.profile.liquidity)
    weeks_out = (chain.expiration - chain.today).days / 7.0
    closeness = math.exp(-((moneyness / 0.08) ** 2)) / (1.0 + weeks_out)
    open_interest = int(4000 * chain.profile.liquidity * closeness * _between(0.3, 1.7, *key, "oi"))
    volume = int(open_interest * _between(0.0, 0.4, *key, "volume"))
    last, last_trade = _last_trade(theo, chain.today, key) if open_interest else (None, None)
    return OptionQuote(
        contract_symbol=_occ_symbol(chain.symbol, chain.expiration, strike, kind),
        expiration=chain.expiration,
        strike=strike,
        bid=bid,
        ask=ask,
        last=last,
        volume=volume,
        open_interest=open_interest,
        implied_volatility=round(iv, 4),
        last_trade=last_trade,
    )


def demo_chain(
    symbol: str, today: date, expiration: date, rate: float, calls: bool = False
) -> PutChain:
    """The synthetic put chain of ``symbol`` for ``expiration`` as seen on ``today``, with
    its calls from the spot up when ``calls``."""
    profile = _profile(symbol)
    setting = _ChainSetting(
        symbol=symbol,
        profile=profile,
        today=today,
        expiration=expiration,
        spot=_spot(symbol, profile, today),
        t_years=days_to_expiry(expiration, today) / 365.0,
        rate=rate,
        level=_vol_level(symbol, profile, today),
        term_factor=_between(0.96, 1.04, symbol, today, expiration, "term"),
    )
    puts = tuple(_contract(setting, strike) for strike in _strikes(setting.spot))
    call_strikes = _strikes(setting.spot, 1.0, HIGHEST_CALL_STRIKE) if calls else []
    return PutChain(
        ticker=symbol,
        expiration=expiration,
        spot=setting.spot,
        puts=puts,
        calls=tuple(_contract(setting, strike, "C") for strike in call_strikes),
    )


def demo_daily_bars(symbol: str, first: date, last: date) -> list[DailyBar]:
    """The synthetic closes and IV30 of ``symbol`` on each trading day from ``first`` to
    ``last``: the spot and the at-the-money volatility its chains have on that day."""
    profile = _profile(symbol)
    return [
        DailyBar(day, _spot(symbol, profile, day), round(_vol_level(symbol, profile, day), 4))
        for day in sessions_between(first, last)
    ]


def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def demo_earnings(symbol: str, today: date) -> date:
    """The next earnings date of ``symbol`` from ``today`` on: a weekday, once a quarter,
    on a day of the cycle fixed by the symbol, so it stays put as the days go by."""
    phase = int(_unit(symbol, "earnings") * EARNINGS_CYCLE)
    start = today - timedelta(days=2)  # a report moved off a weekend may still be ahead
    report = start + timedelta(days=(phase - start.toordinal()) % EARNINGS_CYCLE)
    event = _weekday_on_or_after(report)
    if event < today:
        event = _weekday_on_or_after(report + timedelta(days=EARNINGS_CYCLE))
    return event


def demo_fundamentals(symbol: str) -> Fundamentals:
    """The trailing figures of ``symbol``, the same every day: EPS at a price-to-earnings
    ratio of 8 to 45 of its usual price, and free cash flow of half to one and a half times
    its earnings. About one symbol in eight loses money, and one in ten burns cash."""
    profile = _profile(symbol)
    eps = profile.base_spot / _between(8.0, 45.0, symbol, "pe")
    if _unit(symbol, "loss") < 0.125:
        eps = -eps / 4
    shares = round(10.0 ** _between(8.0, 10.0, symbol, "shares"))
    cash_ratio = _between(0.5, 1.5, symbol, "fcf")
    if _unit(symbol, "burn") < 0.1:
        cash_ratio = -cash_ratio
    return Fundamentals(
        eps=round(eps, 2),
        free_cash_flow=float(round(abs(eps) * shares * cash_ratio)),
        shares=float(shares),
    )


def parse_failures(raw: str | None) -> dict[str, str]:
    """``"TSLA:rate_limit,NFLX:timeout"`` -> ``{"TSLA": "rate_limit", "NFLX": "timeout"}``."""
    failures: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (raw or "").split(","))):
        symbol, _, kind = item.partition(":")
        failures[symbol.strip()] = kind.strip()
    return failures


def _checked_failures(failures: Mapping[str, str]) -> dict[str, str]:
    """``failures`` with normalized symbols; ValueError names any bad symbol or kind."""
    checked: dict[str, str] = {}
    for raw_symbol, kind in failures.items():
        symbol = normalize_symbol(raw_symbol)
        if symbol is None:
            raise ValueError(f"demo failure for {raw_symbol!r}: not a valid ticker symbol")
        if kind not in FAILURE_KINDS:
            raise ValueError(
                f"demo failure for {symbol}: unknown kind {kind!r}; "
                f"accepted kinds: {', '.join(FAILURE_KINDS)}"
            )
        checked[symbol] = kind
    return checked


class DemoFeed:
    """One ticker's demo chains for one scan; chains it has fetched cost nothing again."""

    credits = None  # the demo market bills nothing

    def __init__(
        self, provider: DemoProvider, symbol: str, today: date, *, calls: bool = False
    ) -> None:
        self._provider = provider
        self._symbol = symbol
        self._today = today
        self._calls = calls
        self._listed = weekly_expirations(today, LISTED_WEEKS)
        self._fetched: dict[date, PutChain] = {}
        self._requested = False
        self._listing_known = False

    def expirations(self) -> list[date]:
        """The next ``LISTED_WEEKS`` weekly expirations; one request, which also brings the
        nearest chain."""
        if not self._listing_known:
            self._request()
            self._listing_known = True
            self._fetched[self._listed[0]] = self._chain(self._listed[0])
        return list(self._listed)

    def put_chain(self, expiration: date) -> PutChain:
        """The chain of a listed ``expiration``; one request unless already fetched."""
        if expiration not in self._listed:
            listed = ", ".join(day.isoformat() for day in self._listed)
            raise MarketDataError(
                f"{self._symbol}: no options expire on {expiration}; listed: {listed}"
            )
        if expiration not in self._fetched:
            self._request()
            self._fetched[expiration] = self._chain(expiration)
        return self._fetched[expiration]

    def next_earnings(self) -> date:
        """The ticker's next earnings date; one request."""
        self._request()
        return demo_earnings(self._symbol, self._today)

    def chain_from(self, day: date) -> PutChain | None:
        """The chain of the first listed expiration on or after ``day`` (one request unless
        fetched already); None when none is listed that far."""
        if not self._listing_known:
            self.expirations()
        expiration = next((listed for listed in self._listed if listed >= day), None)
        return None if expiration is None else self.put_chain(expiration)

    def daily_closes(self, first: date, last: date) -> list[DailyBar]:
        """The synthetic year: closes and IV30 from ``first`` to ``last``; one request."""
        self._request()
        return demo_daily_bars(self._symbol, first, last)

    def _chain(self, expiration: date) -> PutChain:
        return demo_chain(self._symbol, self._today, expiration, self._provider.rate, self._calls)

    def _request(self) -> None:
        """Pay for one request; the first one fails if a failure is injected for the ticker."""
        first = not self._requested
        self._requested = True
        self._provider.spend_request()
        kind = self._provider.failures.get(self._symbol)
        if first and kind is not None:
            raise FAILURE_KINDS[kind](f"{self._symbol}: demo failure injected ({kind})")


class DemoProvider(BaseProvider):
    """The synthetic market: deterministic chains for any symbol, with simulated latency,
    its requests started no faster than ``rate_limiter`` lets them (None: no limit), as many
    at once as asked."""

    name = "demo"
    is_demo = True
    has_fundamentals = True

    def __init__(
        self,
        *,
        latency_ms: int = 150,
        rate: float = 0.04,
        failures: Mapping[str, str] | None = None,
        rate_limiter: RateLimiter | None = None,
        today: Callable[[], date] | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if latency_ms < 0:
            raise ValueError(f"latency_ms must not be negative, got {latency_ms!r}")
        super().__init__(max_concurrent=None, rate_limiter=rate_limiter)
        self.latency_ms = latency_ms
        self.rate = rate
        self.failures = _checked_failures(failures or {})
        self._today = today or market_today
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DemoProvider:
        """A provider configured by DEMO_LATENCY_MS, RISK_FREE_RATE, DEMO_FAILURES and
        MARKET_REQUESTS_PER_SECOND (unset: no rate limit)."""
        return cls(
            latency_ms=settings["DEMO_LATENCY_MS"],
            rate=settings["RISK_FREE_RATE"],
            failures=parse_failures(settings.get("DEMO_FAILURES")),
            rate_limiter=cls.rate_limiter(settings),
        )

    def open(self, ticker: str, *, calls: bool = False) -> DemoFeed:
        """A feed for ``ticker`` (any case); cheap, makes no request. With ``calls`` its
        chains carry calls as well, at no extra request."""
        symbol = normalize_symbol(ticker)
        if symbol is None:
            raise UnknownTicker(f"{ticker!r} is not a valid ticker symbol")
        return DemoFeed(self, symbol, self._today(), calls=calls)

    def fundamentals(self, ticker: str) -> Fundamentals:
        """The trailing figures of ``ticker``; one request."""
        symbol = normalize_symbol(ticker)
        if symbol is None:
            raise UnknownTicker(f"{ticker!r} is not a valid ticker symbol")
        self.spend_request()
        if symbol in self.failures:
            kind = self.failures[symbol]
            raise FAILURE_KINDS[kind](f"{symbol}: demo failure injected ({kind})")
        return demo_fundamentals(symbol)

    def spend_request(self) -> None:
        """Wait for the rate limit, count one request and wait the configured latency."""
        with self.request_slot():
            if self.latency_ms:
                self._sleep(self.latency_ms / 1000.0)
