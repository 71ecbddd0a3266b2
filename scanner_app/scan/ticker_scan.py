"""Scan one ticker: fetch its chains in the expiration window and screen the puts, and the
calls when shares are held."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from ..market.calendar import expiration_window_end
from ..market.errors import MarketDataError, ProviderRefused
from ..market.models import PutChain, ScreenedCall, ScreenedPut
from ..market.pricing import days_to_expiry
from ..market.provider import MarketProvider, TickerFeed
from ..redis_door.memory import RedisFull
from ..watchlist import Position
from .earnings import EarningsCalendar, mark_earnings
from .fair_values import FairValueEstimator
from .screen import Criteria, screen_calls, screen_chain, sort_calls, sort_puts
from .store import TickerResult
from .ticker_volatility import TickerVolatility, VolatilityGauge

log = logging.getLogger(__name__)


class TickerScanner:
    """Fetches and screens one ticker at a time; a market failure becomes the ticker's error.

    An expiration that fails while others bring qualifying puts leaves the ticker partial;
    when none does, the ticker fails with the first error (its earlier rows stay, stale):
    only a complete answer without a qualifying put empties a ticker.
    ``ProviderRefused`` (bad token, no credits) is the one failure that is not the ticker's:
    it propagates so the whole scan can stop, as does RedisFull (a full Redis refused the
    ticker's cached facts or fair value). With ``earnings``, the rows of a ticker that
    has some are marked against its next earnings date. A ticker in ``positions`` (shares
    that cover at least one contract) has its calls screened too. With ``fair_values``, a
    ticker scanned without a failure also gets its fair value estimated (fundamentals
    permitting). With ``volatility``, its IV30 and HV20 are measured too.
    """

    def __init__(
        self,
        *,
        provider: MarketProvider,
        criteria: Criteria,
        rate: float,
        clock: Callable[[], datetime],
        earnings: EarningsCalendar | None = None,
        positions: Mapping[str, Position] | None = None,
        fair_values: FairValueEstimator | None = None,
        volatility: VolatilityGauge | None = None,
    ) -> None:
        self.provider = provider
        self.criteria = criteria
        self.rate = rate
        self.clock = clock
        self.earnings = earnings
        self.positions = dict(positions or {})
        self.fair_values = fair_values
        self.volatility = volatility

    def scan(self, symbol: str, today: date) -> TickerResult:
        """The qualifying puts (and calls) of ``symbol``, or the reason it could not be
        scanned."""
        feed: TickerFeed | None = None
        try:
            feed = self.provider.open(symbol, calls=symbol in self.positions)
            rows, calls, partial, chains = self._screen(symbol, feed, today)
            if (rows or calls) and self.earnings is not None:
                earnings = self.earnings.next_date(symbol, feed, today)
                rows, calls = mark_earnings(rows, earnings), mark_earnings(calls, earnings)
            if self.fair_values is not None:
                self.fair_values.update(symbol)
            measured = self._measure(symbol, feed, today, chains)
        except (ProviderRefused, RedisFull):
            raise
        except MarketDataError as error:
            return self._result(symbol, feed, error=str(error) or type(error).__name__)
        except Exception as error:  # a bug or an unexpected reply must not stop the scan
            log.exception("ticker %s failed", symbol)
            return self._result(symbol, feed, error=f"Unexpected error: {error}")
        return self._result(
            symbol,
            feed,
            rows=[row.to_dict() for row in rows],
            calls=[row.to_dict() for row in calls],
            partial_expirations=partial,
            volatility=measured,
        )

    def _measure(
        self, symbol: str, feed: TickerFeed, today: date, chains: list[PutChain]
    ) -> TickerVolatility | None:
        """The ticker's IV30 and HV20; None without a gauge, or when measuring failed (the
        ticker stands)."""
        if self.volatility is None:
            return None
        try:
            return self.volatility.measure(symbol, feed, today, chains)
        except ProviderRefused:
            raise
        except Exception:  # the figures are extras: never the ticker's failure
            log.exception("%s: volatility not measured", symbol)
            return None

    def _screen(
        self, symbol: str, feed: TickerFeed, today: date
    ) -> tuple[list[ScreenedPut], list[ScreenedCall], list[str], list[PutChain]]:
        """The qualifying puts and calls of the window's expirations, the expirations
        that failed (raises the first failure when no qualifying row came back), and the
        chains fetched.

        Expirations sooner than ``min_dte`` days are not fetched: none of their options
        could qualify.
        """
        window_end = expiration_window_end(today, self.criteria.weeks)
        wanted = [
            day
            for day in feed.expirations()
            if today <= day <= window_end and days_to_expiry(day, today) >= self.criteria.min_dte
        ]
        position = self.positions.get(symbol)
        rows: list[ScreenedPut] = []
        calls: list[ScreenedCall] = []
        failures: list[tuple[date, MarketDataError]] = []
        chains: list[PutChain] = []
        for expiration in wanted:
            try:
                chain = feed.put_chain(expiration)
            except ProviderRefused:
                raise
            except MarketDataError as error:
                log.info("%s %s failed: %s", symbol, expiration, error)
                failures.append((expiration, error))
                continue
            chains.append(chain)
            rows.extend(screen_chain(chain, today, self.criteria, self.rate))
            if position is not None:
                calls.extend(screen_calls(chain, today, self.criteria, self.rate, position))
        if failures and not (rows or calls):
            raise failures[0][1]
        failed = [day.isoformat() for day, _error in failures]
        return sort_puts(rows), sort_calls(calls), failed, chains

    def _result(self, symbol: str, feed: TickerFeed | None, **facts: Any) -> TickerResult:
        credits = feed.credits if feed is not None else None
        return TickerResult(symbol, self._now(), credits=credits, **facts)

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")
