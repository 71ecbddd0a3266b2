"""Option chains from the Market Data API (marketdata.app) over plain httpx: throttled,
retried, cleaned, with the credits each answer cost counted.

Not the official SDK (``marketdata-sdk-py`` 1.3): its client calls the API as it is built,
takes its settings from the process environment and a ``.env`` file when imported, and
makes its own ``httpx.Client`` without a way to pass a transport, so it could neither run
offline in tests nor take this app's settings. The one endpoint used here needs no SDK.

One request per ticker and scan, ``GET {MARKETDATA_BASE_URL}/v1/options/chain/{symbol}/``
with ``side=put``, ``range=otm`` (strikes below the underlying's price), ``minBid=0.01``
(the screen needs a bid) and ``from``/``to`` (the scan's expiration window, both ends
inclusive): the answer holds only contracts the screen can use, and its columns carry the
API's own ``delta``. The API bills one credit per
contract returned (one per request with ``mode=cached``); each answer says what it cost in
its ``X-Api-Ratelimit-Consumed`` header, summed per feed (``credits``). A feed opened for
calls (a ticker with shares to cover) makes one more request, the same with ``side=call``
(``range=otm``: strikes above the price); no calls in the window means none to screen.

The next earnings date comes from ``GET /v1/stocks/earnings/{symbol}/`` with ``from``
(today) and ``to`` (``EARNINGS_HORIZON`` ahead): one more request, through the same
throttle; ``no_data`` means no report ahead.

For the history (asked once a day per ticker, through the same throttle): a year of daily
closes from the daily candles, ``GET /v1/stocks/candles/D/{symbol}/`` with ``from`` and
``to`` (one request; each candle's time is midnight in New York on its session's date);
and, when the scan's window stops short of 30 days, the first expiration at or past 30
days for IV30 at the least credit cost the API allows: the list of expirations
(``GET /v1/options/expirations/{symbol}/``, one request, one credit), then that
expiration's two put strikes nearest the money (``expiration``, ``side=put``,
``strikeLimit=2``: two contracts, two credits), which bracket the spot for the ATM IV.

What a feed raises (all ``MarketDataError``, see ``errors``):

- ``ProviderRefused``: HTTP 401 (token refused), 402 (not in the plan), or 429 with no
  credits left (``X-Api-Ratelimit-Remaining`` at 0): every ticker would fail alike.
- ``RateLimited``, ``MarketTimeout``, ``MarketDataError``: other 429s (too many requests at
  once), timeouts, connection errors and 5xx answers that lasted through the retries.
- ``UnknownTicker``: a malformed symbol, or ``{"s": "no_data"}``: no puts in the window.
- ``MarketDataError``: ``{"s": "error", "errmsg": ...}`` or an unreadable answer.
- ``UnusableAnswer``: an answer without one usable contract; from ``put_chain``, a chain
  that is not live (no put has a bid).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from tenacity import RetryCallState

from .base import BaseProvider
from .calendar import NY, expiration_window_end, market_today
from .errors import (
    MarketDataError,
    MarketTimeout,
    ProviderRefused,
    RateLimited,
    UnknownTicker,
    UnusableAnswer,
)
from .models import (
    DailyBar,
    OptionQuote,
    PutChain,
    count,
    finite,
    implied_volatility,
    non_negative,
    positive,
    require_live,
)
from .throttle import RateLimiter

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.marketdata.app"
#: The API answers 429 beyond this many requests at once, on every plan.
MAX_CONCURRENT_REQUESTS = 50
#: How far ahead the earnings request looks: past the longest expiration window (12 weeks).
EARNINGS_HORIZON = timedelta(days=100)
#: The strikes asked for the ATM IV of an expiration: the two nearest the money.
ATM_STRIKES = 2

_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.:-]{0,19}")


class _RetryableAnswer(Exception):
    """An HTTP 429 (too many requests at once) or 5xx answer, worth another attempt."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status_code = response.status_code


_TRANSIENT = (_RetryableAnswer, httpx.TransportError)


