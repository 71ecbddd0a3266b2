"""Each ticker's fair value as the pages show it: the watchlist's own figure, else the
scan's estimate ("est."), read from Redis for the tickers a page shows."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from ..redis_door import REDIS_ERRORS
from ..scan.fair_values import read_estimates
from ..scan.reads import ResultReader
from ..valuation.methods import LABELS, Estimate
from ..watchlist import Watchlist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FairValue:
    """A ticker's fair value (None: n/a), and the estimate behind it or behind its absence
    (None for the user's own figure, or when no scan estimated one yet)."""

    value: float | None
    estimate: Estimate | None = None

    @property
    def estimated(self) -> bool:
        """Whether the value is the scan's estimate, not the user's own."""
        return self.value is not None and self.estimate is not None

    def discount(self, price: float | None) -> float | None:
        """How far ``price`` is below the fair value, in % of it (negative: above)."""
        if self.value is None or price is None:
            return None
        return (self.value - price) / self.value * 100

    @property
    def explanation(self) -> str:
        """How the value came about, for a tooltip and the drilldown."""
        if self.value is not None and self.estimate is None:
            return "Your own fair value, from the watchlist."
        if self.estimate is None:
            return "No fair value: the next scan estimates one."
        found = self.estimate
        notes = [f"{LABELS[method]} skipped: {why}." for method, why in found.skipped.items()]
        if found.method is None:
            return " ".join([f"No estimate: {found.reason or 'no usable method'}.", *notes])
        inputs = found.inputs
        method = (
            f"Estimated from {LABELS[found.method]} {inputs[found.method]:.2f}, grown "
            f"{inputs['growth_rate']:g} % a year for {inputs['years']:g} years, "
            f"{inputs['multiple']:g}x the last year as terminal value, all discounted at "
            f"{inputs['desired_return']:g} %."
        )
        return " ".join([method, *notes])


class FairValueBook:
    """Fair values by symbol for one request; ``prime`` reads many in one round trip.

    Called with a symbol it gives the value alone, as the badges and sorts take it.
    A Redis failure leaves the estimates out (n/a), never the page.
    """

    def __init__(self, watchlist: Watchlist, reader: ResultReader) -> None:
        self.watchlist = watchlist
        self.reader = reader
        self._estimates: dict[str, Estimate] = {}
        self._read: set[str] = set()

    def prime(self, symbols: Iterable[str]) -> None:
        """Read the estimates of ``symbols`` not read yet (those without an own figure)."""
        wanted = [
            symbol
            for symbol in dict.fromkeys(symbols)
            if symbol not in self._read and self.watchlist.fair_value(symbol) is None
        ]
        if not wanted:
            return
        self._read.update(wanted)
        try:
            self._estimates |= read_estimates(self.reader.client, self.reader.keys, wanted)
        except REDIS_ERRORS as error:
            log.warning("fair values unreadable: %s", error)

    def describe(self, symbol: str) -> FairValue:
        """The fair value of ``symbol``, and where it comes from."""
        own = self.watchlist.fair_value(symbol)
        if own is not None:
            return FairValue(own)
        self.prime([symbol])
        found = self._estimates.get(symbol)
        return FairValue(found.value if found else None, found)

    def __call__(self, symbol: str) -> float | None:
        return self.describe(symbol).value
