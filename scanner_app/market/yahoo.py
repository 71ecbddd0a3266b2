"""Option chains from Yahoo Finance through yfinance: throttled, retried, cleaned.

Timeouts: yfinance's ``option_chain`` takes no timeout and its HTTP layer passes a fixed
``timeout=30`` to every session call (cookie, crumb and options requests alike).
``YahooSession`` is the lever: a curl_cffi session whose ``request`` replaces whatever
timeout the caller passed with the session's own. It also sees the raw answers, which
yfinance turns into ``{}`` when they are refusals: HTTP 5xx becomes ``YahooServerError``
and HTTP 401 (``{"finance": {"error": {"code": "Unauthorized", "description": "Invalid
Crumb"}}}``, also what Yahoo answers when a 429 on the crumb request left yfinance without
a crumb) becomes ``YahooUnauthorized``. On that, the provider drops yfinance's cached
cookie and crumb, so the next attempt fetches fresh ones. yfinance's calendar swallows even
these (it answers ``{}``), and its price history swallows timeouts and connection errors
too (it answers an empty frame), so the session also notes the last refusal or failure of
each thread, and the provider raises it after the call.

What a feed raises (all ``MarketDataError``, see ``errors``):

- ``UnknownTicker``: a malformed symbol, or Yahoo lists no options for it.
- ``InvalidCrumb``: Yahoo kept answering 401 through ``retries`` fresh cookies and crumbs.
- ``RateLimited``, ``MarketTimeout``, ``MarketDataError``: 429, timeouts, connection errors
  and 5xx answers that lasted through the retries; an unreadable answer (not retried).
- ``UnusableAnswer`` (``put_chain`` only): an expiration answered with no contracts at all,
  or a not-live chain (no put has a bid).

The next earnings date comes from yfinance's calendar (Yahoo's ``calendarEvents``), one
request, throttled and retried like the chains; so do the fundamentals (see
``yahoo_fundamentals``) and a year of daily closes (yfinance's price history,
``Ticker.history(period="1y")``: one request to Yahoo's chart endpoint; the time zone it
would first look up with a request of its own is New York's for every US listing).
yfinance turns its timestamps into dates in the server's local time zone.

yfinance keeps one HTTP session per process (its ``YfData`` singleton): every
``yf.Ticker(session=...)`` makes that session the process-wide one, so run one
``YahooProvider`` per process.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import yfinance as yf
from curl_cffi import requests as curl_requests
from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError
from curl_cffi.requests.exceptions import HTTPError, RequestException
from curl_cffi.requests.exceptions import Timeout as CurlTimeout
from tenacity import RetryCallState
from yfinance import cache as yf_cache
from yfinance.exceptions import YFDataException, YFRateLimitError
from yfinance.utils import is_isin

from ..valuation.methods import Fundamentals
from .base import BaseProvider
from .calendar import NY
from .errors import (
    InvalidCrumb,
    MarketDataError,
    MarketTimeout,
    RateLimited,
    UnknownTicker,
    UnusableAnswer,
)
from .models import (
    DailyBar,
    OptionQuote,
    PutChain,
    SpotSource,
    count,
    finite,
    implied_volatility,
    non_negative,
    positive,
    require_live,
)
from .throttle import RateLimiter
from .yahoo_fundamentals import MODULES, fundamentals_from_summary

logger = logging.getLogger(__name__)

#: The quote's price fields per session, newest wins: (spot_source, field prefix).
_SESSIONS: tuple[tuple[SpotSource, str], ...] = (
    ("regular", "regularMarket"),
    ("pre", "preMarket"),
    ("post", "postMarket"),
)

_SYMBOL = re.compile(r"\^?[A-Z0-9][A-Z0-9.=-]{0,19}")

_TIMEOUTS = (CurlTimeout, TimeoutError)


class YahooServerError(HTTPError):
    """Yahoo answered with an HTTP 5xx status."""


class YahooUnauthorized(HTTPError):
    """Yahoo answered HTTP 401: it refused the cookie and crumb (``reason`` says how)."""

    def __init__(self, reason: str, response: curl_requests.Response) -> None:
        super().__init__(f"Yahoo refused the request: {reason}", response=response)
        self.reason = reason


_UNREACHABLE = (CurlConnectionError, ConnectionError, YahooServerError)
_TRANSIENT = (YFRateLimitError, YahooUnauthorized, *_TIMEOUTS, *_UNREACHABLE)
_UNREADABLE = (RequestException, YFDataException, ValueError, KeyError, TypeError, IndexError)

#: The refusal (``YahooUnauthorized``, ``YahooServerError``) of the last answer this thread
#: received, or the timeout or connection failure of its last request, or None: what
#: yfinance's calendar and price history hide.
_last_answer = threading.local()


class YahooSession(curl_requests.Session):
    """A curl_cffi session that applies its own ``timeout`` to every request and raises on
    the answers yfinance would swallow: 5xx and 401."""

    def request(self, method: str, url: str, **kwargs: Any) -> curl_requests.Response:
        """Send with the session's timeout; raise ``YahooServerError`` on an HTTP 5xx answer
        and ``YahooUnauthorized`` on a 401."""
        kwargs["timeout"] = self.timeout
        try:
            response = self.transmit(method, url, **kwargs)
        except (*_TIMEOUTS, CurlConnectionError, ConnectionError) as error:
            _last_answer.refusal = error
            raise
        refusal: HTTPError | None = None
        if response.status_code >= 500:
            refusal = YahooServerError(
                f"Yahoo answered HTTP {response.status_code} for {url}", response=response
            )
        elif response.status_code == 401:
            refusal = YahooUnauthorized(_refusal_reason(response), response)
        _last_answer.refusal = refusal
        if refusal is not None:
            raise refusal
        return response

    def transmit(self, method: str, url: str, **kwargs: Any) -> curl_requests.Response:
        """Perform one HTTP exchange with curl_cffi; test doubles override this."""
        return super().request(method, url, **kwargs)


def _refusal_reason(response: curl_requests.Response) -> str:
    """The ``finance.error.description`` of a refusal, lower-cased (``invalid crumb``)."""
    try:
        description = json.loads(response.content)["finance"]["error"]["description"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
    return str(description).strip().lower() or f"HTTP {response.status_code}"


def _forget_cookie_and_crumb(ticker: yf.Ticker) -> None:
    """Drop the cookie and crumb yfinance cached (in memory and on disk) for all tickers,
    so its next request fetches fresh ones. A 429 on the crumb request leaves yfinance
    holding the text "Too Many Requests" as its crumb, which it would otherwise reuse."""
    data = ticker._data
    with data._cookie_lock:
        data._cookie = None
        data._crumb = None
        data._session.cookies.clear()
    yf_cache.get_cookie_cache().store("curlCffi", None)


def _new_york_today() -> date:
    """Today's date in New York."""
    return datetime.now(NY).date()


