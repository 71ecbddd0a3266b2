"""The interface the scan engine uses to read a market (``BaseProvider`` in ``base``
implements it; ``registry`` builds the provider that ``MARKET_DATA`` names)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from ..valuation.methods import Fundamentals
from .models import PutChain


class TickerFeed(Protocol):
    """Option data of one ticker for the duration of one scan.

    ``expirations()`` makes at most one request, and that request also brings the
    nearest chain, so ``put_chain`` of the nearest expiration costs nothing more:
    E expirations cost E requests (Market Data: one request for all of them).

    Failures are ``MarketDataError`` subclasses (see ``errors``): from ``expirations()``
    the ticker failed; from ``put_chain`` only that expiration did, and the others stand.

    ``credits`` is what the feed's requests cost so far, for a provider that bills per
    request (Market Data), else None.

    For the history, a feed may also have ``daily_closes(first, last)`` (the ticker's
    ``DailyBar`` list from ``first`` to ``last``, one request) and ``chain_from(day)`` (the
    chain of the first listed expiration on or after ``day``, enough of it for the ATM IV;
    None when none is listed that far): the scan measures HV20 and IV30 with whichever the
    feed has.
    """

    credits: int | None

    def expirations(self) -> list[date]:
        """All listed expirations, ascending."""

    def put_chain(self, expiration: date) -> PutChain:
        """The cleaned puts of one listed expiration, with the spot price (and its calls
        when the feed was opened with ``calls``)."""

    def next_earnings(self) -> date | None:
        """The ticker's next earnings date from today on (one request), None when none is
        known."""


class FundamentalsSource(Protocol):
    """Where fundamentals come from: a provider that has them (Yahoo, the demo)."""

    def fundamentals(self, symbol: str) -> Fundamentals:
        """The trailing figures of ``symbol`` (one request); raises ``MarketDataError``."""


class MarketProvider(Protocol):
    """A source of option chains: one of the registry's providers, or any object with a
    ``name`` and ``open`` (a test's stand-in, which has none of the capabilities)."""

    name: str

    def open(self, ticker: str, *, calls: bool = False) -> TickerFeed:
        """A feed for ``ticker``; cheap, makes no request. With ``calls`` its chains carry
        the calls too (for covered calls on held shares)."""
