"""Earnings before expiration: each ticker's next earnings date, asked of the market at most
once a day and kept in Redis, and the put rows it marks.

A put that expires on or after the next earnings report is a different trade; its row
carries ``earnings_date`` and ``earnings_before_expiry: true``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

import redis

from ..market.errors import MarketDataError
from ..market.models import ScreenedPut
from ..market.provider import TickerFeed
from ..redis_door import Keys
from .json_cache import KEEP_SECONDS, MISSING, RETRY_SECONDS, JsonCache

log = logging.getLogger(__name__)


class EarningsCalendar:
    """Next earnings dates, cached per ticker in Redis under ``earnings:<SYMBOL>``.

    A failure to fetch (the market refused, the plan lacks the endpoint) never fails the
    ticker: its rows simply go without an earnings date, and the market is asked again
    after ``RETRY_SECONDS``.
    """

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.cache = JsonCache(client, "earnings date")
        self.keys = keys

    def next_date(self, symbol: str, feed: TickerFeed, today: date) -> date | None:
        """The next earnings date of ``symbol`` from ``today`` on, or None when unknown."""
        key = self.keys.earnings(symbol)
        cached = self._read(key)
        if cached is not MISSING and (cached is None or cached >= today):
            return cached  # a date already past is asked for again
        try:
            found, keep = feed.next_earnings(), KEEP_SECONDS
        except MarketDataError as error:  # ProviderRefused too: earnings alone stop nothing
            log.warning("%s: no earnings date: %s", symbol, error)
            found, keep = None, RETRY_SECONDS
        self._write(key, found, keep)
        return found

    def _read(self, key: str) -> Any:
        """The cached date, None for "none known", ``MISSING`` when there is no entry."""
        stored = self.cache.read(key)
        if stored is MISSING or "next" not in stored:
            return MISSING
        try:
            return None if stored["next"] is None else date.fromisoformat(stored["next"])
        except (TypeError, ValueError):
            return MISSING

    def _write(self, key: str, found: date | None, seconds: int) -> None:
        self.cache.write(key, {"next": None if found is None else found.isoformat()}, seconds)


def mark_earnings(rows: list[ScreenedPut], earnings: date | None) -> list[ScreenedPut]:
    """``rows`` with the ticker's next earnings date, each marked when it expires on or
    after it; unchanged when the date is unknown."""
    if earnings is None:
        return rows
    day = earnings.isoformat()
    return [
        replace(row, earnings_date=day, earnings_before_expiry=row.expiration >= day)
        for row in rows
    ]
