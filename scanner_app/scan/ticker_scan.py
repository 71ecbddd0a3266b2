"""Scan one ticker: fetch its chains in the expiration window and screen the puts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from ..market.calendar import expiration_window_end
from ..market.errors import MarketDataError, ProviderRefused
from ..market.provider import MarketProvider
from .screen import Criteria, screen_chain, sort_puts
from .store import TickerResult

log = logging.getLogger(__name__)


class TickerScanner:
    """Fetches and screens one ticker at a time; a market failure becomes the ticker's error.

    ``ProviderRefused`` (bad token, no credits) is the one failure that is not the ticker's:
    it propagates so the whole scan can stop.
    """

    def __init__(
        self,
        *,
        provider: MarketProvider,
        criteria: Criteria,
        rate: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.provider = provider
        self.criteria = criteria
        self.rate = rate
        self.clock = clock

    def scan(self, symbol: str, today: date) -> TickerResult:
        """The qualifying puts of ``symbol``, or the reason it could not be scanned."""
        try:
            rows = self._screen(symbol, today)
        except ProviderRefused:
            raise
        except MarketDataError as error:
            return TickerResult(symbol, self._now(), [], error=str(error) or type(error).__name__)
        except Exception as error:  # a bug or an unexpected reply must not stop the scan
            log.exception("ticker %s failed", symbol)
            return TickerResult(symbol, self._now(), [], error=f"Unexpected error: {error}")
        return TickerResult(symbol, self._now(), [row.to_dict() for row in rows])

    def _screen(self, symbol: str, today: date) -> list:
        feed = self.provider.open(symbol)
        window_end = expiration_window_end(today, self.criteria.weeks)
        rows = []
        for expiration in feed.expirations():
            if today <= expiration <= window_end:
                chain = feed.put_chain(expiration)
                rows.extend(screen_chain(chain, today, self.criteria, self.rate))
        return sort_puts(rows)

    def _now(self) -> str:
        return self.clock().isoformat(timespec="seconds")
