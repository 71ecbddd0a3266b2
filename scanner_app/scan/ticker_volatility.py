"""A ticker's volatility as a scan sees it: IV30 from the chains it fetched (plus, when the
window stops short of 30 days, the first expiration at or past 30 days, fetched once a day),
and HV20 from the provider's daily closes (fetched once a day; the same answer backfills a
year of closes). Both daily answers are kept in Redis like the fundamentals.

A failure here never fails the ticker: its figures are simply unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import redis

from ..market.errors import MarketDataError
from ..market.models import DailyBar, PutChain
from ..market.pricing import days_to_expiry
from ..market.provider import TickerFeed
from ..redis_door import Keys
from ..valuation.volatility import IV30_DAYS, atm_iv, hv20, iv30
from .json_cache import KEEP_SECONDS, MISSING, RETRY_SECONDS, JsonCache

log = logging.getLogger(__name__)

#: Calendar days of daily closes asked for: a year, for HV20 from the first day.
CLOSES_DAYS = 366
#: Closes kept in Redis for the day's HV20 (20 returns need 21; a few spare).
CLOSES_KEPT = 25


@dataclass(frozen=True)
class TickerVolatility:
    """What one scan of a ticker measured: the spot, IV30 and HV20 (None where unknown),
    and the provider's daily bars when they were fetched in this scan (first of the day)."""

    spot: float
    iv30: float | None
    hv20: float | None
    backfill: tuple[DailyBar, ...] = ()


def atm_points(chains: Iterable[PutChain], today: date) -> list[tuple[int, float]]:
    """(days to expiration, ATM IV) of the chains IV30 reads: on each side of 30 days, the
    nearest to 30 that has an ATM IV (the others are never looked at)."""
    dated = sorted(
        ((days_to_expiry(chain.expiration, today), chain) for chain in chains),
        key=lambda item: item[0],
    )
    sides = (
        reversed([item for item in dated if item[0] <= IV30_DAYS]),
        (item for item in dated if item[0] >= IV30_DAYS),
    )
    points = []
    for side in sides:
        found = next(
            ((days, iv) for days, chain in side if (iv := _chain_atm_iv(chain)) is not None),
            None,
        )
        if found is not None:
            points.append(found)
    return points


def _chain_atm_iv(chain: PutChain) -> float | None:
    quotes = (*chain.puts, *chain.calls)
    return atm_iv(
        chain.spot, ((q.strike, q.implied_volatility) for q in quotes if q.implied_volatility)
    )


class VolatilityGauge:
    """Measures IV30 and HV20 per ticker, asking the market at most once a day for what the
    scan's own chains do not bring."""

    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.keys = keys
        self.cache = JsonCache(client, "daily volatility answers")

    def measure(
        self, symbol: str, feed: TickerFeed, today: date, chains: list[PutChain]
    ) -> TickerVolatility | None:
        """The ticker's figures from ``chains`` (the scan's), None without a spot."""
        if not chains:
            return None
        spot = chains[0].spot
        anchor_key = self.keys(f"iv30_anchor:{symbol}")
        closes_key = self.keys(f"daily_closes:{symbol}")
        stored_anchor, stored_closes = self.cache.read_many([anchor_key, closes_key])
        points = atm_points(chains, today)
        if not any(days >= IV30_DAYS for days, _iv in points):
            anchor = self._anchor(anchor_key, stored_anchor, symbol, feed, today)
            if anchor is not None:
                points.append(anchor)
        closes, backfill = self._closes(closes_key, stored_closes, symbol, feed, today)
        return TickerVolatility(
            spot=spot,
            iv30=iv30(points),
            hv20=hv20([close for _day, close in closes] + [spot]),
            backfill=tuple(backfill),
        )

    def _anchor(
        self, key: str, stored: Any, symbol: str, feed: TickerFeed, today: date
    ) -> tuple[int, float] | None:
        """(days, ATM IV) of the first expiration at or past 30 days, once a day (``stored``:
        what ``key`` holds)."""
        if stored is not MISSING and stored.get("day") == today.isoformat():
            return _anchor_point(stored, today)
        chain_from = getattr(feed, "chain_from", None)
        if chain_from is None:
            return None
        try:
            chain = chain_from(today + timedelta(days=IV30_DAYS))
        except MarketDataError as error:
            log.info("%s: no 30-day expiration: %s", symbol, error)
            self.cache.write(key, {"day": today.isoformat()}, RETRY_SECONDS)
            return None
        point = atm_points([chain], today) if chain is not None else []
        entry: dict[str, Any] = {"day": today.isoformat()}
        if point:
            entry.update(days=point[0][0], atm_iv=point[0][1])
        self.cache.write(key, entry, KEEP_SECONDS)
        return point[0] if point else None

    def _closes(
        self, key: str, stored: Any, symbol: str, feed: TickerFeed, today: date
    ) -> tuple[list[tuple[date, float]], list[DailyBar]]:
        """The closes before ``today`` (oldest first) and, when asked of the market now, the
        bars it sent (for the backfill); ``stored``: what ``key`` holds."""
        if stored is not MISSING and stored.get("day") == today.isoformat():
            return _stored_closes(stored), []
        fetch = getattr(feed, "daily_closes", None)
        if fetch is None:
            return [], []
        try:
            bars = fetch(today - timedelta(days=CLOSES_DAYS), today - timedelta(days=1))
        except MarketDataError as error:
            log.info("%s: no daily closes: %s", symbol, error)
            self.cache.write(key, {"day": today.isoformat(), "closes": []}, RETRY_SECONDS)
            return [], []
        bars = sorted((bar for bar in bars if bar.day < today), key=lambda bar: bar.day)
        closes = [(bar.day, bar.close) for bar in bars][-CLOSES_KEPT:]
        entry = {
            "day": today.isoformat(),
            "closes": [[day.isoformat(), close] for day, close in closes],
        }
        self.cache.write(key, entry, KEEP_SECONDS)
        return closes, bars


def _anchor_point(stored: dict[str, Any], today: date) -> tuple[int, float] | None:
    days, value = stored.get("days"), stored.get("atm_iv")
    if isinstance(days, int) and isinstance(value, int | float) and value > 0:
        return days, float(value)
    return None


def _stored_closes(stored: dict[str, Any]) -> list[tuple[date, float]]:
    closes = []
    for item in stored.get("closes") or []:
        try:
            day, close = date.fromisoformat(item[0]), float(item[1])
        except (TypeError, ValueError, IndexError):
            return []
        closes.append((day, close))
    return closes
