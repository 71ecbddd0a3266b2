"""The interface the scan engine uses to read a market, and the factory that picks one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from ..valuation.methods import Fundamentals
from .errors import UnusableAnswer
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
    """Where fundamentals come from: Yahoo (whichever market serves the chains) or the demo."""

    def fundamentals(self, symbol: str) -> Fundamentals:
        """The trailing figures of ``symbol`` (one request); raises ``MarketDataError``."""


class MarketProvider(Protocol):
    """A source of option chains (``yahoo``, ``marketdata`` or ``demo``)."""

    name: str

    def open(self, ticker: str, *, calls: bool = False) -> TickerFeed:
        """A feed for ``ticker``; cheap, makes no request. With ``calls`` its chains carry
        the calls too (for covered calls on held shares)."""


def require_live(chain: PutChain) -> PutChain:
    """``chain`` itself, unless it has puts and not one with a bid: then the market sent a
    closed-hours snapshot (zero bids, placeholder volatilities) and ``UnusableAnswer``."""
    if chain.puts and not any(quote.bid for quote in chain.puts):
        raise UnusableAnswer(
            f"the {chain.expiration.isoformat()} chain of {chain.ticker} is not live: "
            f"none of its {len(chain.puts)} puts has a bid"
        )
    return chain


def fundamentals_source(
    settings: Mapping[str, Any], provider: MarketProvider
) -> FundamentalsSource | None:
    """Where fundamentals come from: the provider itself when it has them (Yahoo, the demo);
    Yahoo when Market Data serves the chains, as its API has none; else None."""
    if hasattr(provider, "fundamentals"):
        return provider
    if getattr(provider, "name", None) == "marketdata":
        from .yahoo import YahooProvider

        return YahooProvider.from_settings(settings)
    return None


def create_provider(settings: Mapping[str, Any]) -> MarketProvider:
    """The provider named by ``MARKET_DATA`` in ``settings``."""
    if settings["MARKET_DATA"] == "yahoo":
        from .yahoo import YahooProvider

        return YahooProvider.from_settings(settings)
    if settings["MARKET_DATA"] == "marketdata":
        from .marketdata import MarketDataProvider

        return MarketDataProvider.from_settings(settings)
    from .demo import DemoProvider

    return DemoProvider.from_settings(settings)