class YahooProvider(BaseProvider):
    """Yahoo option chains, at most ``max_concurrent`` requests at once across all threads,
    started no faster than ``rate_limiter`` lets them (None: no limit), each retried up to
    ``retries`` times with exponential backoff and jitter (``wait``, a tenacity wait strategy)
    when Yahoo rate-limits, times out, cannot be reached, fails with a 5xx or refuses the
    crumb.

    ``session`` is the HTTP session handed to yfinance; by default a ``YahooSession``
    with ``timeout`` (an injected session brings its own timeout). ``today`` says which
    expirations are already past.
    """

    name = "yahoo"
    has_fundamentals = True
    rate_setting = "YAHOO_REQUESTS_PER_SECOND"
    transient = _TRANSIENT

    def __init__(
        self,
        *,
        max_concurrent: int = 3,
        rate_limiter: RateLimiter | None = None,
        timeout: float = 15.0,
        retries: int = 4,
        session: curl_requests.Session | None = None,
        today: Callable[[], date] | None = None,
        wait: Callable[[RetryCallState], float] | None = None,
    ) -> None:
        super().__init__(
            max_concurrent=max_concurrent, rate_limiter=rate_limiter, retries=retries, wait=wait
        )
        self.session = (
            session if session is not None else YahooSession(timeout=timeout, impersonate="chrome")
        )
        self.today = today if today is not None else _new_york_today

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> YahooProvider:
        """A provider tuned by the ``YAHOO_*`` settings, its rate by
        ``MARKET_REQUESTS_PER_SECOND`` (alias ``YAHOO_REQUESTS_PER_SECOND``)."""
        return cls(
            max_concurrent=settings["YAHOO_MAX_CONCURRENT"],
            rate_limiter=cls.rate_limiter(settings),
            timeout=settings["YAHOO_TIMEOUT"],
            retries=settings["YAHOO_RETRIES"],
        )

    def open(self, ticker: str, *, calls: bool = False) -> YahooFeed:
        """A feed for ``ticker``; makes no request. With ``calls`` its chains carry the
        calls of the same answers (no extra request)."""
        return YahooFeed(self, ticker, calls=calls)

    def fetch_options(self, ticker: yf.Ticker, expiration: str | None) -> Any:
        """yfinance's ``option_chain`` for one expiration (None: Yahoo's default, the nearest),
        throttled and retried, with every failure turned into a ``MarketDataError``."""
        return self._fetch(ticker.ticker, self._options_once, ticker, expiration)

    def fetch_calendar(self, symbol: str) -> Mapping[str, Any]:
        """yfinance's calendar of ``symbol`` (``{"Earnings Date": [date, ...], ...}``),
        throttled and retried, with every failure turned into a ``MarketDataError``."""
        return self._fetch(symbol, self._calendar_once, symbol)

    def fundamentals(self, symbol: str) -> Fundamentals:
        """The trailing EPS, free cash flow and shares outstanding of ``symbol``: one
        quoteSummary request through yfinance, throttled and retried like the chains."""
        symbol = _checked_symbol(symbol)
        answer = self._fetch(symbol, self._fresh_ticker_once, symbol, _fundamentals_answer)
        return fundamentals_from_summary(symbol, answer)

    def price_history(self, symbol: str) -> pd.DataFrame:
        """yfinance's daily price history of ``symbol`` for the last year (one chart request),
        throttled and retried like the chains."""
        return self._fetch(symbol, self._fresh_ticker_once, symbol, _year_of_prices)

    def _fetch(self, symbol: str, attempt: Callable[..., Any], *args: Any) -> Any:
        """``attempt(*args)``, retried on what is transient; failures as ``MarketDataError``."""
        attempts = self.attempts
        try:
            return self.retrying()(attempt, *args)
        except YahooUnauthorized as error:
            logger.warning("%s: %s, %d attempts in a row", symbol, error, attempts)
            raise InvalidCrumb(f"Yahoo refused the request: {error.reason}") from error
        except YFRateLimitError as error:
            raise RateLimited(
                f"Yahoo refused {symbol} as too many requests, {attempts} attempts in a row"
            ) from error
        except _TIMEOUTS as error:
            raise MarketTimeout(
                f"Yahoo did not answer for {symbol} in time, {attempts} attempts in a row"
            ) from error
        except _UNREACHABLE as error:
            raise MarketDataError(
                f"Yahoo failed to answer for {symbol}, {attempts} attempts in a row: {error}"
            ) from error
        except KeyError as error:
            if error.args == ("expirationDates",):
                raise UnknownTicker(_no_options(symbol)) from error
            raise MarketDataError(f"Yahoo's answer for {symbol} lacks {error}") from error
        except _UNREADABLE as error:
            raise MarketDataError(
                f"Yahoo's answer for {symbol} could not be read: {error}"
            ) from error

    def _options_once(self, ticker: yf.Ticker, expiration: str | None) -> Any:
        """One ``option_chain`` call."""
        return self._request_once(ticker, lambda: ticker.option_chain(expiration))

    def _calendar_once(self, symbol: str) -> Mapping[str, Any]:
        """One calendar request."""
        return self._fresh_ticker_once(symbol, lambda ticker: ticker.calendar)

    def _fresh_ticker_once(self, symbol: str, read: Callable[[yf.Ticker], Any]) -> Any:
        """One request, ``read(ticker)``, on a ``yf.Ticker`` of its own: yfinance keeps a
        ticker's first answer, even the ``{}`` of a refused request. A refusal that yfinance
        swallowed is raised."""
        ticker = yf.Ticker(symbol, session=self.session)

        def summary() -> Any:
            _last_answer.refusal = None
            found = read(ticker)
            if (refusal := getattr(_last_answer, "refusal", None)) is not None:
                raise refusal
            return found

        return self._request_once(ticker, summary)

    def _request_once(self, ticker: yf.Ticker, call: Callable[[], Any]) -> Any:
        """One throttled, counted request; a 401 drops the cookie and crumb."""
        with self.request_slot():
            try:
                return call()
            except YahooUnauthorized:
                _forget_cookie_and_crumb(ticker)
                raise


