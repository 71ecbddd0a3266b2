"""Fair-value estimates per ticker: fundamentals asked of the market at most once a day
(kept in Redis like the earnings dates), the estimate made from them with the ticker's
assumptions, and the ``fair_values`` hash that keeps it for the pages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any, Protocol

import redis

from ..market.errors import MarketDataError
from ..market.provider import FundamentalsSource
from ..numbers import finite_number
from ..redis_door import REDIS_ERRORS, Keys
from ..redis_door.memory import RedisFull, is_out_of_memory
from ..stored_json import load_json
from ..valuation.assumptions import Assumptions
from ..valuation.methods import Estimate, Fundamentals, estimate
from .json_cache import KEEP_SECONDS, MISSING, RETRY_SECONDS, JsonCache
from .layout import FAIR_VALUES

log = logging.getLogger(__name__)


def _cached_figures(stored: Any) -> Fundamentals | str | None:
    """A cache entry as figures, or the remembered failure, or None when unusable."""
    if isinstance(stored.get("error"), str):
        return stored["error"]
    figures = {name: stored.get(name) for name in ("eps", "free_cash_flow", "shares")}
    if any(value is not None and finite_number(value) is None for value in figures.values()):
        return None
    return Fundamentals(**figures)


class OwnFigures(Protocol):
    """What the watchlists set for a symbol: its fair value (the scan then estimates none)
    and its own assumptions."""

    def fair_value(self, symbol: str) -> float | None:
        """The fair value set for ``symbol``, None when the scan should estimate one."""

    def assumptions(self, symbol: str) -> dict[str, Any]:
        """The assumptions set for ``symbol`` alone."""


class FairValueEstimator:
    """Estimates and stores a ticker's fair value, unless the watchlist sets one.

    ``assumptions`` are the global ones; the watchlist may set a ticker's own.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        source: FundamentalsSource,
        assumptions: Assumptions,
        watchlist: OwnFigures,
        results_ttl: int = 0,
    ) -> None:
        self.client = client
        self.keys = keys
        self.source = source
        self.assumptions = assumptions
        self.watchlist = watchlist
        self.cache = JsonCache(client, "fundamentals")
        #: The hash lives as long as the fundamentals behind it, or as the results that
        #: show it when they live longer; every write pushes its expiry out.
        self.keep_seconds = max(KEEP_SECONDS, results_ttl)

    def update(self, symbol: str) -> Estimate | None:
        """Estimate the fair value of ``symbol`` and store it in the ``fair_values`` hash;
        None, with nothing asked of the market, when the watchlist sets its fair value.
        Raises RedisFull when Redis is full (a scan stops)."""
        if self.watchlist.fair_value(symbol) is not None:
            return None
        figures = self.figures(symbol)
        if isinstance(figures, str):
            found = Estimate(None, reason=f"no fundamentals: {figures}")
        else:
            found = estimate(
                figures, self.assumptions.overridden(self.watchlist.assumptions(symbol))
            )
        key = self.keys(FAIR_VALUES)
        try:
            with self.client.pipeline() as pipe:
                pipe.hset(key, symbol, json.dumps(found.to_dict()))
                pipe.expire(key, self.keep_seconds)
                pipe.execute()
        except REDIS_ERRORS as error:
            if is_out_of_memory(error):
                raise RedisFull.on(self.client) from error
            log.warning("%s: fair value not stored: %s", symbol, error)
        return found

    def figures(self, symbol: str) -> Fundamentals | str:
        """The fundamentals of ``symbol``, cached for a day, or why there are none (a
        failure is remembered for an hour)."""
        key = self.keys.fundamentals(symbol)
        stored = self.cache.read(key)
        cached = None if stored is MISSING else _cached_figures(stored)
        if cached is not None:
            return cached
        try:
            figures = self.source.fundamentals(symbol)
        except MarketDataError as error:
            reason = str(error) or type(error).__name__
            log.warning("%s: no fundamentals: %s", symbol, reason)
            self.cache.write(key, {"error": reason}, RETRY_SECONDS)
            return reason
        self.cache.write(key, asdict(figures), KEEP_SECONDS)
        return figures


def read_estimates(client: redis.Redis, keys: Keys, symbols: list[str]) -> dict[str, Estimate]:
    """The stored estimates of ``symbols`` (one round trip); garbage and misses left out.

    Raises a Redis error when Redis does not answer.
    """
    if not symbols:
        return {}
    stored = client.hmget(keys(FAIR_VALUES), symbols)
    found = {}
    for symbol, raw in zip(symbols, stored, strict=True):
        parsed = Estimate.from_dict(load_json(raw))
        if parsed is not None:
            found[symbol] = parsed
    return found
