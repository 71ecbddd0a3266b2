"""The interface the scan engine uses to read a market, and the factory that picks one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from .models import PutChain


class TickerFeed(Protocol):
    """Option data of one ticker for the duration of one scan.

    ``expirations()`` makes at most one request, and that request also brings the
    nearest chain, so ``put_chain`` of the nearest expiration costs nothing more:
    E expirations cost E requests.
    """

    def expirations(self) -> list[date]:
        """All listed expirations, ascending."""

    def put_chain(self, expiration: date) -> PutChain:
        """The cleaned puts of one listed expiration, with the spot price."""


class MarketProvider(Protocol):
    """A source of option chains (``yahoo`` or ``demo``)."""

    name: str

    def open(self, ticker: str) -> TickerFeed:
        """A feed for ``ticker``; cheap, makes no request."""


def create_provider(settings: Mapping[str, Any]) -> MarketProvider:
    """The provider named by ``MARKET_DATA`` in ``settings``."""
    if settings["MARKET_DATA"] == "yahoo":
        from .yahoo import YahooProvider

        return YahooProvider.from_settings(settings)
    from .demo import DemoProvider

    return DemoProvider.from_settings(settings)