class YahooFeed:
    """One ticker's options for one scan, on one ``yf.Ticker``.

    The listing request (no date) brings the expirations, the spot quote and Yahoo's
    default chain, which is the nearest expiration's; that answer is kept, so asking for
    the nearest chain costs nothing more and E expirations cost E requests.
    """

    credits = None  # Yahoo bills nothing

    def __init__(self, provider: YahooProvider, ticker: str, *, calls: bool = False) -> None:
        self._provider = provider
        self._symbol = ticker.strip().upper()
        self._calls = calls
        self._lock = threading.Lock()
        self._yf_ticker: yf.Ticker | None = None
        self._listed: list[date] | None = None
        self._nearest_answer: Any = None
        self._listing_spot: tuple[float, SpotSource] | None = None

    def expirations(self) -> list[date]:
        """Listed expirations from today on, ascending."""
        today = self._provider.today()
        return [day for day in self._listing() if day >= today]

    def put_chain(self, expiration: date) -> PutChain:
        """The cleaned puts of one listed expiration, with the spot price and its session.

        Raises ``UnusableAnswer`` for an answer without contracts or a not-live chain.
        """
        listed = self._listing()
        if expiration not in listed:
            raise MarketDataError(
                f"Yahoo lists no {expiration.isoformat()} expiration for {self._symbol}; "
                f"listed: {', '.join(day.isoformat() for day in listed)}"
            )
        if expiration == listed[0]:
            answer = self._nearest_answer
        else:
            answer = self._provider.fetch_options(self._yf_ticker, expiration.isoformat())
        if answer.puts is None or (answer.puts.empty and answer.calls.empty):
            raise UnusableAnswer(
                f"Yahoo sent no contracts for {self._symbol} {expiration.isoformat()}"
            )
        spot = _spot_price(answer.underlying) or self._listing_spot
        if spot is None:
            raise MarketDataError(f"Yahoo sent no price for {self._symbol}")
        chain = PutChain(
            ticker=self._symbol,
            expiration=expiration,
            spot=spot[0],
            puts=_clean_quotes(answer.puts, expiration),
            spot_source=spot[1],
            calls=self._call_quotes(answer, expiration),
        )
        return require_live(chain)

    def chain_from(self, day: date) -> PutChain | None:
        """The chain of the first listed expiration on or after ``day`` (one request; the
        listing is the one the scan already fetched); None when none is listed that far."""
        expiration = next((listed for listed in self.expirations() if listed >= day), None)
        return None if expiration is None else self.put_chain(expiration)

    def daily_closes(self, first: date, last: date) -> list[DailyBar]:
        """The daily closes from ``first`` to ``last`` (within the last year): one request."""
        self._ticker()  # refuses a malformed symbol without a request
        bars = _daily_bars(self._provider.price_history(self._symbol))
        if not bars:
            raise MarketDataError(f"Yahoo sent no daily closes for {self._symbol}")
        return [bar for bar in bars if first <= bar.day <= last]

    def _call_quotes(self, answer: Any, expiration: date) -> tuple[OptionQuote, ...]:
        """The answer's calls when the feed wants them, else none."""
        if not self._calls or answer.calls is None:
            return ()
        return _clean_quotes(answer.calls, expiration)

    def next_earnings(self) -> date | None:
        """The first earnings date of Yahoo's calendar from today on (a range, when Yahoo
        only estimates it, gives its first day); None for none, as for an ETF."""
        self._ticker()  # refuses a malformed symbol without a request
        dates = self._provider.fetch_calendar(self._symbol).get("Earnings Date") or []
        today = self._provider.today()
        return min((day for day in dates if isinstance(day, date) and day >= today), default=None)

    def _listing(self) -> list[date]:
        """The listed expirations, fetched once with the nearest chain and the quote."""
        with self._lock:
            if self._listed is None:
                ticker = self._ticker()
                answer = self._provider.fetch_options(ticker, None)
                listed = _listed_expirations(ticker)
                if not listed or answer.puts is None:
                    raise UnknownTicker(_no_options(self._symbol))
                self._nearest_answer = answer
                self._listing_spot = _spot_price(answer.underlying)
                self._listed = listed
            return self._listed

    def _ticker(self) -> yf.Ticker:
        """This feed's ``yf.Ticker``, made on first use; refuses a malformed symbol."""
        if self._yf_ticker is None:
            symbol = _checked_symbol(self._symbol)
            self._yf_ticker = yf.Ticker(symbol, session=self._provider.session)
        return self._yf_ticker