class MarketDataProvider(BaseProvider):
    """Market Data option chains for the next ``weeks`` weekly expirations, from ``min_dte``
    days out.

    At most ``max_concurrent`` requests at once, started no faster than ``rate_limiter``
    lets them (None: no limit), each retried up to ``retries`` times with exponential backoff
    and jitter (``wait``, a tenacity wait strategy) on 429, 5xx, timeouts and connection
    errors. ``mode`` is the API's data mode (``live``, ``cached``, ``delayed``; None: the
    plan's default). ``transport`` replaces httpx's network transport (tests).
    """

    name = "marketdata"
    fundamentals_from = "yahoo"  # the API has none
    required_settings = {
        "MARKETDATA_TOKEN": "the API token of your Market Data account (dashboard at "
        "marketdata.app)"
    }
    rate_setting = "MARKETDATA_REQUESTS_PER_SECOND"
    transient = _TRANSIENT

    def __init__(
        self,
        *,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        weeks: int = 4,
        min_dte: int = 0,
        mode: str | None = None,
        max_concurrent: int = 4,
        rate_limiter: RateLimiter | None = None,
        timeout: float = 15.0,
        retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        today: Callable[[], date] | None = None,
        wait: Callable[[RetryCallState], float] | None = None,
    ) -> None:
        if not token:
            raise ValueError("Market Data needs an API token")
        super().__init__(
            max_concurrent=max_concurrent, rate_limiter=rate_limiter, retries=retries, wait=wait
        )
        self.weeks = weeks
        self.min_dte = min_dte
        self.mode = mode
        self.today = today if today is not None else market_today
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MarketDataProvider:
        """A provider configured by the ``MARKETDATA_*`` settings, ``WEEKS``, ``MIN_DTE``, for its
        concurrency ``SCAN_CONCURRENCY`` and for its rate ``MARKET_REQUESTS_PER_SECOND``
        (alias ``MARKETDATA_REQUESTS_PER_SECOND``)."""
        return cls(
            token=settings["MARKETDATA_TOKEN"],
            base_url=settings["MARKETDATA_BASE_URL"],
            weeks=settings["WEEKS"],
            min_dte=settings["MIN_DTE"],
            mode=settings["MARKETDATA_MODE"],
            max_concurrent=min(settings["SCAN_CONCURRENCY"], MAX_CONCURRENT_REQUESTS),
            rate_limiter=cls.rate_limiter(settings),
            timeout=settings["MARKETDATA_TIMEOUT"],
            retries=settings["MARKETDATA_RETRIES"],
        )

    def open(self, ticker: str, *, calls: bool = False) -> MarketDataFeed:
        """A feed for ``ticker``; makes no request. With ``calls`` it also asks for the
        calls (one more request)."""
        return MarketDataFeed(self, ticker, calls=calls)

    def fetch_chain(
        self,
        symbol: str,
        first: date,
        last: date,
        spend: Callable[[int], None],
        side: str = "put",
    ) -> Mapping[str, Any]:
        """The ``ok`` answer for the ``side`` contracts (``put`` or ``call``) of ``symbol``
        out of the money expiring from ``first`` to ``last``; ``spend`` hears what each
        answer cost."""
        params = {
            "side": side,
            "range": "otm",
            "minBid": "0.01",
            "from": first.isoformat(),
            "to": last.isoformat(),
        }
        if self.mode is not None:
            params["mode"] = self.mode
        answer = self._get(f"v1/options/chain/{symbol}/", symbol, params, spend)
        if answer is None:
            raise UnknownTicker(f"Market Data lists no {side}s for {symbol} in the scan's weeks")
        return answer

    def fetch_earnings(
        self, symbol: str, first: date, last: date, spend: Callable[[int], None]
    ) -> Mapping[str, Any] | None:
        """The ``ok`` answer listing the earnings reports of ``symbol`` from ``first`` to
        ``last``; None when there are none (``no_data``)."""
        params = {"from": first.isoformat(), "to": last.isoformat()}
        return self._get(f"v1/stocks/earnings/{symbol}/", symbol, params, spend)

    def fetch_nearest_strikes(
        self, symbol: str, expiration: date, spend: Callable[[int], None]
    ) -> Mapping[str, Any] | None:
        """The ``ok`` answer with the puts of ``symbol`` expiring on ``expiration`` at the
        ``ATM_STRIKES`` strikes nearest the money; None for ``no_data``."""
        params = {
            "expiration": expiration.isoformat(),
            "side": "put",
            "strikeLimit": str(ATM_STRIKES),
        }
        if self.mode is not None:
            params["mode"] = self.mode
        return self._get(f"v1/options/chain/{symbol}/", symbol, params, spend)

    def fetch_expirations(self, symbol: str, spend: Callable[[int], None]) -> list[date]:
        """Every listed expiration of ``symbol``, ascending (none for ``no_data``)."""
        answer = self._get(f"v1/options/expirations/{symbol}/", symbol, {}, spend)
        if answer is None:
            return []
        try:
            listed = [date.fromisoformat(day) for day in _column(symbol, answer, "expirations")]
        except (TypeError, ValueError) as error:
            raise MarketDataError(
                f"Market Data's expirations of {symbol} could not be read"
            ) from error
        return sorted(listed)

    def fetch_candles(
        self, symbol: str, first: date, last: date, spend: Callable[[int], None]
    ) -> Mapping[str, Any] | None:
        """The ``ok`` answer with the daily candles of ``symbol`` from ``first`` to ``last``
        (both inclusive); None for ``no_data``."""
        params = {"from": first.isoformat(), "to": last.isoformat()}
        return self._get(f"v1/stocks/candles/D/{symbol}/", symbol, params, spend)

    def _get(
        self, path: str, symbol: str, params: Mapping[str, str], spend: Callable[[int], None]
    ) -> Mapping[str, Any] | None:
        """The JSON of an ``ok`` answer (None for ``no_data``), throttled and retried; every
        failure a ``MarketDataError``."""
        attempts = self.attempts
        try:
            response = self.retrying()(self._request_once, path, symbol, params, spend)
        except _RetryableAnswer as error:
            if error.status_code == 429:
                raise RateLimited(
                    f"Market Data refused {symbol} as too many requests, "
                    f"{attempts} attempts in a row"
                ) from error
            raise MarketDataError(
                f"Market Data failed to answer for {symbol}, {attempts} attempts in a row: {error}"
            ) from error
        except httpx.TimeoutException as error:
            raise MarketTimeout(
                f"Market Data did not answer for {symbol} in time, {attempts} attempts in a row"
            ) from error
        except httpx.TransportError as error:
            raise MarketDataError(
                f"Market Data could not be reached for {symbol}, {attempts} attempts in a row: "
                f"{error}"
            ) from error
        return _answer(symbol, response)

    def _request_once(
        self, path: str, symbol: str, params: Mapping[str, str], spend: Callable[[int], None]
    ) -> httpx.Response:
        """One throttled, counted request; raises on what is retried or stops the scan."""
        with self.request_slot():
            response = self._client.get(path, params=params)
        spent = count(response.headers.get("X-Api-Ratelimit-Consumed")) or 0
        spend(spent)
        logger.debug("Market Data %s: HTTP %d, %d credits", path, response.status_code, spent)
        _refuse_account(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise _RetryableAnswer(response)
        return response


class MarketDataFeed:
    """One ticker's puts for one scan: a single request brings every expiration.

    ``credits`` adds up what its answers cost.
    """

    def __init__(self, provider: MarketDataProvider, ticker: str, *, calls: bool = False) -> None:
        self._provider = provider
        self._symbol = ticker.strip().upper()
        self._calls = calls
        self._lock = threading.Lock()
        self._chains: dict[date, PutChain] | None = None
        self.credits = 0

    def expirations(self) -> list[date]:
        """The expirations of the window that have puts out of the money, ascending."""
        return sorted(self._load())

    def put_chain(self, expiration: date) -> PutChain:
        """The cleaned puts of one expiration; ``UnusableAnswer`` when it is not live."""
        chains = self._load()
        if expiration not in chains:
            raise MarketDataError(
                f"Market Data sent no {expiration.isoformat()} puts for {self._symbol}; "
                f"sent: {', '.join(day.isoformat() for day in sorted(chains))}"
            )
        return require_live(chains[expiration])

    def next_earnings(self) -> date | None:
        """The first earnings report from today on, within ``EARNINGS_HORIZON``; one
        request."""
        self._check_symbol()
        today = self._provider.today()
        answer = self._provider.fetch_earnings(
            self._symbol, today, today + EARNINGS_HORIZON, self._spend
        )
        if answer is None:
            return None
        days = (_new_york_date(value) for value in _column(self._symbol, answer, "reportDate"))
        return min((day for day in days if day is not None and day >= today), default=None)

    def daily_closes(self, first: date, last: date) -> list[DailyBar]:
        """The daily closes from ``first`` to ``last``: one candles request."""
        self._check_symbol()
        answer = self._provider.fetch_candles(self._symbol, first, last, self._spend)
        if answer is None:
            return []
        times = _column(self._symbol, answer, "t")
        closes = _column(self._symbol, answer, "c")
        if len(times) != len(closes):
            raise MarketDataError(f"Market Data's candles of {self._symbol} could not be read")
        bars = (
            (_new_york_date(time), positive(close))
            for time, close in zip(times, closes, strict=True)
        )
        return [
            DailyBar(day, close)
            for day, close in bars
            if day is not None and close is not None and first <= day <= last
        ]

    def chain_from(self, day: date) -> PutChain | None:
        """The puts of the first expiration on or after ``day`` at the strikes nearest the
        money (two requests, three credits); None when none is listed that far."""
        self._check_symbol()
        listed = self._provider.fetch_expirations(self._symbol, self._spend)
        expiration = next((listed_day for listed_day in listed if listed_day >= day), None)
        if expiration is None:
            return None
        answer = self._provider.fetch_nearest_strikes(self._symbol, expiration, self._spend)
        if answer is None:
            return None
        return _chains(self._symbol, _rows(self._symbol, answer)).get(expiration)

    def _load(self) -> dict[date, PutChain]:
        """The chains by expiration, fetched on first use."""
        with self._lock:
            if self._chains is None:
                self._check_symbol()
                today = self._provider.today()
                # contracts cost credits: ask only for those at least min_dte days out
                # (an expiration today counts as 1 day, as in pricing.days_to_expiry)
                min_dte = self._provider.min_dte
                first = today + timedelta(days=min_dte if min_dte > 1 else 0)
                last = expiration_window_end(today, self._provider.weeks)
                answer = self._provider.fetch_chain(self._symbol, first, last, self._spend)
                chains = _chains(self._symbol, _rows(self._symbol, answer))
                if self._calls:
                    calls = self._load_calls(first, last)
                    chains = {
                        day: replace(chain, calls=calls.get(day, ()))
                        for day, chain in chains.items()
                    }
                self._chains = chains
            return self._chains

    def _load_calls(self, first: date, last: date) -> dict[date, tuple[OptionQuote, ...]]:
        """The usable calls out of the money by expiration; none when the API lists none."""
        try:
            answer = self._provider.fetch_chain(self._symbol, first, last, self._spend, "call")
        except UnknownTicker:
            return {}
        grouped: dict[date, list[OptionQuote]] = {}
        for row in _rows(self._symbol, answer):
            quote = _quote(row, "call")
            if quote is not None:
                grouped.setdefault(quote.expiration, []).append(quote)
        return {day: tuple(quotes) for day, quotes in grouped.items()}

    def _check_symbol(self) -> None:
        if not _SYMBOL.fullmatch(self._symbol):
            raise UnknownTicker(f"{self._symbol!r} is not a Market Data ticker symbol")

    def _spend(self, credits: int) -> None:
        self.credits += credits


def _message(response: httpx.Response) -> str:
    """The ``errmsg`` of an answer, else its HTTP status."""
    try:
        errmsg = response.json().get("errmsg")
    except (ValueError, AttributeError):
        errmsg = None
    return str(errmsg) if errmsg else f"HTTP {response.status_code}"


def _refuse_account(response: httpx.Response) -> None:
    """Raise ``ProviderRefused`` when ``response`` refuses the account itself."""
    status = response.status_code
    if status == 401:
        raise ProviderRefused(
            f"Market Data refused the token (HTTP 401: {_message(response)}); "
            "check MARKETDATA_TOKEN"
        )
    if status == 402:
        raise ProviderRefused(
            f"Market Data refused the request as not in the plan (HTTP 402: {_message(response)})"
        )
    remaining = finite(response.headers.get("X-Api-Ratelimit-Remaining"))
    if status == 429 and remaining is not None and remaining <= 0:
        reset = finite(response.headers.get("X-Api-Ratelimit-Reset"))
        until = (
            ""
            if reset is None
            else f" until {datetime.fromtimestamp(reset, UTC):%Y-%m-%d %H:%M} UTC"
        )
        raise ProviderRefused(
            f"Market Data has no API credits left{until} (HTTP 429: {_message(response)})"
        )


def _answer(symbol: str, response: httpx.Response) -> Mapping[str, Any] | None:
    """The JSON of an ``ok`` answer, None for ``no_data``; the API's ``error`` as an error."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    status = answer.get("s") if isinstance(answer, dict) else None
    if status == "ok":
        return answer
    if status == "no_data":
        return None
    if status == "error":
        raise MarketDataError(f"Market Data refused {symbol}: {_message(response)}")
    raise MarketDataError(
        f"Market Data's answer for {symbol} (HTTP {response.status_code}) could not be read"
    )


def _column(symbol: str, answer: Mapping[str, Any], name: str) -> list[Any]:
    """One column of a columnar answer."""
    values = answer.get(name)
    if not isinstance(values, list):
        raise MarketDataError(f"Market Data's answer for {symbol} has no {name} column")
    return values


def _rows(symbol: str, answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The columnar answer as one dict per contract; every column must be as long as
    ``optionSymbol``."""
    contracts = _column(symbol, answer, "optionSymbol")
    columns = {name: values for name, values in answer.items() if isinstance(values, list)}
    uneven = sorted(name for name, values in columns.items() if len(values) != len(contracts))
    if uneven:
        raise MarketDataError(
            f"Market Data's answer for {symbol} could not be read: columns {', '.join(uneven)} "
            f"are not {len(contracts)} long"
        )
    return [{name: values[i] for name, values in columns.items()} for i in range(len(contracts))]


def _new_york_date(value: Any) -> date | None:
    """A time in Unix seconds as its New York date, or None."""
    seconds = finite(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, NY).date()


def _quote(row: Mapping[str, Any], side: str = "put") -> OptionQuote | None:
    """One contract of ``side`` as an ``OptionQuote``; None for the other side or without
    symbol, strike or date."""
    contract = row.get("optionSymbol")
    strike = positive(row.get("strike"))
    expiration = _new_york_date(row.get("expiration"))
    if (
        row.get("side", side) != side
        or not isinstance(contract, str)
        or not contract.strip()
        or strike is None
        or expiration is None
    ):
        return None
    return OptionQuote(
        contract_symbol=contract.strip(),
        expiration=expiration,
        strike=strike,
        bid=non_negative(row.get("bid")),
        ask=non_negative(row.get("ask")),
        last=non_negative(row.get("last")),
        volume=count(row.get("volume")),
        open_interest=count(row.get("openInterest")),
        implied_volatility=implied_volatility(contract, row.get("iv")),
        last_trade=None,
        delta=finite(row.get("delta")),
    )


def _chains(symbol: str, rows: list[dict[str, Any]]) -> dict[date, PutChain]:
    """The usable puts grouped into one chain per expiration, at the underlying's price."""
    quotes = [(quote, row) for row in rows if (quote := _quote(row)) is not None]
    if not quotes:
        raise UnusableAnswer(f"Market Data sent no usable puts for {symbol}")
    spot = next(
        (price for _, row in quotes if (price := positive(row.get("underlyingPrice")))), None
    )
    if spot is None:
        raise MarketDataError(f"Market Data sent no price for {symbol}")
    grouped: dict[date, list[OptionQuote]] = {}
    for quote, _ in quotes:
        grouped.setdefault(quote.expiration, []).append(quote)
    return {
        expiration: PutChain(ticker=symbol, expiration=expiration, spot=spot, puts=tuple(puts))
        for expiration, puts in grouped.items()
    }
