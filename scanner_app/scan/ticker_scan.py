"""Scan one ticker: fetch its chains in the expiration window and screen the puts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from ..market.calendar import expiration_window_end
from ..market.errors import MarketDataError, ProviderRefused
from ..market.models import ScreenedPut
from ..market.pricing import days_to_expiry
from ..market.provider import MarketProvider, TickerFeed
from .earnings import EarningsCalendar, mark_earnings
from .screen import Criteria, screen_chain, sort_puts
from .store import TickerResult

log = logging.getLogger(__name__)


class TickerScanner:
    """Fetches and screens one ticker at a time; a market failure becomes the ticker's error.

    An expiration that fails while others bring qualifying puts leaves the ticker partial;
    when none does, the ticker fails with the first error (its earlier rows stay, stale):
    only a complete answer without a qualifying put empties a ticker.
    ``ProviderRefused`` (bad token, no credits) is the one failure that is not the ticker's:
    it propagates so the whole scan can stop. With ``earnings``, the rows of a ticker that
    has some are marked against its next earnings date.
    """

    def __init__(
        self,
        *,
        provider: MarketProvider,
        criteria: Criteria,
        rate: float,
        clock: Callable[[], datetime],
        earnings: EarningsCalendar | None = None,
    ) -> None:
        self.provider = provider
        self.criteria = criteria
        self.rate = rate
        self.clock = clock
        self.earnings = earnings

    def scan(self, symbol: str, today: date) -> TickerResult:
        """The qualifying puts of ``symbol``, or the reason it could not be scanned."""
        feed: TickerFeed | None = None
        try:
            feed = self.provider.open(symbol)
            rows, partial = self._screen(symbol, feed, today)
            if rows and self.earnings is not None:
                rows = mark_earnings(rows, self.earnings.next_date(symbol, feed, today))
        except ProviderRefused:
            raise
        except MarketDataError as error:
            return self._result(symbol, feed, error=str(error) or type(error).__name__)
        except Exception as error:  # a bug or an unexpected reply must not stop the scan
            log.exception("ticker %s failed", symbol)
            return self._result(symbol, feed, error=f"Unexpected error: {error}")
        rows_json = [row.to_dict() for row in rows]
        return self._result(symbol, feed, rows=rows_json, partial_expirations=partial)

    def _screen(
        self, symbol: str, feed: TickerFeed, today: date
    ) -> tuple[list[ScreenedPut], list[str]]:
        """The qualifying puts of the window's expirations, and the expirations that failed
        (raises the first failure when no qualifying put came back).

        Expirations sooner than ``min_dte`` days are not fetched: none of their puts could
        qualify.
        """
        window_end = expiration_window_end(today, self.criteria.weeks)
        wanted = [
            day
            for day in feed.expirations()
            if today <= day <= window_end and days_to_expiry(day, today) >= self.criteria.min_dte
        ]
        rows: list[ScreenedPut] = []
        failures: list[tuple[date, MarketDataError]] = []
        for expiration in wanted:
            try:
                chain = feed.put_chain(expiration)
            except ProviderRefused:
                raise
            except MarketDataError as error:
                log.info("%s %s failed: %s", symbol, expiration, error)
                failures.append((expiration, error))
                continue
            rows.extend(screen_chain(chain, today, self.criteria, self.rate))
        if failures and not rows:
            raise failures[0][1]
        return sort_puts(rows), [day.isoformat() for day, _error in failures]

    def _result(self, symbol: str, feed: TickerFeed | None, **facts: Any) -> TickerResult:
        credits = feed.credits if feed is not None else None
        return TickerResult(symbol, self._now(), credits=credits, **facts)

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")