def _checked_symbol(symbol: str) -> str:
    """``symbol`` upper-cased; ``UnknownTicker`` when it cannot be a Yahoo symbol."""
    symbol = symbol.strip().upper()
    if not _SYMBOL.fullmatch(symbol) or is_isin(symbol):
        raise UnknownTicker(f"{symbol!r} is not a Yahoo ticker symbol")
    return symbol


def _fundamentals_answer(ticker: yf.Ticker) -> Any:
    """yfinance's raw quoteSummary answer with the fundamentals' modules (None on a 404)."""
    return ticker._quote._fetch(modules=MODULES)


def _year_of_prices(ticker: yf.Ticker) -> pd.DataFrame:
    """yfinance's daily history of the last year, closes as Yahoo quotes them (adjusted for
    splits, not for dividends)."""
    ticker._tz = str(NY)  # spares yfinance a request of its own for the listing's time zone
    return ticker.history(period="1y", interval="1d", auto_adjust=False, actions=False)


def _daily_bars(frame: pd.DataFrame) -> list[DailyBar]:
    """The dated closes of yfinance's history, oldest first; days without one left out."""
    if frame.empty or "Close" not in frame:
        return []
    closes = ((stamp.date(), positive(close)) for stamp, close in frame["Close"].items())
    return [DailyBar(day, close) for day, close in closes if close is not None]


def _listed_expirations(ticker: yf.Ticker) -> list[date]:
    """The expirations yfinance collected from the answers so far, ascending.

    Read from ``_expirations``: the public ``options`` property would send another,
    unthrottled request when the listing is empty.
    """
    return sorted(date.fromisoformat(day) for day in ticker._expirations)


def _no_options(symbol: str) -> str:
    """The message for a symbol without options."""
    return f"Yahoo: no options listed for {symbol}"


def _spot_price(quote: Any) -> tuple[float, SpotSource] | None:
    """The underlying's price and its session: the newest of the regular, pre- and
    post-market prices, else the bid/ask midpoint, else the previous close (both regular)."""
    if not isinstance(quote, Mapping):
        return None
    prices = [
        (finite(quote.get(f"{prefix}Time")) or 0.0, price, source)
        for source, prefix in _SESSIONS
        if (price := positive(quote.get(f"{prefix}Price"))) is not None
    ]
    if prices:
        _, price, source = max(prices, key=lambda entry: entry[0])
        return price, source
    bid, ask = positive(quote.get("bid")), positive(quote.get("ask"))
    if bid is not None and ask is not None:
        return (bid + ask) / 2, "regular"
    close = positive(quote.get("regularMarketPreviousClose"))
    return None if close is None else (close, "regular")


def _utc_time(value: Any) -> datetime | None:
    """A pandas timestamp as an aware UTC datetime, or None."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).to_pydatetime().astimezone(UTC)


def _quote(row: Mapping[str, Any], expiration: date) -> OptionQuote | None:
    """One row of yfinance's puts or calls frame as an ``OptionQuote``; None without
    contract or strike."""
    contract = row.get("contractSymbol")
    strike = positive(row.get("strike"))
    if not isinstance(contract, str) or not contract.strip() or strike is None:
        return None
    return OptionQuote(
        contract_symbol=contract.strip(),
        expiration=expiration,
        strike=strike,
        bid=non_negative(row.get("bid")),
        ask=non_negative(row.get("ask")),
        last=non_negative(row.get("lastPrice")),
        volume=count(row.get("volume")),
        open_interest=count(row.get("openInterest")),
        implied_volatility=implied_volatility(contract, row.get("impliedVolatility")),
        last_trade=_utc_time(row.get("lastTradeDate")),
    )


def _clean_quotes(frame: pd.DataFrame, expiration: date) -> tuple[OptionQuote, ...]:
    """Every usable row of yfinance's puts or calls frame."""
    quotes = (_quote(row, expiration) for row in frame.to_dict("records"))
    return tuple(quote for quote in quotes if quote is not None)
